import Foundation
import Tensor

// Fused ops produced by the graph optimizer (Sources/Optimize). They exist only in
// inference graphs, so they have no backward rule: train the unfused graph, then optimize.

/// The activations a fused op may apply after its GEMM / convolution / chain step.
public let fusableActivations: Set<Activation> = [.relu, .leakyRelu, .gelu, .tanh, .sigmoid]

/// A fused op's activation attributes: `activation` (an `Activation` name, default none)
/// and leaky ReLU's `slope`.
func activationAttrs(_ a: Attrs) throws -> (Activation, Double) {
    guard let act = a.activation else { throw GraphError("fused op: unknown activation '\(a.string("activation", ""))'") }
    return (act, a.double("slope", 0.01))
}

/// One step of an `elementwise` chain: an activation (`op` is its op: relu, leaky_relu...),
/// or a binary op (add/sub/mul/div) with the running value on the left, or on the right
/// when `reversed` (operand op value), and operand input `operand`. Stored as such in the
/// node's `steps` attribute (`Attr.chain`), read once, never parsed from text.
public struct ChainStep: Hashable, Codable, Sendable {
    public var op: OpName
    public var operand: Int?
    public var reversed: Bool
    public var slope: Double
    public init(op: OpName, operand: Int? = nil, reversed: Bool = false, slope: Double = 0.01) {
        self.op = op; self.operand = operand; self.reversed = reversed; self.slope = slope
    }
    /// The activation of an activation step.
    public var activation: Activation? { operand == nil ? Activation(op: op) : nil }

    /// Text for logs and `explain`: "add#1", "rsub#2", "relu", "leaky_relu@0.2".
    public var text: String {
        if let k = operand { return (reversed ? "r" : "") + op.rawValue + "#\(k)" }
        return op == .leakyRelu ? "leaky_relu@\(slope)" : op.rawValue
    }
    public static func text(_ steps: [ChainStep]) -> String { steps.map(\.text).joined(separator: ";") }

    /// Whether the step is one the chain runs: a binary op reading an operand input, or an
    /// elementwise activation.
    func check(operands: Int) throws {
        if let k = operand {
            guard OpName.binaryElementwise.contains(op), k >= 0, k < operands else { throw GraphError("elementwise: bad step '\(text)'") }
        } else {
            guard let a = activation, fusableActivations.contains(a), !reversed else { throw GraphError("elementwise: bad step '\(text)'") }
        }
    }

    /// The steps of a model file written when chains were stored as text ("add#1;relu"):
    /// read when such a file is loaded (see `Node.init(from:)`).
    public static func parseLegacy(_ program: String) throws -> [ChainStep] {
        try program.split(separator: ";").map { part in
            let s = String(part)
            if let h = s.firstIndex(of: "#") {
                var name = String(s[..<h]); let rev = name.hasPrefix("r") && name != OpName.relu.rawValue
                if rev { name.removeFirst() }
                let op = OpName(rawValue: name)
                guard let k = Int(s[s.index(after: h)...]), OpName.binaryElementwise.contains(op) else { throw GraphError("elementwise: bad step '\(s)'") }
                return ChainStep(op: op, operand: k, reversed: rev)
            }
            let leaky = OpName.leakyRelu.rawValue + "@"
            if s.hasPrefix(leaky), let v = Double(s.dropFirst(leaky.count)) { return ChainStep(op: .leakyRelu, slope: v) }
            guard let a = Activation(rawValue: s), fusableActivations.contains(a) else { throw GraphError("elementwise: bad step '\(s)'") }
            return ChainStep(op: a.op)
        }
    }
}

extension Dictionary where Key == String, Value == Attr {
    /// The `elementwise` chain in attribute `k`, or nil.
    public func chain(_ k: String) -> [ChainStep]? { if case .chain(let v)? = self[k] { return v }; return nil }
}

