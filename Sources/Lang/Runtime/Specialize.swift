/// Specialized closures for the hottest shapes, so a loop like
/// `while i < n { total += i * 2; i += 1 }` runs without nested closure calls per operand:
/// operands that are plain variables or constants are read inline (generic code over
/// `Reader`, specialized by the optimizer for each concrete pair).

protocol Reader {
    func read(_ ctx: Ctx) throws -> Value
    /// The integer held, read in place without copying the value (nil if not an integer).
    func peekInt(_ ctx: Ctx) -> Int?
    /// Evaluating the operand runs code, so it must be read exactly once.
    static var runsCode: Bool { get }
    /// Stands for a missing operand (a call without arguments).
    static var absent: Bool { get }
}

extension Reader {
    static var runsCode: Bool { false }
    static var absent: Bool { false }
}

struct LocalReader: Reader {
    let slot: Int
    @inline(__always) func read(_ ctx: Ctx) throws -> Value { ctx.stack[ctx.base &+ slot] }
    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? {
        if case .int(let x) = ctx.stack[ctx.base &+ slot] { return x }
        return nil
    }
}

struct GlobalReader: Reader {
    let globals: Globals
    let slot: Int
    @inline(__always) func read(_ ctx: Ctx) throws -> Value { globals.slots[slot] }
    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? {
        if case .int(let x) = globals.slots[slot] { return x }
        return nil
    }
}

struct ConstReader: Reader {
    let value: Value
    let int: Int?
    init(_ value: Value) {
        self.value = value
        if case .int(let x) = value { int = x } else { int = nil }
    }
    @inline(__always) func read(_ ctx: Ctx) throws -> Value { value }
    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? { int }
}

struct EvalReader: Reader {
    let eval: Eval
    @inline(__always) func read(_ ctx: Ctx) throws -> Value { try eval(ctx) }
    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? { nil }
    static var runsCode: Bool { true }
}

/// How an operand is read, decided at compile time.
enum Operand {
    case local(Int)
    case global(Globals, Int)
    case const(Value)
    case eval(Eval)
}

/// Something built from two concrete readers; one conformer per operator.
protocol PairBuilder {
    func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval
}

func specialize<B: PairBuilder>(_ b: B, _ l: Operand, _ r: Operand) -> Eval {
    switch l {
    case .local(let s): return specializeRight(b, LocalReader(slot: s), r)
    case .global(let g, let s): return specializeRight(b, GlobalReader(globals: g, slot: s), r)
    case .const(let v): return specializeRight(b, ConstReader(v), r)
    case .eval(let e): return specializeRight(b, EvalReader(eval: e), r)
    }
}

func specializeRight<B: PairBuilder, L: Reader>(_ b: B, _ l: L, _ r: Operand) -> Eval {
    switch r {
    case .local(let s): return b.build(l, LocalReader(slot: s))
    case .global(let g, let s): return b.build(l, GlobalReader(globals: g, slot: s))
    case .const(let v): return b.build(l, ConstReader(v))
    case .eval(let e): return b.build(l, EvalReader(eval: e))
    }
}

/// Integer fast path for + - * and comparisons; anything else goes to `Ops.binary`.
struct ArithBuilder: PairBuilder {
    let op: BinOp
    let span: Span

    func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval {
        // The span behind a reference keeps the captured context (unpacked per call) small.
        let op = self.op, at = SpanBox(span)
        switch op {
        case .add: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                let (s, o) = x.addingReportingOverflow(y)
                if !o { return .int(s) }
            }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { let (s, o) = x.addingReportingOverflow(y); if !o { return .int(s) } }
            return try Ops.binary(op, a, b, at: at.span)
        }
        case .sub: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                let (s, o) = x.subtractingReportingOverflow(y)
                if !o { return .int(s) }
            }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { let (s, o) = x.subtractingReportingOverflow(y); if !o { return .int(s) } }
            return try Ops.binary(op, a, b, at: at.span)
        }
        case .mul: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                let (s, o) = x.multipliedReportingOverflow(by: y)
                if !o { return .int(s) }
            }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { let (s, o) = x.multipliedReportingOverflow(by: y); if !o { return .int(s) } }
            return try Ops.binary(op, a, b, at: at.span)
        }
        case .lt, .le, .gt, .ge, .eq, .ne:
            // Integers compare inline; anything else (floats, strings, tensors, whose
            // comparison is elementwise) goes through `Ops.binary` and keeps its result.
            let cmp: (Int, Int) -> Bool
            switch op {
            case .lt: cmp = { $0 < $1 }
            case .le: cmp = { $0 <= $1 }
            case .gt: cmp = { $0 > $1 }
            case .ge: cmp = { $0 >= $1 }
            case .eq: cmp = { $0 == $1 }
            default: cmp = { $0 != $1 }
            }
            return { ctx in
                if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return .bool(cmp(x, y)) }
                let a = try l.read(ctx), b = try r.read(ctx)
                if case .int(let x) = a, case .int(let y) = b { return .bool(cmp(x, y)) }
                return try Ops.binary(op, a, b, at: at.span)
            }
        default:
            return { ctx in try Ops.binary(op, try l.read(ctx), try r.read(ctx), at: at.span) }
        }
    }
}

