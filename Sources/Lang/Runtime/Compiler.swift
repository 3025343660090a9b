/// Turns resolved syntax into closures (`Eval`). Names are already slots, so variable
/// access is one load; hot shapes (integer arithmetic and comparison, local reads) get
/// their own closures.
final class Compiler {
    unowned let interp: Interpreter
    let globals: Globals
    let file: SourceFile

    init(interp: Interpreter, globals: Globals, file: SourceFile) {
        self.interp = interp
        self.globals = globals
        self.file = file
    }

    /// A module body: top-level functions are bound first (so they can be called from
    /// anywhere), then the statements run in order; the value is the last statement's.
    func program(_ stmts: [Stmt], module: ModuleScope) -> Eval {
        globals.ensure(module.globalCount + 1)
        var hoisted: [Eval] = []
        var rest: [Eval] = []
        for s in stmts {
            if case .fn(let d, let fn) = s.kind, d.isGlobal {
                hoisted.append(store(d, function(fn), declaring: true))
            } else {
                rest.append(stmt(s))
            }
        }
        let all = ContiguousArray((hoisted + rest).map { Code(run: $0) })
        return { ctx in
            var last: Value = .nil
            for s in all {
                if case .list = last { Value.dropDeep(&last) }  // the previous statement's value
                last = try s.run(ctx)
                if ctx.ctl != Control.none { ctx.ctl = Control.none; return .nil }
            }
            return last
        }
    }

    // MARK: statements

    func stmt(_ s: Stmt) -> Eval {
        switch s.kind {
        case .expr(let e):
            return expr(e)
        case .binding(let d, let value):
            let v = expr(value)
            if d.kind == .param {
                let interp = self.interp, name = d.name, span = d.span
                let g = globals, slot = d.slot
                return { ctx in
                    g.slots[slot] = try interp.paramValue(name, default: try v(ctx), at: span)
                    return .nil
                }
            }
            return store(d, v, declaring: true)
        case .fn(let d, let fn):
            return store(d, function(fn), declaring: true)
        case .assign(let target, let op, let value):
            if case .name(let ref) = target, let fused = fusedAssign(ref, op, value, s.span) { return fused }
            return assign(target, op, expr(value), s.span)
        case .ret(let e):
            // `return n`: a variable or constant is read in place.
            let v = e.map(branch) ?? Branch(constant: .nil)
            return { ctx in
                ctx.retval = try v.run(ctx)
                ctx.ctl = Control.returning
                return .nil
            }
        case .brk:
            return { ctx in ctx.ctl = Control.breakLoop; return .nil }
        case .cont:
            return { ctx in ctx.ctl = Control.continueLoop; return .nil }
        case .forIn(let d, let iter, let body):
            return forLoop(d, expr(iter), block(body, newScope: false), iter.span)
        case .whileLoop(let cond, let body):
            if let fused = fusedWhile(cond, body) { return fused }
            return whileLoop(condition(cond, "'while'"), body, cond.span)
        case .importModule(let imp):
            let interp = self.interp, file = self.file
            let assign = store(imp.decl, { ctx in try interp.importModule(imp, from: file) }, declaring: true)
            return assign
        }
    }

    /// Statements in order; the value is the last one's. A pending break/continue/return
    /// stops the block and is left for the enclosing loop or call to handle.
    func block(_ b: Block, newScope: Bool = true) -> Eval {
        // Cells for functions in this block that inner closures capture, made up front so
        // mutually recursive local functions can capture each other.
        let boxedFns: [Int] = b.stmts.compactMap { s in
            if case .fn(let d, _) = s.kind, d.captured, !d.isGlobal { return d.slot }
            return nil
        }
        let seq: Eval
        switch b.stmts.count {
        case 0: seq = { _ in .nil }
        case 1: seq = stmt(b.stmts[0])
        case 2:
            let a = stmt(b.stmts[0]), c = stmt(b.stmts[1])
            seq = { ctx in
                discard(try a(ctx))
                if ctx.ctl != Control.none { return .nil }
                return try c(ctx)
            }
        default:
            // Closures in an array are stored generically and called through a thunk; a
            // non-generic struct keeps them direct.
            let stmts = ContiguousArray(b.stmts.map { Code(run: stmt($0)) })
            seq = { ctx in
                var last: Value = .nil
                for s in stmts {
                    if case .list = last { Value.dropDeep(&last) }  // the previous statement's value
                    last = try s.run(ctx)
                    if ctx.ctl != Control.none { return .nil }
                }
                return last
            }
        }
        if boxedFns.isEmpty { return seq }
        return { ctx in
            for slot in boxedFns { ctx.stack[ctx.base + slot] = .cell(Cell(.undefined)) }
            return try seq(ctx)
        }
    }

