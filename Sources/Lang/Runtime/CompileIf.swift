/// `if` expressions. The hot shape is a function body like
/// `if n < 2 { n } else { fib(n - 1) + fib(n - 2) }`: the comparison is done inside the
/// `if` closure, and a branch that is just a variable or a constant is read in place, so a
/// call that takes such a branch runs one closure for its whole body.
extension Compiler {
    func ifElse(_ cond: Expr, _ then: Block, _ other: Expr?) -> Eval {
        let t = branch(then)
        let o = other.map(branch) ?? Branch(constant: .nil)
        if case .binary(let op, let a, let b) = cond.kind, let bo = binOp(op), [.lt, .le, .gt, .ge, .eq, .ne].contains(bo) {
            let la = operand(a), rb = operand(b)
            if case .eval = la {} else if case .eval = rb {} else {
                return specialize(IfCompareBuilder(compare: CompareBuilder(op: bo, span: cond.span), then: t, other: o), la, rb)
            }
        }
        let c = condition(cond, "'if'")
        return { ctx in try c(ctx) ? try t.run(ctx) : try o.run(ctx) }
    }

    /// A block whose only statement is a plain local or constant is read in place.
    func branch(_ b: Block) -> Branch {
        if b.stmts.count == 1, case .expr(let e) = b.stmts[0].kind, let quick = quickBranch(e) { return quick }
        return Branch(block(b))
    }

    func branch(_ e: Expr) -> Branch {
        if case .block(let b) = e.kind { return branch(b) }
        return quickBranch(e) ?? Branch(expr(e))
    }

    func quickBranch(_ e: Expr) -> Branch? {
        switch e.kind {
        case .literal(let v): return Branch(constant: v)
        case .name(let ref):
            switch ref.resolution {
            case .local(let d) where !d.captured: return Branch(local: d.slot)
            case .builtin(let v): return Branch(constant: v)
            default: return nil
            }
        default: return nil
        }
    }
}

/// One branch of an `if`. A struct of plain fields rather than an enum, so running it
/// copies (retains) nothing.
struct Branch {
    enum Kind { case local, constant, code }
    let kind: Kind
    let slot: Int
    let value: Value
    let code: Eval

    init(local slot: Int) { kind = .local; self.slot = slot; value = .nil; code = { _ in .nil } }
    init(constant v: Value) { kind = .constant; slot = 0; value = v; code = { _ in .nil } }
    init(_ code: @escaping Eval) { kind = .code; slot = 0; value = .nil; self.code = code }

    @inline(__always) func run(_ ctx: Ctx) throws -> Value {
        switch kind {
        case .local:
            // An integer is rebuilt rather than copied: no outlined copy (retain) call.
            if case .int(let x) = ctx.stack[ctx.base &+ slot] { return .int(x) }
            return ctx.stack[ctx.base &+ slot]
        case .constant: return value
        case .code: return try code(ctx)
        }
    }
}

/// An integer comparison chosen at compile time (specializes the `if` closure per operator).
protocol IntComparison { static func holds(_ a: Int, _ b: Int) -> Bool }
enum IntLess: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a < b } }
enum IntLessEqual: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a <= b } }
enum IntGreater: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a > b } }
enum IntGreaterEqual: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a >= b } }
enum IntEqual: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a == b } }
enum IntNotEqual: IntComparison { @inline(__always) static func holds(_ a: Int, _ b: Int) -> Bool { a != b } }

/// `if l op r { then } else { other }` as one closure, specialized for the operand readers
/// (slots or constants: reading them runs no code) and the operator.
struct IfCompareBuilder: PairBuilder {
    let compare: CompareBuilder
    let then: Branch
    let other: Branch

    func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval {
        switch compare.op {
        case .lt: return make(l, r, IntLess.self)
        case .le: return make(l, r, IntLessEqual.self)
        case .gt: return make(l, r, IntGreater.self)
        case .ge: return make(l, r, IntGreaterEqual.self)
        case .eq: return make(l, r, IntEqual.self)
        default: return make(l, r, IntNotEqual.self)
        }
    }

    func make<L: Reader, R: Reader, C: IntComparison>(_ l: L, _ r: R, _: C.Type) -> Eval {
        // The closure captures the small readers and one object, so calling it unpacks little.
        let node = IfNode(test: compare.test(l, r), then: then, other: other)
        return { ctx in
            if let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return C.holds(x, y) ? try node.then.run(ctx) : try node.other.run(ctx) }
            return try node.test(ctx) ? try node.then.run(ctx) : try node.other.run(ctx)
        }
    }
}

/// The parts of an `if` besides its operands.
final class IfNode {
    /// The general comparison, for operands that are not both integers (floats, strings, tensors).
    let test: Test
    let then: Branch
    let other: Branch

    init(test: @escaping Test, then: Branch, other: Branch) {
        self.test = test
        self.then = then
        self.other = other
    }
}