/// The obvious twin of the fused loop: one Tensor op per step (any dtype; the test oracle).
public func chainReference(_ x: [Tensor], _ steps: [ChainStep]) throws -> Tensor {
    var v = x[0]
    for s in steps {
        if let k = s.operand {
            let op: BinaryOp = s.op == .add ? .add : s.op == .sub ? .sub : s.op == .mul ? .mul : .div
            v = s.reversed ? try Tensor.binary(x[k], v, op) : try Tensor.binary(v, x[k], op)
        } else { v = try v.activated(s.activation ?? .none, slope: s.slope) }
    }
    return v
}

/// float32 chain in one pass over memory (`ChainProgram`), into a new tensor.
private func chainFused(_ x: [Tensor], _ steps: [ChainStep]) throws -> Tensor {
    let shape = x[0].shape, n = x[0].count
    // Operands: same size (direct), one element (scalar) or expanded once to the full shape.
    let ops: [Tensor] = try x.map { t in t.count == n || t.count == 1 ? t.contiguous() : try t.expand(to: shape).contiguous() }
    var out = try Tensor.empty(shape)
    let ptrs: [UnsafePointer<Float>] = ops.map { $0.contiguousFloats! }
    try withExtendedLifetime(ops) {
        try out.withMutableFloats { y in
            ptrs.withUnsafeBufferPointer { p in
                ChainProgram(steps).run(p[0], y.baseAddress!, count: n, operands: p.baseAddress!, scalar: ops.map { $0.count == 1 && n != 1 })
            }
        }
    }
    return out
}

/// An `elementwise` chain decoded once, run over raw memory: blocks of 512 elements stay in
/// L1 while every step runs over them, each step a simple vectorisable loop. The Tensor
/// path and the executor's static programs both run it, so they give the same bits.
struct ChainProgram {
    enum Kind { case add, sub, rsub, mul, div, rdiv, relu, leaky, tanh, sigmoid, gelu }
    let kinds: [Kind]
    let operands: [Int]
    let slopes: [Float]

    init(_ steps: [ChainStep]) {
        kinds = steps.map { s in
            switch (s.activation, s.op, s.reversed) {
            case (.relu?, _, _): return .relu
            case (.leakyRelu?, _, _): return .leaky
            case (.tanh?, _, _): return .tanh
            case (.sigmoid?, _, _): return .sigmoid
            case (.some, _, _): return .gelu
            case (nil, .add, _): return .add
            case (nil, .sub, false): return .sub
            case (nil, .sub, true): return .rsub
            case (nil, .mul, _): return .mul
            case (nil, .div, false): return .div
            default: return .rdiv
            }
        }
        operands = steps.map { $0.operand ?? -1 }
        slopes = steps.map { Float($0.slope) }
    }

    /// Whether a step reads operand 0 (the chain's own input), which an in-place run
    /// would have overwritten.
    var readsInput: Bool { operands.contains(0) }