typealias Test = (Ctx) throws -> Bool

/// Comparisons that yield a Swift Bool, for `if`/`while` conditions.
struct CompareBuilder {
    let op: BinOp
    let span: Span

    func test<L: Reader, R: Reader>(_ l: L, _ r: R) -> Test {
        let op = self.op, span = self.span
        @inline(__always) func slow(_ a: Value, _ b: Value) throws -> Bool {
            let r = try Ops.binary(op, a, b, at: span)
            guard case .bool(let v) = r else {
                throw MLWError.runtime("a condition must be a bool, but '\(op.rawValue)' gave a \(r.typeName)", at: span)
            }
            return v
        }
        switch op {
        case .lt: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x < y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x < y }
            return try slow(a, b)
        }
        case .le: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x <= y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x <= y }
            return try slow(a, b)
        }
        case .gt: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x > y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x > y }
            return try slow(a, b)
        }
        case .ge: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x >= y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x >= y }
            return try slow(a, b)
        }
        case .eq: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x == y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x == y }
            return try slow(a, b)
        }
        case .ne: return { ctx in
            if !L.runsCode && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) { return x != y }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b { return x != y }
            return try slow(a, b)
        }
        default: return { ctx in try slow(try l.read(ctx), try r.read(ctx)) }
        }
    }
}

/// Operators compiled through `ArithBuilder` (all binary operators but `and`/`or`).
func binOp(_ op: String) -> BinOp? { BinOp(rawValue: op) }

extension Compiler {
    /// How to read `e`: a slot or a constant when possible, else its closure.
    func operand(_ e: Expr) -> Operand {
        switch e.kind {
        case .literal(let v): return .const(v)
        case .name(let ref):
            switch ref.resolution {
            case .local(let d) where !d.captured: return .local(d.slot)
            case .global(let d, false): return .global(globals, d.slot)
            case .builtin(let v): return .const(v)
            default: break
            }
        default: break
        }
        return .eval(expr(e))
    }

    /// A condition as a Swift Bool: comparisons skip making a Value.
    func condition(_ e: Expr, _ what: String) -> Test {
        if case .binary(let op, let a, let b) = e.kind, let o = binOp(op), [.lt, .le, .gt, .ge, .eq, .ne].contains(o) {
            let cb = CompareBuilder(op: o, span: e.span)
            return specializeTest(cb, operand(a), operand(b))
        }
        let v = expr(e), span = e.span
        return { ctx in
            let c = try v(ctx)
            guard case .bool(let b) = c else {
                throw MLWError.runtime("\(what) condition must be a bool, got \(c.typeName)", at: span)
            }
            return b
        }
    }

    func specializeTest(_ cb: CompareBuilder, _ l: Operand, _ r: Operand) -> Test {
        struct Wrap: PairBuilder {
            let cb: CompareBuilder
            let box: TestBox
            func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval {
                box.test = cb.test(l, r)
                return { _ in .nil }
            }
        }
        let box = TestBox()
        _ = specialize(Wrap(cb: cb, box: box), l, r)
        return box.test!
    }
}

final class TestBox { var test: Test? }

/// Stores into a slot; an integer overwriting an integer needs no release of the old value.
/// A list overwritten may be the head of a deep chain: `storeOverList` frees it without
/// recursion (records do it themselves in their deinit).
@inline(__always) func storeSlot(_ p: UnsafeMutablePointer<Value>, _ v: Value) {
    if case .int = p.pointee { p.initialize(to: v) } else if case .list = p.pointee { storeOverList(p, v) } else { p.pointee = v }
}

extension Compiler {
    func operandOf(_ ref: NameRef) -> Operand {
        switch ref.resolution {
        case .local(let d) where !d.captured: return .local(d.slot)
        case .global(let d, false): return .global(globals, d.slot)
        default: return .eval(read(ref))
        }
    }
}

