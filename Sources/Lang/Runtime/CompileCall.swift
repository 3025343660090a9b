/// Calls. Arguments are pushed on the value stack and become the callee's first slots,
/// so a script call allocates nothing.
extension Compiler {
    func call(_ calleeExpr: Expr, _ args: [Arg], _ span: Span) -> Eval {
        let names = args.compactMap(\.name)
        if names.isEmpty, case .name(let ref) = calleeExpr.kind, case .global(let d, false) = ref.resolution, d.kind == .fn {
            return directCall(globals, d.slot, args.map(\.value), span)
        }
        let callee = expr(calleeExpr)
        // Closures kept in arrays are wrapped in `Code`, so calling one needs no thunk.
        let positional = ContiguousArray(args.filter { $0.name == nil }.map { Code(run: expr($0.value)) })
        let namedEvals = ContiguousArray(args.filter { $0.name != nil }.map { Code(run: expr($0.value)) })
        let interp = self.interp
        let argc = positional.count
        if names.isEmpty && argc == 1 {
            let a0 = positional[0].run
            return { ctx in
                let f = try callee(ctx)
                let argBase = ctx.top
                do {
                    try ctx.push(try a0(ctx), span)
                    return try interp.invoke(f, ctx, argBase: argBase, argc: 1, names: [], span: span)
                } catch { throw interp.unwound(error, ctx, argBase, span) }
            }
        }
        return { ctx in
            let f = try callee(ctx)
            let argBase = ctx.top
            do {
                for a in positional { try ctx.push(try a.run(ctx), span) }
                for a in namedEvals { try ctx.push(try a.run(ctx), span) }
                return try interp.invoke(f, ctx, argBase: argBase, argc: argc, names: names, span: span)
            } catch { throw interp.unwound(error, ctx, argBase, span) }
        }
    }

    /// `recv.name(args)`: record field (module member) first, then a native method, then
    /// the function `name` in scope with `recv` as its first argument.
    func method(_ recv: @escaping Eval, _ name: String, _ args: [Arg], _ fallback: NameRef, _ span: Span) -> Eval {
        let positional = ContiguousArray(args.filter { $0.name == nil }.map { Code(run: expr($0.value)) })
        let namedEvals = ContiguousArray(args.filter { $0.name != nil }.map { Code(run: expr($0.value)) })
        let names = args.compactMap(\.name)
        let interp = self.interp
        let argc = positional.count
        var fallbackFn: Eval?
        if case .unresolved = fallback.resolution {} else { fallbackFn = read(fallback) }
        return { ctx in
            let r = try recv(ctx)
            var f: Value
            var withSelf = true
            if case .record(let rec) = r, let member = rec[name] {
                f = member
                withSelf = false
            } else if case .native(let n) = r, let m = n.method(name) {
                f = .function(Function(native: m))
            } else if let fallbackFn {
                f = try fallbackFn(ctx)
            } else {
                throw MLWError.runtime(Ops.noMember(r, name, method: true, also: interp.builtinNames), at: span)
            }
            let argBase = ctx.top
            do {
                if withSelf { try ctx.push(r, span) }
                for a in positional { try ctx.push(try a.run(ctx), span) }
                for a in namedEvals { try ctx.push(try a.run(ctx), span) }
                return try interp.invoke(f, ctx, argBase: argBase, argc: argc + (withSelf ? 1 : 0), names: names, span: span)
            } catch { throw interp.unwound(error, ctx, argBase, span) }
        }
    }
}

extension Ctx {
    @inline(__always) func push<S: SpanSource>(_ v: Value, _ at: S) throws {
        if top >= capacity, !grow(to: top + 1) { throw stackFull(at.span) }
        // Slots at and above `top` always hold nil, so there is nothing to release.
        (stack + top).initialize(to: v)
        top &+= 1
    }

    @inline(never) func stackFull(_ span: Span) -> MLWError {
        MLWError.runtime("stack overflow: the value stack is full", at: span)
    }