    /// The loop runs short bodies' statements itself, saving a block call per iteration.
    func whileLoop(_ cond: @escaping Test, _ b: Block, _ span: Span) -> Eval {
        let hasBlockFns = b.stmts.contains { if case .fn = $0.kind { return true } else { return false } }
        if !hasBlockFns && b.stmts.count == 2 {
            let s1 = stmt(b.stmts[0]), s2 = stmt(b.stmts[1])
            return { ctx in
                while try cond(ctx) {
                    discard(try s1(ctx))
                    if ctx.ctl == Control.none { discard(try s2(ctx)) }
                    if try ctx.endOfIteration(span) { break }
                }
                return .nil
            }
        }
        let body = block(b, newScope: false)
        return { ctx in
            while try cond(ctx) {
                discard(try body(ctx))
                if try ctx.endOfIteration(span) { break }
            }
            return .nil
        }
    }

    func forLoop(_ d: NameDecl, _ iter: @escaping Eval, _ body: @escaping Eval, _ span: Span) -> Eval {
        let set = setter(d, declaring: true)
        return { ctx in
            let items: [Value]
            switch try iter(ctx) {
            case .list(let xs): items = xs
            case .string(let s): items = s.map { .string(String($0)) }
            case .record(let r): items = r.keys.map { .string($0) }
            case let other:
                throw MLWError.runtime("cannot iterate over \(other.typeName) (expected a list, string or record)", at: span)
            }
            for x in items {
                try set(ctx, x)
                discard(try body(ctx))
                if try ctx.endOfIteration(span) { break }
            }
            return .nil
        }
    }

    // MARK: variables

    /// Code that evaluates `value` and stores it into `d`'s slot; its value is nil.
    func store(_ d: NameDecl, _ value: @escaping Eval, declaring: Bool) -> Eval {
        let set = setter(d, declaring: declaring)
        return { ctx in
            try set(ctx, try value(ctx))
            return .nil
        }
    }

    typealias Setter = (Ctx, Value) throws -> Void

    /// Writes a declared variable. A captured local gets a fresh cell at its declaration
    /// (so each loop iteration's closures see their own variable), except a block function,
    /// whose cell was made at block entry.
    func setter(_ d: NameDecl, declaring: Bool) -> Setter {
        let slot = d.slot
        if d.isGlobal {
            let g = globals
            return { _, v in storeSlot(g.slots + slot, v) }
        }
        if !d.captured {
            return { ctx, v in storeSlot(ctx.stack + (ctx.base &+ slot), v) }
        }
        if declaring && d.kind != .fn {
            return { ctx, v in ctx.stack[ctx.base &+ slot] = .cell(Cell(v)) }
        }
        return { ctx, v in
            if case .cell(let c) = ctx.stack[ctx.base &+ slot] { c.value = v } else { ctx.stack[ctx.base &+ slot] = .cell(Cell(v)) }
        }
    }

    func read(_ ref: NameRef) -> Eval {
        let name = ref.name, span = ref.span
        switch ref.resolution {
        case .local(let d):
            let slot = d.slot
            if !d.captured { return { ctx in ctx.stack[ctx.base &+ slot] } }
            return { ctx in
                guard case .cell(let c) = ctx.stack[ctx.base &+ slot], !isUndefined(c.value) else {
                    throw MLWError.runtime("'\(name)' is used before its definition", at: span)
                }
                return c.value
            }
        case .capture(let i):
            return { ctx in
                let v = ctx.capture(i).value
                if isUndefined(v) { throw MLWError.runtime("'\(name)' is used before its definition", at: span) }
                return v
            }
        case .global(let d, let checked):
            let g = globals, slot = d.slot
            if !checked { return { _ in g.slots[slot] } }
            return { _ in
                let v = g.slots[slot]
                if isUndefined(v) { throw MLWError.runtime("'\(name)' is used before its definition on line \(d.span.line)", at: span) }
                return v
            }
        case .builtin(let v):
            return { _ in v }
        case .unresolved:
            return { _ in throw MLWError.runtime("unknown name '\(name)'", at: span) }
        }
    }