/// A variable slot that code can write directly.
protocol SlotReader: Reader {
    func pointer(_ ctx: Ctx) -> UnsafeMutablePointer<Value>
    /// Reading the integer in place beats copying the value (measured for frame slots; for
    /// globals the top-level loop benchmark ran slower).
    static var peeksCheaply: Bool { get }
}

extension LocalReader: SlotReader {
    static var peeksCheaply: Bool { true }
    @inline(__always) func pointer(_ ctx: Ctx) -> UnsafeMutablePointer<Value> { ctx.stack + (ctx.base &+ slot) }
}

extension GlobalReader: SlotReader {
    static var peeksCheaply: Bool { false }
    @inline(__always) func pointer(_ ctx: Ctx) -> UnsafeMutablePointer<Value> { globals.slots + slot }
}

/// `x += e`, `x = x * e`: read, compute and store in one closure.
struct AssignArithBuilder {
    let op: BinOp
    let span: Span

    func build<L: SlotReader, R: Reader>(_ l: L, _ r: R) -> Eval {
        let op = self.op, span = self.span
        switch op {
        case .add: return { ctx in
            // Integers read in place: no copy (and later release) of either value.
            if L.peeksCheaply && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                let (s, o) = x.addingReportingOverflow(y)
                if !o { l.pointer(ctx).initialize(to: .int(s)); return .nil }
            }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b {
                let (s, o) = x.addingReportingOverflow(y)
                if !o { l.pointer(ctx).initialize(to: .int(s)); return .nil }
            }
            storeSlot(l.pointer(ctx), try Ops.binary(op, a, b, at: span))
            return .nil
        }
        case .sub: return { ctx in
            // Integers read in place: no copy (and later release) of either value.
            if L.peeksCheaply && !R.runsCode, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                let (s, o) = x.subtractingReportingOverflow(y)
                if !o { l.pointer(ctx).initialize(to: .int(s)); return .nil }
            }
            let a = try l.read(ctx), b = try r.read(ctx)
            if case .int(let x) = a, case .int(let y) = b {
                let (s, o) = x.subtractingReportingOverflow(y)
                if !o { l.pointer(ctx).initialize(to: .int(s)); return .nil }
            }
            storeSlot(l.pointer(ctx), try Ops.binary(op, a, b, at: span))
            return .nil
        }
        default: return { ctx in
            let v = try Ops.binary(op, try l.read(ctx), try r.read(ctx), at: span)
            storeSlot(l.pointer(ctx), v)
            return .nil
        }
        }
    }
}

extension Compiler {
    /// Assignments to a plain slot, fused with their arithmetic when they have the shape
    /// `x op= e` or `x = x op e`. nil: use the general path.
    func fusedAssign(_ ref: NameRef, _ op: String, _ value: Expr, _ span: Span) -> Eval? {
        var arith: (BinOp, Expr)?
        var opSpan = span
        if op != "=" { arith = binOp(String(op.dropLast())).map { ($0, value) } }
        else if case .binary(let bop, let lhs, let rhs) = value.kind, case .name(let r2) = lhs.kind,
                sameSlot(ref, r2), let o = binOp(bop), o == .add || o == .sub || o == .mul {
            arith = (o, rhs)
            opSpan = value.span
        }
        switch ref.resolution {
        case .local(let d) where !d.captured:
            let slot = LocalReader(slot: d.slot)
            if let (o, rhs) = arith { return assignArithRHS(AssignArithBuilder(op: o, span: opSpan), slot, rhs) }
            let v = expr(value)
            return { ctx in storeSlot(slot.pointer(ctx), try v(ctx)); return .nil }
        case .global(let d, _):
            let slot = GlobalReader(globals: globals, slot: d.slot)
            if let (o, rhs) = arith, case .global(_, false) = ref.resolution {
                return assignArithRHS(AssignArithBuilder(op: o, span: opSpan), slot, rhs)
            }
            guard arith == nil else { return nil }
            let v = expr(value)
            return { ctx in storeSlot(slot.pointer(ctx), try v(ctx)); return .nil }
        default:
            return nil
        }
    }

    func sameSlot(_ a: NameRef, _ b: NameRef) -> Bool {
        switch (a.resolution, b.resolution) {
        case let (.local(x), .local(y)): return x === y
        case let (.global(x, _), .global(y, _)): return x === y
        default: return false
        }
    }

    func assignArith<L: SlotReader>(_ b: AssignArithBuilder, _ l: L, _ r: Operand) -> Eval {
        switch r {
        case .local(let s): return b.build(l, LocalReader(slot: s))
        case .global(let g, let s): return b.build(l, GlobalReader(globals: g, slot: s))
        case .const(let v): return b.build(l, ConstReader(v))
        case .eval(let e): return b.build(l, EvalReader(eval: e))
        }
    }
}

