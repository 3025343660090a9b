import CKernels
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

/// Which GELU formula to use.
public enum GeluApproximation: Sendable {
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — the GPT-2 / PyTorch `approximate="tanh"` form.
    case tanh
    /// 0.5·x·(1 + erf(x/√2)) — the exact form.
    case erf
}

/// Unary math. float32 runs in the C kernels (exp and sigmoid use the vectorised
/// polynomial exp); other dtypes compute in Double. Math functions on integer
/// tensors return float32; neg/abs/relu keep the dtype.
extension Tensor {
    enum UnaryKind { case neg, abs, exp, log, sqrt, tanh, sigmoid, relu, geluTanh, geluErf }

    func unary(_ kind: UnaryKind) -> Tensor {
        let keepsDType = kind == .neg || kind == .abs || kind == .relu
        let outType: DType = keepsDType ? (dtype == .bool ? .int32 : dtype) : dtype.floatResult
        if outType == .float32 && dtype == .float32 {
            let src = contiguous()
            let out = try! Tensor(uninitialized: shape, dtype: .float32)
            let op: Int32
            switch kind {
            case .neg: op = Int32(MLW_NEG)
            case .abs: op = Int32(MLW_ABS)
            case .exp: op = Int32(MLW_EXP)
            case .log: op = Int32(MLW_LOG)
            case .sqrt: op = Int32(MLW_SQRT)
            case .tanh: op = Int32(MLW_TANH)
            case .sigmoid: op = Int32(MLW_SIGMOID)
            case .relu: op = Int32(MLW_RELU)
            case .geluTanh: op = Int32(MLW_GELU_TANH)
            case .geluErf: op = Int32(MLW_GELU_ERF)
            }
            withExtendedLifetime(src) { mlw_unary_f32(op, src.ptr(Float.self), out.ptr(Float.self), count) }
            return out
        }
        let f: (Double) -> Double
        switch kind {
        case .neg: f = { -$0 }
        case .abs: f = { Swift.abs($0) }
        case .exp: f = { Glibc_exp($0) }
        case .log: f = { Glibc_log($0) }
        case .sqrt: f = { $0.squareRoot() }
        case .tanh: f = { Glibc_tanh($0) }
        case .sigmoid: f = { 1 / (1 + Glibc_exp(-$0)) }
        case .relu: f = { $0 > 0 ? $0 : ($0.isNaN ? $0 : 0) }
        case .geluTanh: f = { 0.5 * $0 * (1 + Glibc_tanh(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))) }
        case .geluErf: f = { 0.5 * $0 * (1 + Glibc_erf($0 * 0.7071067811865476)) }
        }
        if outType.isInteger && (kind == .neg || kind == .abs || kind == .relu) {
            return try! Tensor.fromInt64(toInt64().map { wrapToInt64(f(Double($0))) }, shape: shape, dtype: outType, op: "unary")
        }
        return try! Tensor.fromDoubles(toDoubles().map(f), shape: shape, dtype: outType, op: "unary")
    }

    /// -x
    public func neg() -> Tensor { unary(.neg) }
    /// |x|
    public func abs() -> Tensor { unary(.abs) }
    /// eˣ (float32: vectorised polynomial, within a few ulp of expf).
    public func exp() -> Tensor { unary(.exp) }
    /// Natural log (NaN for negatives, -inf at 0).
    public func log() -> Tensor { unary(.log) }
    /// √x
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func tanh() -> Tensor { unary(.tanh) }
    /// 1 / (1 + e⁻ˣ)
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// Swift.max(x, 0)
    public func relu() -> Tensor { unary(.relu) }
    /// GELU; `.tanh` (default, PyTorch approximate="tanh") or `.erf` (exact).
    public func gelu(_ approximation: GeluApproximation = .tanh) -> Tensor {
        unary(approximation == .tanh ? .geluTanh : .geluErf)
    }

    /// Clamps every element into [lo, hi] (either bound may be nil). Keeps the dtype.
    public func clip(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        if let lo, let hi, lo > hi { throw TensorError("clip", "min \(lo) is greater than max \(hi)") }
        if dtype == .float32 {
            let src = contiguous()
            let out = try Tensor(uninitialized: shape, dtype: .float32, op: "clip")
            withExtendedLifetime(src) {
                mlw_clip_f32(src.ptr(Float.self), out.ptr(Float.self), count, Float(lo ?? -.infinity), Float(hi ?? .infinity))
            }
            return out
        }
        let l = lo ?? -.infinity, h = hi ?? .infinity
        return try Tensor.fromDoubles(toDoubles().map { Swift.min(Swift.max($0, l), h) }, shape: shape, dtype: dtype, op: "clip")
    }
}

@inline(__always) func Glibc_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func Glibc_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Glibc_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) func Glibc_erf(_ x: Double) -> Double { erf(x) }
