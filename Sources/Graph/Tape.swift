import Tensor

/// Eager reverse-mode autodiff for the REPL: ops run immediately and are recorded on a
/// tape; `backward` walks the tape using the same backward rules as graphs (`OpRegistry`).
///
///     let g = try grad({ x in try (x * x).sum() }, at: t)   // 2·t
public final class Tape {
    struct Entry { let op: OpDef; let inputs: [Int]; let attrs: Attrs; let saved: [Tensor]; let output: Int }
    var values: [Tensor] = []
    var entries: [Entry] = []
    let ctx: OpContext

    public init(training: Bool = true, seed: UInt64 = 0) { ctx = OpContext(training: training, seed: seed) }

    /// A leaf (input or constant).
    public func variable(_ t: Tensor) -> Var { values.append(t); return Var(tape: self, id: values.count - 1) }

    public func apply(_ op: OpName, _ inputs: [Var], _ attrs: Attrs = [:]) throws -> Var {
        let def = try OpRegistry.op(op)
        guard def.arity.contains(inputs.count) else { throw GraphError("\(op): expected \(def.arity) inputs, got \(inputs.count)") }
        ctx.nodeID = values.count
        let (y, s) = try def.forward(inputs.map { values[$0.id] }, attrs, ctx)
        values.append(y)
        entries.append(Entry(op: def, inputs: inputs.map(\.id), attrs: attrs, saved: s, output: values.count - 1))
        return Var(tape: self, id: values.count - 1)
    }

    /// Gradients of `y` (seeded with ones) with respect to every recorded value.
    public func gradients(of y: Var) throws -> [Int: Tensor] {
        var grads: [Int: Tensor] = [y.id: try Tensor.ones(y.value.shape, dtype: y.value.dtype)]
        for e in entries.reversed() {
            guard let g = grads[e.output] else { continue }
            guard let bw = e.op.backward else { throw GraphError("backward: op '\(e.op.name)' is not differentiable") }
            let gs = try bw(BackwardArgs(inputs: e.inputs.map { values[$0] }, output: values[e.output], saved: e.saved,
                                         grad: g, attrs: e.attrs, training: ctx.training))
            for (k, j) in e.inputs.enumerated() {
                guard let gj = gs[k] else { continue }
                grads[j] = try grads[j].map { try $0 + gj } ?? gj
            }
        }
        return grads
    }
}

/// A tensor recorded on a tape.
public struct Var {
    public let tape: Tape
    public let id: Int
    public var value: Tensor { tape.values[id] }
    public var shape: [Int] { value.shape }

    public func apply(_ op: OpName, _ others: [Var] = [], _ attrs: Attrs = [:]) throws -> Var { try tape.apply(op, [self] + others, attrs) }
    func const(_ v: Double) -> Var { tape.variable(Tensor(scalar: v, dtype: value.dtype)) }

    public static func + (a: Var, b: Var) throws -> Var { try a.apply(.add, [b]) }
    public static func - (a: Var, b: Var) throws -> Var { try a.apply(.sub, [b]) }
    public static func * (a: Var, b: Var) throws -> Var { try a.apply(.mul, [b]) }
    public static func / (a: Var, b: Var) throws -> Var { try a.apply(.div, [b]) }
    public static func + (a: Var, b: Double) throws -> Var { try a.apply(.add, [a.const(b)]) }
    public static func * (a: Var, b: Double) throws -> Var { try a.apply(.mul, [a.const(b)]) }
    public func matmul(_ b: Var) throws -> Var { try apply(.matmul, [b]) }
    public func relu() throws -> Var { try apply(.relu) }
    public func tanh() throws -> Var { try apply(.tanh) }
    public func sigmoid() throws -> Var { try apply(.sigmoid) }
    public func gelu() throws -> Var { try apply(.gelu) }
    public func softmax(axis: Int = -1) throws -> Var { try apply(.softmax, [], ["axis": .int(axis)]) }
    public func logSoftmax(axis: Int = -1) throws -> Var { try apply(.logSoftmax, [], ["axis": .int(axis)]) }
    public func sum(axes: [Int]? = nil) throws -> Var { try apply(.sum, [], axes.map { ["axes": .ints($0)] } ?? [:]) }
    public func mean(axes: [Int]? = nil) throws -> Var { try apply(.mean, [], axes.map { ["axes": .ints($0)] } ?? [:]) }
    public func reshape(_ s: [Int]) throws -> Var { try apply(.reshape, [], ["shape": .ints(s)]) }
}

/// Value and gradients of a scalar function of several tensors.
public func valueAndGrad(_ f: ([Var]) throws -> Var, at xs: [Tensor]) throws -> (value: Tensor, grads: [Tensor]) {
    let tape = Tape()
    let vars = xs.map { tape.variable($0) }
    let y = try f(vars)
    guard y.value.count == 1 else { throw GraphError("grad: the function must return a scalar, got shape \(y.shape)") }
    let g = try tape.gradients(of: y)
    return (y.value, try vars.map { v in try g[v.id] ?? Tensor.zeros(v.shape, dtype: v.value.dtype) })
}

public func valueAndGrad(_ f: (Var) throws -> Var, at x: Tensor) throws -> (value: Tensor, grad: Tensor) {
    let r = try valueAndGrad({ try f($0[0]) }, at: [x])
    return (r.value, r.grads[0])
}

public func grad(_ f: (Var) throws -> Var, at x: Tensor) throws -> Tensor { try valueAndGrad(f, at: x).grad }