/// Sets a slot to nil; plain numbers need no release of the old value.
@inline(__always) func clearSlot(_ p: UnsafeMutablePointer<Value>) {
    switch p.pointee {
    case .int, .float, .bool, .nil: p.initialize(to: .nil); return
    case .list: break
    default: p.pointee = .nil; return
    }
    // Outside the switch, which holds a copy of the value while a case runs.
    storeOverList(p, .nil)
}

/// `slot op k` read inline (no closure): the right side of `total += i * 2`, the argument
/// of `fib(n - 1)`. A call argument keeps its span behind a `SpanBox` (the call closure
/// captures less); an assignment keeps it inline, as before (boxing it measured no better
/// in the loop benchmarks).
struct SlotConstReader<S: Reader, P: SpanSource>: Reader {
    let slot: S
    let op: BinOp
    let k: Int
    let at: P

    @inline(__always) func peekInt(_ ctx: Ctx) -> Int? {
        guard let x = slot.peekInt(ctx) else { return nil }
        let r: (partialValue: Int, overflow: Bool)
        switch op {
        case .add: r = x.addingReportingOverflow(k)
        case .sub: r = x.subtractingReportingOverflow(k)
        default: r = x.multipliedReportingOverflow(by: k)
        }
        return r.overflow ? nil : r.partialValue
    }

    @inline(__always) func read(_ ctx: Ctx) throws -> Value {
        if let v = peekInt(ctx) { return .int(v) }
        return try Ops.binary(op, try slot.read(ctx), .int(k), at: at.span)
    }
}

extension Compiler {
    /// The right side of a fused assignment; `slot op integer` is read inline.
    func assignArithRHS<L: SlotReader>(_ b: AssignArithBuilder, _ l: L, _ rhs: Expr) -> Eval {
        if case .binary(let op, let a, let c) = rhs.kind, let o = binOp(op), o == .add || o == .sub || o == .mul,
           case .literal(.int(let k)) = c.kind {
            switch operand(a) {
            case .local(let s): return b.build(l, SlotConstReader(slot: LocalReader(slot: s), op: o, k: k, at: rhs.span))
            case .global(let g, let s): return b.build(l, SlotConstReader(slot: GlobalReader(globals: g, slot: s), op: o, k: k, at: rhs.span))
            default: break
            }
        }
        return assignArith(b, l, operand(rhs))
    }
}

/// `while a < b { s1; s2 }` with slot or constant operands: the comparison is inlined into
/// the loop (one closure call fewer per iteration).
struct WhileCompareBuilder: PairBuilder {
    let compare: CompareBuilder
    let s1: Eval
    let s2: Eval
    let span: Span

    func build<L: Reader, R: Reader>(_ l: L, _ r: R) -> Eval {
        let test = compare.test(l, r)
        let s1 = self.s1, s2 = self.s2, span = self.span
        let lessThan = compare.op == .lt
        return { ctx in
            while true {
                if lessThan, let x = l.peekInt(ctx), let y = r.peekInt(ctx) {
                    if !(x < y) { break }
                } else if !(try test(ctx)) { break }
                discard(try s1(ctx))
                if ctx.ctl == Control.none { discard(try s2(ctx)) }
                if try ctx.endOfIteration(span) { break }
            }
            return .nil
        }
    }
}

extension Compiler {
    func fusedWhile(_ cond: Expr, _ b: Block) -> Eval? {
        guard b.stmts.count == 2, !b.stmts.contains(where: { if case .fn = $0.kind { return true } else { return false } }),
              case .binary(let op, let a, let c) = cond.kind, let bo = binOp(op), [.lt, .le, .gt, .ge, .eq, .ne].contains(bo) else { return nil }
        let la = operand(a), rc = operand(c)
        if case .eval = la { return nil }
        if case .eval = rc { return nil }
        let builder = WhileCompareBuilder(compare: CompareBuilder(op: bo, span: cond.span), s1: stmt(b.stmts[0]), s2: stmt(b.stmts[1]), span: cond.span)
        return specialize(builder, la, rc)
    }
}

/// A source location kept by reference.
final class SpanBox: SpanSource {
    let span: Span
    init(_ span: Span) { self.span = span }
}

/// A span or a reference to one. Hot code takes the reference, so the span's four words
/// are loaded only on the paths that report an error.
protocol SpanSource {
    var span: Span { get }
}

extension Span: SpanSource {
    var span: Span { self }
}