    /// y = the chain over x (`count` elements). `operands[k]` holds `count` elements, or one
    /// when `scalar[k]`. y may be x when no step reads operand 0; no other operand may
    /// overlap y.
    func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int, operands ptrs: UnsafePointer<UnsafePointer<Float>>, scalar: [Bool]) {
        var start = 0
        while start < n {
            let len = min(512, n - start), v = y + start
            if UnsafePointer(v) != x + start { v.update(from: x + start, count: len) }
            for (step, kind) in kinds.enumerated() {
                let k = operands[step]
                let c = k >= 0 && scalar[k] ? ptrs[k][0] : 0, q = k >= 0 ? ptrs[k] + (scalar[k] ? 0 : start) : x
                let one = k >= 0 && scalar[k]
                switch kind {
                case .add: if one { for i in 0..<len { v[i] += c } } else { for i in 0..<len { v[i] += q[i] } }
                case .mul: if one { for i in 0..<len { v[i] *= c } } else { for i in 0..<len { v[i] *= q[i] } }
                case .sub: if one { for i in 0..<len { v[i] -= c } } else { for i in 0..<len { v[i] -= q[i] } }
                case .rsub: if one { for i in 0..<len { v[i] = c - v[i] } } else { for i in 0..<len { v[i] = q[i] - v[i] } }
                case .div: if one { for i in 0..<len { v[i] /= c } } else { for i in 0..<len { v[i] /= q[i] } }
                case .rdiv: if one { for i in 0..<len { v[i] = c / v[i] } } else { for i in 0..<len { v[i] = q[i] / v[i] } }
                case .relu: for i in 0..<len { v[i] = v[i] > 0 || v[i].isNaN ? v[i] : 0 }
                case .leaky: let a = slopes[step]; for i in 0..<len { v[i] = v[i] > 0 ? v[i] : v[i] * a }
                case .tanh: for i in 0..<len { v[i] = Foundation.tanh(v[i]) }
                case .sigmoid: for i in 0..<len { v[i] = 1 / (1 + Foundation.exp(-v[i])) }
                case .gelu:   // tanh approximation
                    for i in 0..<len { let u = v[i]; v[i] = 0.5 * u * (1 + Foundation.tanh(0.7978845608028654 * (u + 0.044715 * u * u * u))) }
                }
            }
            start += len
        }
    }
}

let fusedOps: [OpDef] = [
    // act(x @ W + b) for any fusable activation (dense itself fuses only ReLU).
    OpDef(.denseAct, arity: 2...3, shape: { s, a in try OpRegistry.op(.dense).shape(s, [:]) }, forward: { x, a, _ in
        let (act, slope) = try activationAttrs(a)
        let base = try OpRegistry.op(.dense).forward(x, act == .relu ? ["activation": .activation(.relu)] : [:], OpContext(training: false)).0
        return (act == .relu ? base : try base.activated(act, slope: slope), [])
    }, backward: nil, lower: .denseLayer),
    // act(conv2d(x, W, b)): ReLU runs in the GEMM's store loop, other activations on the fresh output.
    OpDef(.conv2dAct, arity: 2...3, shape: { s, a in try OpRegistry.op(.conv2d).shape(s, a) }, forward: { x, a, ctx in
        let (act, slope) = try activationAttrs(a)
        if act == .relu, x.allSatisfy({ $0.dtype == .float32 }) {   // ReLU in the GEMM's store loop
            return (try Tensor.conv2d(x[0], weight: x[1], bias: x.count == 3 ? x[2] : nil, stride: a.pair("stride", 1),
                                      padding: a.pair("padding", 0), activation: .relu), [])
        }
        let y = try OpRegistry.op(.conv2d).forward(x, a, ctx).0
        return (try y.activated(act, slope: slope), [])
    }, backward: nil, lower: .convLayer),
    // A chain of elementwise ops over x (input 0) with operands (inputs 1...) that
    // broadcast into x's shape; attr `steps`: the `ChainStep`s (`Attr.chain`).
    OpDef(.elementwise, arity: 1...64, shape: { s, a in
        for o in s.dropFirst() where try broadcastShapes(s[0], o, op: .elementwise) != s[0] {
            throw GraphError("elementwise: operand \(formatShape(o)) does not broadcast into \(formatShape(s[0]))")
        }
        for step in try chainSteps(a) { try step.check(operands: s.count) }
        return s[0]
    }, forward: { x, a, _ in
        let steps = try chainSteps(a)
        if x.allSatisfy({ $0.dtype == .float32 }) { return (try chainFused(x, steps), []) }
        return (try chainReference(x, steps), [])
    }, backward: nil, lower: .chain),
]

/// The steps of an `elementwise` node.
func chainSteps(_ a: Attrs) throws -> [ChainStep] {
    guard let steps = a.chain("steps") else { throw GraphError("elementwise: attribute 'steps' is missing") }
    return steps
}