    @inline(never) func tooDeep(_ span: Span) -> MLWError {
        MLWError.runtime("stack overflow: more than \(maxDepth) nested calls", at: span)
    }

    /// A runtime error leaving a script function gains a traceback line for the call.
    @inline(never) func traced(_ error: Error, _ proto: Unmanaged<FnProto>, _ span: Span) -> Error {
        guard var e = error as? MLWError else { return error }
        if e.kind == .runtime && e.trace.count < 100 {
            e.trace.append(TraceFrame(function: proto.takeUnretainedValue().name, span: span))
        }
        ctl = Control.none
        return e
    }
}

extension Interpreter {
    /// Clears what a failed call pushed, and converts native failures to located errors.
    @inline(never) func unwound(_ error: Error, _ ctx: Ctx, _ argBase: Int, _ span: Span) -> Error {
        ctx.unwind(to: argBase)
        return MLWError.located(error, at: span)
    }

    /// Runs `f` on the `argc` values at `argBase` (the last `names.count` are named).
    func invoke(_ f: Value, _ ctx: Ctx, argBase: Int, argc: Int, names: [String], span: Span) throws -> Value {
        guard case .function(let fn) = f else {
            if case .native(let n) = f, let nf = n.callable {
                var positional: [Value] = [f]
                for i in 0..<argc { positional.append(ctx.stack[argBase + i]) }
                var named: [(String, Value)] = []
                for (j, name) in names.enumerated() { named.append((name, ctx.stack[argBase + argc + j])) }
                ctx.unwind(to: argBase)
                return try callNative(Function(native: nf), positional, named)
            }
            throw MLWError.runtime("cannot call a value of type \(f.typeName)", at: span)
        }
        if let proto = fn.proto {
            return try callScript(fn, proto, ctx, argBase: argBase, argc: argc, names: names, span: span)
        }
        // Native: gather into arrays and bind by the function's table entry.
        var positional: [Value] = []
        positional.reserveCapacity(argc)
        for i in 0..<argc { positional.append(ctx.stack[argBase + i]) }
        var named: [(String, Value)] = []
        for (j, n) in names.enumerated() { named.append((n, ctx.stack[argBase + argc + j])) }
        ctx.unwind(to: argBase)
        // An argument may be the last reference to a deep chain of lists (a temporary
        // such as `len(reduce(..., |acc, x| [acc], []))`): free it without recursion.
        defer { dropArguments(&positional) }
        return try callNative(fn, positional, named)
    }

    func callNative(_ fn: Function, _ positional: [Value], _ named: [(String, Value)]) throws -> Value {
        guard let native = fn.pickNative(first: positional.first) else {
            throw NativeError("'\(fn.name)' is not callable")
        }
        let args = try Args.bind(native, positional: positional, named: named, interpreter: self)
        return try native.impl(args)
    }

    func callScript(_ fn: Function, _ proto: FnProto, _ ctx: Ctx, argBase: Int, argc: Int, names: [String], span: Span) throws -> Value {
        let nparams = proto.paramNames.count
        if names.isEmpty && argc == nparams && proto.simple {
            return try enterFrame(fn, proto, ctx, argBase: argBase, span: span)
        }
        if !names.isEmpty { try arrangeNamed(proto, ctx, argBase: argBase, argc: argc, names: names, span: span) }
        else if argc > nparams {
            throw MLWError.runtime("too many arguments to '\(proto.name)': expected at most \(nparams), got \(argc)", at: span)
        }
        let given = names.isEmpty ? argc : nparams
        // Defaults run in the callee's frame, so they see the parameters before them.
        return try enterFrame(fn, proto, ctx, argBase: argBase, span: span) { ctx in
            for i in 0..<nparams where i >= given || isUndefined(ctx.stack[argBase + i]) {
                guard let d = proto.defaults[i] else {
                    throw MLWError.runtime("missing argument '\(proto.paramNames[i])' to '\(proto.name)'", at: span)
                }
                ctx.stack[argBase + i] = try d(ctx)
            }
            for i in proto.boxedParams { ctx.stack[argBase + i] = .cell(Cell(ctx.stack[argBase + i])) }
        }
    }

