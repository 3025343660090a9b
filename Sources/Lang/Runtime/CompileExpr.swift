/// Expressions to closures.
extension Compiler {
    func expr(_ e: Expr) -> Eval {
        let span = e.span
        switch e.kind {
        case .literal(let v):
            return { _ in v }
        case .interpolated(let parts):
            let pieces: [Eval] = parts.map { p in
                switch p {
                case .text(let s): let v = Value.string(s); return { _ in v }
                case .expr(let x): return expr(x)
                }
            }
            return { ctx in
                var out = ""
                for p in pieces {
                    let t = try p(ctx).text
                    try Ops.limit(at: span) { try Limits.checkString(Limits.sum(out.utf8.count, t.utf8.count), "string interpolation") }
                    out += t
                }
                return .string(out)
            }
        case .name(let ref):
            return read(ref)
        case .list(let items):
            return list(items)
        case .record(let items):
            return record(items, span)
        case .unary(let op, let x):
            let v = expr(x)
            if op == "not" {
                return { ctx in
                    let x = try v(ctx)
                    guard case .bool(let b) = x else {
                        // A native operand (a column expression) may define `not` itself.
                        if case .native(let n) = x, let r = try nativeLogic({ try n.unary("not") }, span) { return r }
                        throw MLWError.runtime("'not' needs a bool, got \(x.typeName)", at: span)
                    }
                    return .bool(!b)
                }
            }
            return { ctx in try Ops.negate(try v(ctx), at: span) }
        case .binary(let op, let a, let b):
            if let o = binOp(op) {
                return specialize(ArithBuilder(op: o, span: span), operand(a), operand(b))
            }
            return binary(op, expr(a), expr(b), span)
        case .and(let a, let b):
            let l = expr(a), r = expr(b)
            return { ctx in
                let lv = try l(ctx)
                guard case .bool(let x) = lv else {
                    // A native left operand (a column expression) builds a bigger expression.
                    if case .native(let n) = lv, let v = try nativeLogic({ try n.binary("and", try r(ctx), reversed: false) }, span) { return v }
                    throw boolError("and", lv, a.span)
                }
                if !x { return .bool(false) }
                let rv = try r(ctx)
                guard case .bool(let y) = rv else { throw boolError("and", rv, b.span) }
                return .bool(y)
            }
        case .or(let a, let b):
            let l = expr(a), r = expr(b)
            return { ctx in
                let lv = try l(ctx)
                guard case .bool(let x) = lv else {
                    // A native left operand (a column expression) builds a bigger expression.
                    if case .native(let n) = lv, let v = try nativeLogic({ try n.binary("or", try r(ctx), reversed: false) }, span) { return v }
                    throw boolError("or", lv, a.span)
                }
                if x { return .bool(true) }
                let rv = try r(ctx)
                guard case .bool(let y) = rv else { throw boolError("or", rv, b.span) }
                return .bool(y)
            }
        case .call(let callee, let args):
            return call(callee, args, span)
        case .method(let recv, let name, let args, let fallback):
            return method(expr(recv), name, args, fallback, span)
        case .field(let x, let name):
            let v = expr(x)
            return { ctx in try Ops.field(try v(ctx), name, at: span) }
        case .index(let x, let items):
            let v = expr(x), idx = indexItems(items)
            return { ctx in try Ops.index(try v(ctx), try idx(ctx), at: span) }
        case .ifElse(let cond, let then, let other):
            return ifElse(cond, then, other)
        case .block(let b):
            return block(b)
        case .function(let fn):
            return function(fn)
        }
    }


    /// Binary operators from closures (compound assignment, `/`, `**`...): an integer fast
    /// path for + - *, everything else through `Ops.binary`.
    func binary(_ op: String, _ l: @escaping Eval, _ r: @escaping Eval, _ span: Span) -> Eval {
        if let o = binOp(op) {
            return specialize(ArithBuilder(op: o, span: span), .eval(l), .eval(r))
        }
        return { ctx in try Ops.binary(op, try l(ctx), try r(ctx), at: span) }
    }

    func list(_ items: [ListItem]) -> Eval {
        let simple = items.allSatisfy { if case .item = $0 { return true } else { return false } }
        if simple {
            let evals = items.map { item -> Eval in if case .item(let e) = item { return expr(e) } else { fatalError() } }
            return { ctx in
                var out: [Value] = []
                out.reserveCapacity(evals.count)
                for e in evals { out.append(try e(ctx)) }
                return .list(out)
            }
        }
        let parts: [(Bool, Eval, Span)] = items.map { item in
            switch item {
            case .item(let e): return (false, expr(e), e.span)
            case .spread(let e): return (true, expr(e), e.span)
            }
        }
        return { ctx in
            var out: [Value] = []
            for (spread, e, span) in parts {
                let v = try e(ctx)
                if !spread { out.append(v); continue }
                guard case .list(let xs) = v else { throw MLWError.runtime("'...' in a list needs a list, got \(v.typeName)", at: span) }
                out += xs
            }
            return .list(out)
        }
    }

