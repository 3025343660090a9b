/// The resolver's walk over statements and expressions.
extension Resolver {
    mutating func resolveStmt(_ s: Stmt, topLevel: Bool = false) {
        switch s.kind {
        case .expr(let e):
            resolveExpr(e)
        case .binding(let d, let value):
            if d.kind == .param {
                if !(scope.isModule && scope.blocks.count == 1) {
                    error("'param' is only allowed at the top level of a script", s.span)
                } else {
                    module.params.removeAll { $0.name == d.name }
                    module.params.append(d)
                }
            }
            resolveExpr(value)
            declare(d)
        case .fn(let d, let fn):
            if !topLevel { declare(d) }  // top-level functions were hoisted
            resolveFunction(fn)
        case .assign(let target, let op, let value):
            resolveExpr(value)
            let ref: NameRef
            switch target {
            case .name(let r): ref = r
            case .index(let r, let items): ref = r; resolveIndex(items)
            case .field(let r, _): ref = r
            }
            lookup(ref)
            checkAssignable(ref, op)
        case .ret(let e):
            if scope.isModule { error("'return' outside a function", s.span) }
            if let e { resolveExpr(e) }
        case .brk, .cont:
            if scope.loopDepth == 0 {
                error("'\(s.kind.isBreak ? "break" : "continue")' outside a loop", s.span)
            }
        case .forIn(let d, let iter, let body):
            resolveExpr(iter)
            scope.blocks.append([:])
            declare(d)
            scope.loopDepth += 1
            resolveBlockStmts(body)
            scope.loopDepth -= 1
            scope.blocks.removeLast()
        case .whileLoop(let cond, let body):
            resolveExpr(cond)
            scope.loopDepth += 1
            resolveBlock(body)
            scope.loopDepth -= 1
        case .importModule(let imp):
            if !(scope.isModule && scope.blocks.count == 1) {
                error("'import' is only allowed at the top level", s.span)
            }
            declare(imp.decl)
        }
    }

    mutating func checkAssignable(_ ref: NameRef, _ op: String) {
        let decl: NameDecl
        switch ref.resolution {
        case .local(let d), .global(let d, _): decl = d
        case .capture:
            guard let (_, d) = find(ref.name, in: scope) else { return }
            decl = d
        case .builtin: error("cannot assign to builtin '\(ref.name)'", ref.span); return
        case .unresolved: return
        }
        if !decl.mutable {
            let how = decl.kind == .let ? "it was declared with 'let' (use 'var' to allow '\(op)')" : "it is a \(decl.kind.rawValue)"
            error("cannot assign to '\(ref.name)': \(how)", ref.span)
        }
    }

    mutating func resolveBlock(_ b: Block) {
        scope.blocks.append([:])
        resolveBlockStmts(b)
        scope.blocks.removeLast()
    }

    mutating func resolveBlockStmts(_ b: Block) {
        // Functions in a block may call each other: declare them all first.
        for s in b.stmts { if case .fn(let d, _) = s.kind { declare(d) } }
        for s in b.stmts {
            if case .fn(_, let fn) = s.kind { resolveFunction(fn) } else { resolveStmt(s) }
        }
    }

    mutating func resolveFunction(_ fn: FnDecl) {
        let outer = scope
        scope = FunctionScope(parent: outer)
        var seen = Set<String>()
        for p in fn.params {
            // Defaults run in the callee's frame, after the parameters before them.
            if let d = p.defaultValue { resolveExpr(d) }
            if seen.insert(p.decl.name).inserted { declare(p.decl) } else {
                error("duplicate parameter '\(p.decl.name)'", p.decl.span)
                p.decl.slot = scope.frameSize
                scope.frameSize += 1
            }
        }
        if case .block(let b) = fn.body.kind { resolveBlockStmts(b) } else { resolveExpr(fn.body) }
        fn.frameSize = scope.frameSize
        fn.captures = scope.captures
        scope = outer
    }

    mutating func resolveIndex(_ items: [IndexItem]) {
        for it in items {
            switch it {
            case .single(let e): resolveExpr(e)
            case .slice(let a, let b, let c): for e in [a, b, c] { if let e { resolveExpr(e) } }
            }
        }
    }

    mutating func resolveExpr(_ e: Expr) {
        switch e.kind {
        case .literal: break
        case .interpolated(let parts):
            for p in parts { if case .expr(let x) = p { resolveExpr(x) } }
        case .name(let r): lookup(r)
        case .list(let items):
            for it in items {
                switch it { case .item(let x), .spread(let x): resolveExpr(x) }
            }
        case .record(let items):
            for it in items {
                switch it { case .field(_, let x, _), .spread(let x): resolveExpr(x) }
            }
        case .unary(_, let x): resolveExpr(x)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            resolveExpr(a)
            resolveExpr(b)
        case .call(let callee, let args):
            resolveExpr(callee)
            checkArgs(args)
        case .method(let recv, _, let args, let fallback):
            resolveExpr(recv)
            checkArgs(args)
            // The fallback function is optional: a record field or native method may answer.
            if let (res, _) = find(fallback.name, in: scope) { fallback.resolution = res }
            else if let d = hoisted[fallback.name] ?? module.visible[fallback.name], !scope.isModule || d.kind == .fn {
                fallback.resolution = .global(d, checked: d.kind != .fn)
            } else if let v = builtin(fallback.name) { fallback.resolution = .builtin(v) }
        case .field(let x, _): resolveExpr(x)
        case .index(let x, let items):
            resolveExpr(x)
            resolveIndex(items)
        case .ifElse(let c, let then, let other):
            resolveExpr(c)
            resolveBlock(then)
            if let other { resolveExpr(other) }
        case .block(let b): resolveBlock(b)
        case .function(let fn):
            let loops = scope.loopDepth
            resolveFunction(fn)
            scope.loopDepth = loops
        }
    }

    mutating func checkArgs(_ args: [Arg]) {
        var names = Set<String>()
        for a in args {
            if let n = a.name, !names.insert(n).inserted { error("argument '\(n)' given twice", a.value.span) }
            resolveExpr(a.value)
        }
    }
}

extension StmtKind {
    var isBreak: Bool { if case .brk = self { return true } else { return false } }
}