    /// Writes an existing variable (assignment, not declaration).
    func write(_ ref: NameRef) -> Setter {
        switch ref.resolution {
        case .local(let d), .global(let d, _): return setter(d, declaring: false)
        case .capture(let i): return { ctx, v in ctx.capture(i).value = v }
        default:
            let name = ref.name, span = ref.span
            return { _, _ in throw MLWError.runtime("cannot assign to '\(name)'", at: span) }
        }
    }

    func assign(_ target: AssignTarget, _ op: String, _ value: @escaping Eval, _ span: Span) -> Eval {
        let binop = op == "=" ? nil : String(op.dropLast())
        func combined(_ old: @escaping Eval) -> Eval {
            guard let binop else { return value }
            return binary(binop, old, value, span)
        }
        switch target {
        case .name(let ref):
            // `x = e` and `x += e` on a plain slot: compute and store in one closure.
            var v = value
            if let binop, let o = binOp(binop), case .local = ref.resolution {
                v = specialize(ArithBuilder(op: o, span: span), operandOf(ref), .eval(value))
            } else if let binop, let o = binOp(binop), case .global = ref.resolution {
                v = specialize(ArithBuilder(op: o, span: span), operandOf(ref), .eval(value))
            } else {
                v = combined(read(ref))
            }
            switch ref.resolution {
            case .local(let d) where !d.captured:
                let slot = d.slot, val = v
                return { ctx in
                    let x = try val(ctx)
                    storeSlot(ctx.stack + (ctx.base &+ slot), x)
                    return .nil
                }
            case .global(let d, _):
                let g = globals, slot = d.slot, val = v
                return { ctx in
                    let x = try val(ctx)
                    storeSlot(g.slots + slot, x)
                    return .nil
                }
            default:
                let set = write(ref), val = v
                return { ctx in try set(ctx, try val(ctx)); return .nil }
            }
        case .index(let ref, let items):
            let get = read(ref), set = write(ref), idx = indexItems(items), v = value, bop = binop
            return { ctx in
                let container = try get(ctx)
                let keys = try idx(ctx)
                var newValue = try v(ctx)
                if let bop { newValue = try Ops.binary(bop, try Ops.index(container, keys, at: span), newValue, at: span) }
                try set(ctx, try Ops.setIndex(container, keys, newValue, at: span))
                return .nil
            }
        case .field(let ref, let name):
            let get = read(ref), set = write(ref), v = value, bop = binop
            return { ctx in
                guard case .record(let r) = try get(ctx) else {
                    throw MLWError.runtime("cannot set field '\(name)' on \(try get(ctx).typeName)", at: span)
                }
                var newValue = try v(ctx)
                if let bop { newValue = try Ops.binary(bop, try Ops.field(.record(r), name, at: span), newValue, at: span) }
                try set(ctx, .record(r.setting(name, newValue)))
                return .nil
            }
        }
    }
}

/// A compiled statement held in an array (see `block`).
struct Code {
    let run: Eval
}

@inline(__always) func isUndefined(_ v: Value) -> Bool {
    if case .undefined = v { return true }
    return false
}

extension Ctx {
    /// After a loop body: handles break/continue (a pending `return` also leaves the loop
    /// and stays pending for the call), and polls for Ctrl-C every 1024 iterations.
    /// True when the loop must stop.
    @inline(__always) func endOfIteration(_ span: Span) throws -> Bool {
        if ctl != Control.none {
            if ctl == Control.returning { return true }
            let stop = ctl == Control.breakLoop
            ctl = Control.none
            if stop { return true }
        }
        tick &-= 1
        if tick <= 0 { try poll(span) }
        return false
    }
}
