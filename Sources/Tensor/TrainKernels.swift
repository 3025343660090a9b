import CKernels

/// Fused kernels of the training step (CKernels/train.c), for the graph's dense and
/// cross-entropy ops and the optimizers. Each has a slow, obvious twin in the tests.
extension Tensor {
    /// Gradient through a dense layer's epilogue: `out` = grad masked by `output > 0` when
    /// `relu` (else grad), and `biasGrad` = its column sums (added in row order), in one pass.
    /// grad and output are [rows, cols] float32; out [rows, cols] and biasGrad [cols] are
    /// overwritten in place (buffers the caller owns). `out` may be `grad`'s own buffer.
    public static func denseEpilogueBackward(grad: Tensor, output: Tensor?, into out: inout Tensor, biasGrad: inout Tensor?) throws {
        guard grad.rank == 2, grad.dtype == .float32 else { throw TensorError("dense_backward", "expected a 2-D float32 gradient, got \(fmt(grad.shape)) \(grad.dtype)") }
        let (rows, cols) = (grad.shape[0], grad.shape[1])
        try checkOut(out, grad.shape, "dense_backward")
        if let y = output, y.shape != grad.shape || y.dtype != .float32 {
            throw TensorError("dense_backward", "output \(fmt(y.shape)) does not match the gradient \(fmt(grad.shape))")
        }
        if let b = biasGrad { try checkOut(b, [cols], "dense_backward") }
        let g = grad.contiguous(), y = output?.contiguous()
        withExtendedLifetime((g, y)) {
            mlw_dense_act_backward_f32(g.ptr(Float.self), y.map { UnsafePointer($0.ptr(Float.self)) }, out.ptr(Float.self),
                                       biasGrad?.ptr(Float.self), rows, cols)
        }
    }

    /// ReLU of a float32 tensor written into `out` (same shape, contiguous; a buffer the caller owns).
    public static func relu(_ x: Tensor, into out: inout Tensor) throws {
        guard x.dtype == .float32 else { throw TensorError("relu", "expected float32, got \(x.dtype)") }
        try checkOut(out, x.shape, "relu")
        let src = x.contiguous()
        withExtendedLifetime(src) { mlw_unary_f32(Int32(MLW_RELU), src.ptr(Float.self), out.ptr(Float.self), x.count) }
    }

    /// Mean cross-entropy of float32 logits [N, C] against class labels [N] (any numeric
    /// dtype, each in 0..<C), with the softmax probabilities written into `probs` [N, C].
    public static func crossEntropy(logits: Tensor, labels: Tensor, probs: inout Tensor) throws -> Double {
        guard logits.rank == 2, logits.dtype == .float32, labels.count == logits.shape[0] else {
            throw TensorError("cross_entropy", "expected float32 logits [N, C] and N labels, got \(fmt(logits.shape)) and \(fmt(labels.shape))")
        }
        try checkOut(probs, logits.shape, "cross_entropy")
        let z = logits.contiguous(), y = try classLabels(labels, classes: logits.shape[1])
        return withExtendedLifetime((z, y)) {
            mlw_cross_entropy_f32(z.ptr(Float.self), y.ptr(Float.self), probs.ptr(Float.self), logits.shape[0], logits.shape[1])
        }
    }

    /// Gradient of `crossEntropy` w.r.t. the logits, times `scale`: (probs − onehot) · scale, into `out`.
    public static func crossEntropyBackward(probs: Tensor, labels: Tensor, scale: Double, into out: inout Tensor) throws {
        try checkOut(out, probs.shape, "cross_entropy")
        let y = try classLabels(labels, classes: probs.shape[1])
        let p = probs.contiguous()
        withExtendedLifetime((p, y)) {
            mlw_cross_entropy_backward_f32(p.ptr(Float.self), y.ptr(Float.self), out.ptr(Float.self), probs.shape[0], probs.shape[1], Float(scale))
        }
    }

    /// Labels as contiguous float32 after checking each is an integer class in 0..<classes.
    static func classLabels(_ labels: Tensor, classes: Int) throws -> Tensor {
        let y = labels.astype(.float32).contiguous()
        let p = y.ptr(Float.self)
        for i in 0..<y.count {
            let v = p[i]
            guard v >= 0, v < Float(classes), v == v.rounded(.towardZero) else {
                let shown = v.isFinite && Swift.abs(v) < 1e9 && v == v.rounded() ? String(Int(v)) : String(v)
                throw TensorError("cross_entropy", "label \(shown) out of range for \(classes) classes")
            }
        }
        return y
    }

    /// Per-column mean, population standard deviation, min and max of a 2-D float32 tensor, in
    /// one pass without transposing (double accumulation, shifted by the first row).
    public func columnStats() throws -> (mean: [Double], std: [Double], min: [Double], max: [Double]) {
        guard rank == 2, dtype == .float32 else { throw TensorError("column_stats", "expected a 2-D float32 tensor, got \(fmt(shape)) \(dtype)") }
        let c = contiguous(), cols = shape[1]
        var mean = [Double](repeating: 0, count: cols), std = mean, lo = mean, hi = mean
        withExtendedLifetime(c) {
            mlw_column_stats_f32(c.ptr(Float.self), shape[0], cols, &mean, &std, &lo, &hi)
        }
        return (mean, std, lo, hi)
    }

    /// True when every element is finite (integer tensors always are).
    public var allFinite: Bool {
        guard dtype.isFloatingPoint else { return true }
        let c = astype(.float32).contiguous()
        return withExtendedLifetime(c) { mlw_all_finite_f32(c.ptr(Float.self), c.count) != 0 }
    }
}

/// In-place optimizer updates on raw float buffers (CKernels/train.c).
public enum OptimizerKernels {
    /// One Adam/AdamW step; see `mlw_adam_f32`. All buffers have the same length.
    public static func adam(_ p: UnsafeMutableBufferPointer<Float>, grad: UnsafeBufferPointer<Float>,
                            m: UnsafeMutableBufferPointer<Float>, v: UnsafeMutableBufferPointer<Float>,
                            lr: Float, beta1: Float, beta2: Float, c1: Float, c2: Float, eps: Float, weightDecay: Float, decoupled: Bool) {
        precondition(grad.count == p.count && m.count == p.count && v.count == p.count, "adam: buffer lengths differ")
        guard let pp = p.baseAddress, let gp = grad.baseAddress, let mp = m.baseAddress, let vp = v.baseAddress else { return }
        mlw_adam_f32(pp, gp, mp, vp, p.count, lr, beta1, beta2, c1, c2, eps, weightDecay, decoupled ? 1 : 0)
    }
}
