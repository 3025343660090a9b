import CKernels

/// An activation function, named as graph ops, layers, model files and serving name it
/// ("relu", "leaky_relu", ...). The one type for them: fused graph ops, prepared kernels,
/// the GEMM/convolution epilogue and layers all dispatch on it.
/// `gelu` is the tanh approximation (PyTorch approximate="tanh"), as the graph's op.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case none, relu, leakyRelu = "leaky_relu", gelu, tanh, sigmoid, softmax

    /// Acts on each value alone (all but softmax, which normalizes the last axis), so it
    /// can end a fused GEMM, convolution or elementwise chain.
    public var isElementwise: Bool { self != .softmax }
    /// Not applied by the GEMM/convolution store loop (which does ReLU), so run after it.
    var runsAfterStoreLoop: Bool { self != .none && self != .relu }
}

extension Tensor {
    /// `a` applied with the vectorised Tensor kernels (`slope`: leaky ReLU's negative
    /// slope; softmax over the last axis). Returns a new tensor.
    public func activated(_ a: Activation, slope: Double = 0.01) throws -> Tensor {
        switch a {
        case .none: return self
        case .relu: return relu()
        case .leakyRelu: return try Tensor.where(Tensor.compare(self, Tensor(scalar: 0, dtype: dtype), .gt), self, self * slope)
        case .gelu: return gelu(.tanh)
        case .tanh: return tanh()
        case .sigmoid: return sigmoid()
        case .softmax: return try softmax(axis: -1)
        }
    }
}

extension PreparedLayer {
    /// The float32 raw kernel of an elementwise activation (`x` may equal `y`), or nil for
    /// those without one (none, leaky ReLU's slope, softmax: use `softmaxRows`).
    public static func activation(_ a: Activation) -> ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
        let op: Int32
        switch a {
        case .relu: op = Int32(MLW_RELU)
        case .tanh: op = Int32(MLW_TANH)
        case .sigmoid: op = Int32(MLW_SIGMOID)
        case .gelu: op = Int32(MLW_GELU_TANH)
        case .none, .leakyRelu, .softmax: return nil
        }
        return { x, y, n in mlw_unary_f32(op, x, y, n) }
    }
}
