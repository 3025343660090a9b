import Foundation
import Tensor

// Fused ops produced by the graph optimizer (Sources/Optimize). They exist only in
// inference graphs, so they have no backward rule: train the unfused graph, then optimize.

/// The activations a fused op may apply after its GEMM / convolution / chain step.
public let fusableActivations: Set<String> = ["relu", "leaky_relu", "gelu", "tanh", "sigmoid"]

/// Applies a named activation with the Tensor engine's vectorised kernels. (An in-place
/// Swift loop was slower: the caller's reference makes the buffer shared, forcing a copy.)
func applyActivation(_ t: Tensor, _ act: String, slope: Double) throws -> Tensor {
    switch act {
    case "none": return t
    case "relu": return t.relu()   // SIMD kernel; the input buffer goes back to the pool when the caller drops it
    case "leaky_relu": return try Tensor.where(Tensor.compare(t, scalar(0, t.dtype), .gt), t, t * slope)
    case "gelu": return t.gelu(.tanh)
    case "tanh": return t.tanh()
    case "sigmoid": return t.sigmoid()
    default: throw GraphError("fused op: unknown activation '\(act)'")
    }
}

private func actAttr(_ a: Attrs) -> (String, Double) { (a.string("activation", "none"), a.double("slope", 0.01)) }

/// One step of an `elementwise` chain: an activation, or a binary op with the running
/// value on the left (`add`) or right (`radd`: operand op value) and operand input `k`.
public struct ChainStep: Equatable {
    public var op: String
    public var operand: Int?
    public var reversed: Bool
    public var slope: Double
    public init(op: String, operand: Int? = nil, reversed: Bool = false, slope: Double = 0.01) {
        self.op = op; self.operand = operand; self.reversed = reversed; self.slope = slope
    }
    /// Text form stored in the `steps` attribute: "add#1", "rsub#2", "relu", "leaky_relu@0.2".
    public var text: String {
        if let k = operand { return (reversed ? "r" : "") + op + "#\(k)" }
        return op == "leaky_relu" ? "leaky_relu@\(slope)" : op
    }
    public static func parse(_ program: String) throws -> [ChainStep] {
        try program.split(separator: ";").map { part in
            let s = String(part)
            if let h = s.firstIndex(of: "#") {
                var name = String(s[..<h]); let rev = name.hasPrefix("r") && name != "relu"
                if rev { name.removeFirst() }
                guard let k = Int(s[s.index(after: h)...]), ["add", "sub", "mul", "div"].contains(name) else { throw GraphError("elementwise: bad step '\(s)'") }
                return ChainStep(op: name, operand: k, reversed: rev)
            }
            if s.hasPrefix("leaky_relu@"), let v = Double(s.dropFirst(11)) { return ChainStep(op: "leaky_relu", slope: v) }
            guard fusableActivations.contains(s) else { throw GraphError("elementwise: bad step '\(s)'") }
            return ChainStep(op: s)
        }
    }
}

/// The obvious twin of the fused loop: one Tensor op per step (any dtype; the test oracle).
public func chainReference(_ x: [Tensor], _ steps: [ChainStep]) throws -> Tensor {
    var v = x[0]
    for s in steps {
        if let k = s.operand {
            let op: BinaryOp = s.op == "add" ? .add : s.op == "sub" ? .sub : s.op == "mul" ? .mul : .div
            v = s.reversed ? try Tensor.binary(x[k], v, op) : try Tensor.binary(v, x[k], op)
        } else { v = try applyActivation(v, s.op, slope: s.slope) }
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
            switch (s.op, s.reversed) {
            case ("add", _): return .add
            case ("sub", false): return .sub
            case ("sub", true): return .rsub
            case ("mul", _): return .mul
            case ("div", false): return .div
            case ("div", true): return .rdiv
            case ("relu", _): return .relu
            case ("leaky_relu", _): return .leaky
            case ("tanh", _): return .tanh
            case ("sigmoid", _): return .sigmoid
            default: return .gelu
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
    OpDef("dense_act", arity: 2...3, shape: { s, a in try OpRegistry.op("dense").shape(s, [:]) }, forward: { x, a, _ in
        let (act, slope) = actAttr(a)
        let base = try OpRegistry.op("dense").forward(x, act == "relu" ? ["activation": .string("relu")] : [:], OpContext(training: false)).0
        return (act == "relu" ? base : try applyActivation(base, act, slope: slope), [])
    }, backward: nil),
    // act(conv2d(x, W, b)): ReLU runs in the GEMM's store loop, other activations on the fresh output.
    OpDef("conv2d_act", arity: 2...3, shape: { s, a in try OpRegistry.op("conv2d").shape(s, a) }, forward: { x, a, ctx in
        let (act, slope) = actAttr(a)
        if act == "relu", x.allSatisfy({ $0.dtype == .float32 }) {   // ReLU in the GEMM's store loop
            return (try Tensor.conv2d(x[0], weight: x[1], bias: x.count == 3 ? x[2] : nil, stride: a.pair("stride", 1),
                                      padding: a.pair("padding", 0), activation: .relu), [])
        }
        let y = try OpRegistry.op("conv2d").forward(x, a, ctx).0
        return (try applyActivation(y, act, slope: slope), [])
    }, backward: nil),
    // A chain of elementwise ops over x (input 0) with operands (inputs 1...) that
    // broadcast into x's shape; attr `steps` = "add#1;relu" (see ChainStep).
    OpDef("elementwise", arity: 1...64, shape: { s, a in
        for o in s.dropFirst() where try broadcastShapes(s[0], o, op: "elementwise") != s[0] {
            throw GraphError("elementwise: operand \(formatShape(o)) does not broadcast into \(formatShape(s[0]))")
        }
        _ = try ChainStep.parse(a.string("steps", ""))
        return s[0]
    }, forward: { x, a, _ in
        let steps = try ChainStep.parse(a.string("steps", ""))
        if x.allSatisfy({ $0.dtype == .float32 }) { return (try chainFused(x, steps), []) }
        return (try chainReference(x, steps), [])
    }, backward: nil),
]