    /// Pushes a frame over the arguments at `argBase`, runs the body, pops the frame.
    @inline(__always)
    func enterFrame(_ fn: Function, _ proto: FnProto, _ ctx: Ctx, argBase: Int, span: Span,
                    prologue: ((Ctx) throws -> Void)? = nil) throws -> Value {
        try enterFrame(Unmanaged.passUnretained(fn), Unmanaged.passUnretained(proto), proto.frameSize, proto.code,
                       ctx, argBase: argBase, at: span, prologue: prologue)
    }

    /// The frame entry proper, on unretained references (the caller keeps them alive), so a
    /// call does no reference counting. `closure` is nil for a function without captures
    /// (every top-level `fn`): nothing in its body reads `ctx.closure`, so it is left as is.
    /// Error paths are outlined to keep this inlined code small.
    @inline(__always)
    func enterFrame<S: SpanSource>(_ fn: Unmanaged<Function>?, _ proto: Unmanaged<FnProto>, _ frameSize: Int, _ code: Unmanaged<CodeBox>,
                    _ ctx: Ctx, argBase: Int, at: S, prologue: ((Ctx) throws -> Void)? = nil) throws -> Value {
        let frameTop = argBase &+ frameSize
        guard frameTop <= ctx.capacity || ctx.grow(to: frameTop), ctx.depth < ctx.maxDepth else { throw ctx.tooDeep(at.span) }
        let savedBase = ctx.base
        let savedClosure = ctx.closure
        ctx.base = argBase
        ctx.top = frameTop
        if let fn { ctx.closure = fn }
        ctx.depth &+= 1
        defer {
            var i = argBase
            while i < frameTop { clearSlot(ctx.stack + i); i &+= 1 }
            ctx.base = savedBase
            ctx.top = argBase
            if fn != nil { ctx.closure = savedClosure }
            ctx.depth &-= 1
        }
        do {
            if let prologue { try prologue(ctx) }
            ctx.tick &-= 1
            if ctx.tick <= 0 { try ctx.poll(at.span) }
            var result = try code._withUnsafeGuaranteedRef { try $0.run(ctx) }
            if ctx.ctl != Control.none {
                if ctx.ctl == Control.returning { result = ctx.retval; ctx.retval = .nil }
                ctx.ctl = Control.none
            }
            return result
        } catch {
            throw ctx.traced(error, proto, at.span)
        }
    }

    /// Moves named arguments into their parameter slots; unset parameters become
    /// `.undefined` so defaults fill them.
    func arrangeNamed(_ proto: FnProto, _ ctx: Ctx, argBase: Int, argc: Int, names: [String], span: Span) throws {
        let nparams = proto.paramNames.count
        guard argc <= nparams else {
            throw MLWError.runtime("too many arguments to '\(proto.name)': expected at most \(nparams), got \(argc)", at: span)
        }
        var slots = [Value](repeating: .undefined, count: nparams)
        for i in 0..<argc { slots[i] = ctx.stack[argBase + i] }
        for (j, n) in names.enumerated() {
            guard let i = proto.paramNames.firstIndex(of: n) else {
                throw MLWError.runtime("unknown argument '\(n)' to '\(proto.name)' (parameters: \(proto.paramNames.joined(separator: ", ")))", at: span)
            }
            if i < argc || !isUndefined(slots[i]) {
                throw MLWError.runtime("argument '\(n)' to '\(proto.name)' given twice", at: span)
            }
            slots[i] = ctx.stack[argBase + argc + j]
        }
        ctx.unwind(to: argBase)
        for v in slots { try ctx.push(v, span) }
    }
}
