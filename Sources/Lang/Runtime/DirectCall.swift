/// Calls of a top-level `fn` with positional arguments only, the shape of most calls in
/// scripts (and of every recursive call). The call site binds its target on first use and
/// then enters the frame without looking at names, defaults or an argument array.
extension Compiler {
    func directCall(_ g: Globals, _ slot: Int, _ args: [Expr], _ span: Span) -> Eval {
        let site = DirectSite(interp: interp, globals: g, slot: slot, argc: args.count, span: span)
        switch args.count {
        case 0:
            return site.build(NoArg())
        case 1:
            // One argument: read inline when it is a slot, a constant or `slot op integer`
            // (`fib(n - 1)`), so computing it costs no closure call.
            return withArgReader(site, args[0])
        case 2:
            // Slots and constants are read in place; other arguments run their closure.
            return specialize(site, operand(args[0]), operand(args[1]))
        default:
            return site.buildMany(ContiguousArray(args.map { Code(run: expr($0)) }))
        }
    }

    /// Calls `b.build` with the cheapest reader for argument `e`.
    func withArgReader<B: ReaderBuilder>(_ b: B, _ e: Expr) -> Eval {
        if case .binary(let op, let a, let c) = e.kind, let o = binOp(op), o == .add || o == .sub || o == .mul,
           case .literal(.int(let k)) = c.kind, let s = slotOperand(a) {
            switch s {
            case .local(let i): return b.build(SlotConstReader(slot: LocalReader(slot: i), op: o, k: k, at: SpanBox(e.span)))
            case .global(let g, let i): return b.build(SlotConstReader(slot: GlobalReader(globals: g, slot: i), op: o, k: k, at: SpanBox(e.span)))
            default: break
            }
        }
        switch operand(e) {
        case .local(let i): return b.build(LocalReader(slot: i))
        case .global(let g, let i): return b.build(GlobalReader(globals: g, slot: i))
        case .const(let v): return b.build(ConstReader(v))
        case .eval(let f): return b.build(EvalReader(eval: f))
        }
    }

    /// `e` as a plain variable slot, without compiling anything; nil for other expressions.
    func slotOperand(_ e: Expr) -> Operand? {
        guard case .name(let ref) = e.kind else { return nil }
        switch ref.resolution {
        case .local(let d) where !d.captured: return .local(d.slot)
        case .global(let d, false): return .global(globals, d.slot)
        default: return nil
        }
    }
}

/// Something built from one concrete reader.
protocol ReaderBuilder {
    func build<A: Reader>(_ a: A) -> Eval
}

/// The absent argument of a call with none.
struct NoArg: Reader {
    @inline(__always) func read(_ ctx: Ctx) throws -> Value { .nil }
    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? { nil }
    static var absent: Bool { true }
}

/// Where a direct call's callee lives and what the call looks like.
struct DirectSite: ReaderBuilder, PairBuilder {
    let interp: Interpreter
    let globals: Globals
    let slot: Int
    let argc: Int
    let span: Span

    /// No argument or one (`NoArg` stands for none). The closure captures the call's state
    /// object and the small reader, so calling it unpacks little.
    func build<A: Reader>(_ a: A) -> Eval {
        let call = DirectCall(self)
        return { ctx in
            let argBase = ctx.top
            guard let callee = call.callee ?? call.bind() else {
                return try call.general(ctx) { ctx in if !A.absent { try ctx.push(try a.read(ctx), call.at) } }
            }
            do {
                if !A.absent { try ctx.push(try a.read(ctx), call.at) }
                return try call.site.interp.enterFrame(callee, ctx, argBase: argBase, at: call.at)
            } catch { throw call.site.interp.unwound(error, ctx, argBase, call.site.span) }
        }
    }

    /// Two arguments.
    func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval {
        let call = DirectCall(self)
        return { ctx in
            let argBase = ctx.top
            guard let callee = call.callee ?? call.bind() else {
                return try call.general(ctx) { ctx in
                    try ctx.push(try l.read(ctx), call.at)
                    try ctx.push(try r.read(ctx), call.at)
                }
            }
            do {
                try ctx.push(try l.read(ctx), call.at)
                try ctx.push(try r.read(ctx), call.at)
                return try call.site.interp.enterFrame(callee, ctx, argBase: argBase, at: call.at)
            } catch { throw call.site.interp.unwound(error, ctx, argBase, call.site.span) }
        }
    }

    /// Three or more arguments, each its own closure.
    func buildMany(_ args: ContiguousArray<Code>) -> Eval {
        let call = DirectCall(self)
        return { ctx in
            let argBase = ctx.top
            guard let callee = call.callee ?? call.bind() else {
                return try call.general(ctx) { ctx in for a in args { try ctx.push(try a.run(ctx), call.at) } }
            }
            do {
                for a in args { try ctx.push(try a.run(ctx), call.at) }
                return try call.site.interp.enterFrame(callee, ctx, argBase: argBase, at: call.at)
            } catch { throw call.site.interp.unwound(error, ctx, argBase, call.site.span) }
        }
    }
}

/// A callee bound at a call site. Unowned: the module's globals keep the function alive
/// for as long as its code can run, so a call does no reference counting.
struct BoundCallee {
    unowned(unsafe) let proto: FnProto
    let code: Unmanaged<CodeBox>
    let frameSize: Int

    /// A script function with no captures (so `ctx.closure` need not change), no defaults
    /// to fill, no parameter cells to make and exactly `argc` parameters; nil for anything
    /// else (natives, defaults, arity errors), which takes the general path every time.
    init?(_ callee: Value, argc: Int) {
        guard case .function(let fn) = callee, let p = fn.proto, p.simple, fn.captures.isEmpty,
              p.paramNames.count == argc else { return nil }
        proto = p
        code = p.code
        frameSize = p.frameSize
    }
}

/// The state of one direct call site: where the callee lives, and the callee once bound.
final class DirectCall {
    let site: DirectSite
    /// The call's span by reference: the hot path then holds one pointer, not four words.
    let at: SpanBox
    var callee: BoundCallee?

    init(_ site: DirectSite) {
        self.site = site
        at = SpanBox(site.span)
    }

    /// The callee, bound on the first call (a top-level `fn`'s slot never changes once bound).
    @inline(never) func bind() -> BoundCallee? {
        callee = BoundCallee(site.globals.slots[site.slot], argc: site.argc)
        return callee
    }

    /// The general call, for callees the direct path does not take.
    @inline(never) func general(_ ctx: Ctx, _ pushArgs: (Ctx) throws -> Void) throws -> Value {
        try site.interp.callPushing(site.globals.slots[site.slot], ctx, argc: site.argc, span: site.span, pushArgs)
    }
}

extension Interpreter {
    /// The general call: `pushArgs` pushes `argc` positional arguments, then `invoke` binds them.
    func callPushing(_ f: Value, _ ctx: Ctx, argc: Int, span: Span, _ pushArgs: (Ctx) throws -> Void) throws -> Value {
        let argBase = ctx.top
        do {
            try pushArgs(ctx)
            return try invoke(f, ctx, argBase: argBase, argc: argc, names: [], span: span)
        } catch { throw unwound(error, ctx, argBase, span) }
    }

    /// Enters the frame of a bound callee (it has no captures: `ctx.closure` stays).
    @inline(__always)
    func enterFrame(_ c: BoundCallee, _ ctx: Ctx, argBase: Int, at: SpanBox) throws -> Value {
        try enterFrame(nil, Unmanaged.passUnretained(c.proto), c.frameSize, c.code, ctx, argBase: argBase, at: at)
    }
}
