import Graph
import Tensor

/// An optimizer updates parameters in place from their gradients. Updates are single
/// passes over float buffers (Adam: a C kernel, CKernels/train.c; elements are
/// independent, so threads never change the bits), with no temporaries.
public protocol Optimizer {
    var lr: Double { get set }
    mutating func step(_ params: inout [String: Tensor], _ grads: [String: Tensor], names: [String]) throws
}

/// Per-parameter state buffers, created lazily.
struct SlotState {
    var slots: [String: [Float]] = [:]
    /// The state of `key` (its first n values), or zeros when there is none or too little.
    mutating func take(_ key: String, _ n: Int) -> [Float] {
        if let s = slots.removeValue(forKey: key), s.count >= n { return s.count == n ? s : Array(s.prefix(n)) }
        return [Float](repeating: 0, count: n)
    }
}

/// Runs `body(name, param, grad)` on each named parameter in place. The parameter is
/// modified inside the dictionary, so it is not copied when nothing else holds it.
func updateEach(_ params: inout [String: Tensor], _ grads: [String: Tensor], _ names: [String],
                _ body: (String, UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> Void) throws {
    for name in names {
        guard let dt = params[name]?.dtype, let g = grads[name] else { continue }
        guard dt == .float32 else { throw TrainError("optimizer: parameter '\(name)' is \(dt); float32 expected") }
        let gf = g.astype(.float32)
        guard gf.count == params[name]!.count else { throw TrainError("optimizer: gradient of '\(name)' has shape \(g.shape), the parameter \(params[name]!.shape)") }
        try gf.withFloats { gv in try params[name]!.withMutableFloats { try body(name, $0, gv) } }
    }
}

/// SGD with momentum, Nesterov, L2 weight decay (PyTorch semantics, dampening 0):
/// g ← g + wd·p; v ← μ·v + g; p ← p − lr·(nesterov ? g + μ·v : v).
public struct SGD: Optimizer {
    public var lr: Double; public var momentum: Double; public var nesterov: Bool; public var weightDecay: Double
    var state = SlotState()
    public init(lr: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        self.lr = lr; self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
    }
    public mutating func step(_ params: inout [String: Tensor], _ grads: [String: Tensor], names: [String]) throws {
        let lr = Float(self.lr), mu = Float(momentum), wd = Float(weightDecay), nest = nesterov
        try updateEach(&params, grads, names) { name, p, g in
            var v = momentum != 0 ? state.take(name, p.count) : []
            for i in 0..<p.count {
                var gi = g[i] + wd * p[i]
                if mu != 0 { v[i] = mu * v[i] + gi; gi = nest ? gi + mu * v[i] : v[i] }
                p[i] -= lr * gi
            }
            if mu != 0 { state.slots[name] = v }
        }
    }
}

/// Adam (L2 weight decay added to the gradient) and AdamW (decoupled decay: p ← p − lr·wd·p first).
public struct Adam: Optimizer {
    public var lr: Double; public var beta1: Double; public var beta2: Double; public var eps: Double
    public var weightDecay: Double; public var decoupled: Bool
    var t = 0
    /// beta1^t and beta2^t, multiplied up one step at a time (the same bits as
    /// Foundation_pow(beta, t), without its t multiplications per step).
    var beta1Power = 1.0, beta2Power = 1.0, powerBetas = (0.9, 0.999)
    var m = SlotState(), v = SlotState()
    public init(lr: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay; self.decoupled = decoupled
    }
    public mutating func step(_ params: inout [String: Tensor], _ grads: [String: Tensor], names: [String]) throws {
        if powerBetas != (beta1, beta2) {   // betas edited between steps: start the powers over
            (beta1Power, beta2Power, powerBetas) = (Foundation_pow(beta1, t), Foundation_pow(beta2, t), (beta1, beta2))
        }
        t += 1
        beta1Power *= beta1; beta2Power *= beta2
        let b1 = Float(beta1), b2 = Float(beta2), e = Float(eps), lrF = Float(lr), wd = Float(weightDecay)
        let c1 = Float(1 - beta1Power), c2 = Float(1 - beta2Power)
        let dec = decoupled
        try updateEach(&params, grads, names) { name, p, g in
            var mm = m.take(name, p.count), vv = v.take(name, p.count)
            mm.withUnsafeMutableBufferPointer { mb in
                vv.withUnsafeMutableBufferPointer { vb in
                    OptimizerKernels.adam(p, grad: g, m: mb, v: vb, lr: lrF, beta1: b1, beta2: b2, c1: c1, c2: c2, eps: e,
                                          weightDecay: wd, decoupled: dec)
                }
            }
            m.slots[name] = mm; v.slots[name] = vv
        }
    }
}

public func adamW(lr: Double = 0.001, weightDecay: Double = 0.01) -> Adam { Adam(lr: lr, weightDecay: weightDecay, decoupled: true) }

/// RMSprop: s ← α·s + (1−α)·g²; p ← p − lr·g / (√s + ε).
public struct RMSprop: Optimizer {
    public var lr: Double; public var alpha: Double; public var eps: Double; public var weightDecay: Double
    var s = SlotState()
    public init(lr: Double = 0.01, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0) {
        self.lr = lr; self.alpha = alpha; self.eps = eps; self.weightDecay = weightDecay
    }
    public mutating func step(_ params: inout [String: Tensor], _ grads: [String: Tensor], names: [String]) throws {
        let a = Float(alpha), e = Float(eps), lrF = Float(lr), wd = Float(weightDecay)
        try updateEach(&params, grads, names) { name, p, g in
            var ss = s.take(name, p.count)
            for i in 0..<p.count {
                let gi = g[i] + wd * p[i]
                ss[i] = a * ss[i] + (1 - a) * gi * gi
                p[i] -= lrF * gi / (ss[i].squareRoot() + e)
            }
            s.slots[name] = ss
        }
    }
}

func Foundation_pow(_ b: Double, _ n: Int) -> Double { var r = 1.0; for _ in 0..<n { r *= b }; return r }

/// Scales all gradients by max/(norm+1e-6) when their global L2 norm exceeds `maxNorm`
/// (PyTorch clip_grad_norm_). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ grads: inout [String: Tensor], maxNorm: Double, names: [String]) throws -> Double {
    var sq = 0.0
    for n in names { if let g = grads[n] { for v in g.toDoubles() { sq += v * v } } }
    let norm = sq.squareRoot()
    if norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for n in names { if let g = grads[n] { grads[n] = try g * s } }
    }
    return norm
}

/// Learning-rate schedules: a multiplier of the base rate as a function of the step (0-based).
public indirect enum LRSchedule: Sendable {
    case constant
    /// × gamma every `every` steps.
    case step(every: Int, gamma: Double)
    /// Cosine from 1 to minFactor over `total` steps.
    case cosine(total: Int, minFactor: Double = 0)
    /// Linear ramp from 0 over `steps`, then `then` (counted from the end of warmup).
    case warmup(steps: Int, then: LRSchedule)

    public func factor(_ step: Int) -> Double {
        switch self {
        case .constant: return 1
        case .step(let every, let gamma): return Foundation_pow(gamma, step / max(every, 1))
        case .cosine(let total, let minF):
            let t = min(Double(step) / Double(max(total, 1)), 1)
            return minF + (1 - minF) * 0.5 * (1 + _cos(Double.pi * t))
        case .warmup(let n, let then): return step < n ? Double(step + 1) / Double(n) : then.factor(step - n)
        }
    }
}

/// cos without Foundation (Taylor range-reduced is overkill; Swift has no stdlib cos): use Glibc.
#if canImport(Glibc)
import Glibc
func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