    func record(_ items: [RecordItem], _ span: Span) -> Eval {
        let parts: [(String?, Eval, Span)] = items.map { item in
            switch item {
            case .field(let k, let e, let s): return (k, expr(e), s)
            case .spread(let e): return (nil, expr(e), e.span)
            }
        }
        return { ctx in
            var keys: [String] = [], values: [Value] = []
            var pos: [String: Int] = [:]
            func put(_ k: String, _ v: Value) {
                if let i = pos[k] { values[i] = v } else { pos[k] = keys.count; keys.append(k); values.append(v) }
            }
            for (key, e, s) in parts {
                let v = try e(ctx)
                if let key { put(key, v); continue }
                guard case .record(let r) = v else { throw MLWError.runtime("'...' in a record needs a record, got \(v.typeName)", at: s) }
                for (k, x) in zip(r.keys, r.values) { put(k, x) }
            }
            return .record(Record(keys: keys, values: values))
        }
    }

    func indexItems(_ items: [IndexItem]) -> (Ctx) throws -> [IndexValue] {
        let parts: [(Ctx) throws -> IndexValue] = items.map { item in
            switch item {
            case .single(let e):
                let v = expr(e)
                return { ctx in .single(try v(ctx)) }
            case .slice(let a, let b, let c):
                let evs = [a, b, c].map { $0.map { (expr($0), $0.span) } }
                return { ctx in
                    var out: [Int?] = []
                    for ev in evs {
                        guard let (f, s) = ev else { out.append(nil); continue }
                        switch try f(ctx) {
                        case .int(let i): out.append(i)
                        case .nil: out.append(nil)
                        case let v: throw MLWError.runtime("slice bounds must be integers, got \(v.typeName)", at: s)
                        }
                    }
                    return .slice(out[0], out[1], out[2])
                }
            }
        }
        if parts.count == 1 {
            let p = parts[0]
            return { ctx in [try p(ctx)] }
        }
        return { ctx in try parts.map { try $0(ctx) } }
    }

    /// A function literal: at run time, captures the cells it needs and makes a closure.
    func function(_ fn: FnDecl) -> Eval {
        let boxed = fn.params.enumerated().compactMap { $0.element.decl.captured ? $0.offset : nil }
        let proto = FnProto(name: fn.name, paramNames: fn.params.map(\.decl.name),
                            defaults: fn.params.map { $0.defaultValue.map(expr) }, boxedParams: boxed,
                            frameSize: fn.frameSize, captures: fn.captures, body: expr(tailReturn(fn.body)), span: fn.span)
        proto.sourceText = sourceText(fn)
        let sources = fn.captures
        if sources.isEmpty {
            let f = Value.function(Function(proto: proto, captures: []))
            return { _ in f }
        }
        return { ctx in
            var cells: [Cell] = []
            cells.reserveCapacity(sources.count)
            for s in sources {
                switch s {
                case .local(let d):
                    if case .cell(let c) = ctx.stack[ctx.base + d.slot] { cells.append(c) } else {
                        // Declared later in the block: make the cell now; the declaration fills it.
                        let c = Cell(.undefined)
                        ctx.stack[ctx.base + d.slot] = .cell(c)
                        cells.append(c)
                    }
                case .capture(let i):
                    cells.append(ctx.capture(i))
                }
            }
            return .function(Function(proto: proto, captures: cells))
        }
    }
}

func boolError(_ op: String, _ v: Value, _ span: Span) -> MLWError {
    .runtime("'\(op)' needs bool operands, got \(v.typeName)", at: span)
}

extension Compiler {
    /// The text of a function from its start to the end of its body block (or its line).
    func sourceText(_ fn: FnDecl) -> String {
        let f = file
        func offset(_ s: Span) -> Int? {
            guard s.line >= 1, s.line <= f.lineStarts.count else { return nil }
            return f.lineStarts[s.line - 1] + s.col - 1
        }
        guard let start = offset(fn.span) else { return "" }
        var end = start
        if case .block(let b) = fn.body.kind, let e = offset(b.end) { end = e + 1 }
        else { end = fn.span.line < f.lineStarts.count ? f.lineStarts[fn.span.line] : f.text.count }
        guard start < end, end <= f.text.count else { return "" }
        return String(decoding: f.text[start..<end], as: UTF8.self)
    }
}

/// `and` / `or` / `not` on a native left operand (a column expression builds a bigger
/// expression instead of branching); nil when the native type does not define it.
func nativeLogic(_ apply: () throws -> Value?, _ span: Span) throws -> Value? {
    do { return try apply() } catch { throw MLWError.located(error, at: span) }
}
