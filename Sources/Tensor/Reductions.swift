import CKernels

/// Reductions over any set of axes, with keepDims.
///
/// The reduced axes are moved last and made contiguous, so every reduction is a
/// row reduction of a [outer, inner] matrix. float32 sums use the C blocked sum,
/// whose association order is fixed (deterministic for any thread count).
extension Tensor {
    enum ReduceKind: String { case sum, mean, max, min, argmax, argmin, variance = "var", std, logsumexp }

    /// Moves `axes` last and returns the [outer, inner] contiguous matrix plus the output shape.
    func reductionRows(_ axes: [Int]?, keepDims: Bool, op: String) throws -> (Tensor, outer: Int, inner: Int, outShape: [Int]) {
        let ax = try ShapeUtil.axes(axes, rank: rank, op: op)
        let kept = (0..<rank).filter { !ax.contains($0) }
        let moved = try permute(kept + ax).contiguous()
        let outer = kept.reduce(1) { $0 * shape[$1] }
        let inner = ax.reduce(1) { $0 * shape[$1] }
        let outShape = keepDims ? shape.indices.map { ax.contains($0) ? 1 : shape[$0] } : kept.map { shape[$0] }
        return (moved, outer, inner, outShape)
    }

    func reduce(_ kind: ReduceKind, axes: [Int]?, keepDims: Bool, correction: Int = 0) throws -> Tensor {
        let op = kind.rawValue
        let (m, outer, inner, outShape) = try reductionRows(axes, keepDims: keepDims, op: op)
        if inner == 0 && outer > 0 && [.max, .min, .argmax, .argmin].contains(kind) {
            throw TensorError(op, "cannot reduce an empty axis of tensor with shape \(fmt(shape))")
        }
        // float32 kernels
        if dtype == .float32 && inner > 0 && [.sum, .mean, .max, .min].contains(kind) {
            let out = try Tensor(uninitialized: outShape, dtype: .float32, op: op)
            let x = m.ptr(Float.self), o = out.ptr(Float.self)
            withExtendedLifetime(m) {
                switch kind {
                case .sum, .mean:
                    if outer == 1 {
                        let s = mlw_sum_f32(x, inner)
                        o[0] = Float(kind == .mean ? s / Double(inner) : s)
                    } else {
                        mlw_sum_rows_f32(x, outer, inner, o)
                        if kind == .mean { for i in 0..<outer { o[i] /= Float(inner) } }
                    }
                case .max: mlw_max_rows_f32(x, outer, inner, o)
                default: mlw_min_rows_f32(x, outer, inner, o)
                }
            }
            return out
        }
        // integer sums stay integer (int32, wrapping)
        if kind == .sum && !dtype.isFloatingPoint {
            let v = m.toInt64()
            let r = (0..<outer).map { i in v[(i * inner)..<((i + 1) * inner)].reduce(0, &+) }
            return try Tensor.fromInt64(r, shape: outShape, dtype: .int32, op: op)
        }
        let v = m.toDoubles()
        var r = [Double](repeating: 0, count: outer)
        for i in 0..<outer {
            let row = v[(i * inner)..<((i + 1) * inner)]
            r[i] = Tensor.reduceRow(row, kind, correction: correction)
        }
        let outType: DType
        switch kind {
        case .argmax, .argmin: outType = .int32
        case .max, .min: outType = dtype
        case .sum: outType = dtype
        default: outType = dtype.floatResult
        }
        return try Tensor.fromDoubles(r, shape: outShape, dtype: outType, op: op)
    }

    static func reduceRow(_ row: ArraySlice<Double>, _ kind: ReduceKind, correction: Int) -> Double {
        let n = row.count
        switch kind {
        case .sum: return row.reduce(0, +)
        case .mean: return row.reduce(0, +) / Double(n)
        case .max: return row.contains { $0.isNaN } ? .nan : row.max()!
        case .min: return row.contains { $0.isNaN } ? .nan : row.min()!
        case .argmax, .argmin:
            // first occurrence; NaN wins like numpy
            var best = row.startIndex
            for i in row.indices {
                if row[i].isNaN { return Double(i - row.startIndex) }
                if kind == .argmax ? row[i] > row[best] : row[i] < row[best] { best = i }
            }
            return Double(best - row.startIndex)
        case .variance, .std:
            let mean = row.reduce(0, +) / Double(n)
            let ss = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            let v = ss / (Double(n) - Double(correction))   // Double: no overflow for any correction
            return kind == .std ? v.squareRoot() : v
        case .logsumexp:
            guard let mx = row.max(), mx.isFinite else { return row.max() ?? -.infinity }
            return mx + Glibc_log(row.reduce(0) { $0 + Glibc_exp($1 - mx) })
        }
    }

    /// Sum over `axes` (nil = all). float32 uses the deterministic blocked kernel.
    /// Example: `try x.sum(axes: [1], keepDims: true)`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try reduce(.sum, axes: axes, keepDims: keepDims) }
    /// Mean over `axes` (NaN for empty axes).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try reduce(.mean, axes: axes, keepDims: keepDims) }
    /// Maximum over `axes` (NaN if any element is NaN). Throws on empty axes.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try reduce(.max, axes: axes, keepDims: keepDims) }
    /// Minimum over `axes`. Throws on empty axes.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try reduce(.min, axes: axes, keepDims: keepDims) }
    /// Index (int32) of the first maximum along `axis` (nil = over the flattened tensor).
    public func argmax(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduce(.argmax, axes: axis.map { [$0] }, keepDims: keepDims)
    }
    /// Index (int32) of the first minimum along `axis` (nil = flattened).
    public func argmin(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduce(.argmin, axes: axis.map { [$0] }, keepDims: keepDims)
    }
    /// Variance with divisor (n - correction); correction 0 is numpy's default, 1 is unbiased.
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) throws -> Tensor {
        try reduce(.variance, axes: axes, keepDims: keepDims, correction: correction)
    }
    /// Standard deviation, √variance.
    public func std(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) throws -> Tensor {
        try reduce(.std, axes: axes, keepDims: keepDims, correction: correction)
    }
    /// log(Σ exp(x)) computed stably (max subtracted first).
    public func logsumexp(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduce(.logsumexp, axes: axes, keepDims: keepDims)
    }

    /// Layer norm over the last axis, (x - mean) · rstd · gamma + beta with the biased
    /// variance, for float32 x, gamma and beta (nil otherwise: the caller composes it from
    /// tensor ops). One C kernel per row: mean and variance summed in double.
    public static func layerNormRows(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Double) throws -> Tensor? {
        guard x.dtype == .float32, gamma.dtype == .float32, beta.dtype == .float32, x.rank >= 1,
              gamma.count == x.shape[x.rank - 1], beta.count == gamma.count else { return nil }
        let src = x.contiguous(), g = gamma.contiguous(), b = beta.contiguous()
        let cols = x.shape[x.rank - 1], rows = cols == 0 ? 0 : x.count / cols
        let out = try Tensor(uninitialized: x.shape, dtype: .float32, op: "layer_norm")
        withExtendedLifetime((src, g, b)) {
            mlw_layer_norm_rows_f32(src.ptr(Float.self), rows, cols, g.ptr(Float.self), b.ptr(Float.self), Float(eps), out.ptr(Float.self))
        }
        return out
    }

    /// Softmax along `axis` (default last). float32 rows run in the C kernel.
    public func softmax(axis: Int = -1) throws -> Tensor { try softmaxImpl(axis: axis, log: false) }
    /// log(softmax(x)) along `axis`, computed as x - logsumexp(x).
    public func logSoftmax(axis: Int = -1) throws -> Tensor { try softmaxImpl(axis: axis, log: true) }

    private func softmaxImpl(axis: Int, log: Bool) throws -> Tensor {
        let op = log ? "log_softmax" : "softmax"
        guard rank > 0 else { throw TensorError(op, "needs at least 1 axis, got a scalar") }
        let a = try ShapeUtil.axis(axis, rank: rank, op: op)
        var order = Array(0..<rank)
        order.remove(at: a)
        order.append(a)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        let src = try permute(order).astype(dtype.floatResult).contiguous()
        let cols = shape[a], rows = cols == 0 ? 0 : count / cols
        let out = try Tensor(uninitialized: src.shape, dtype: src.dtype, op: op)
        if src.dtype == .float32 {
            withExtendedLifetime(src) {
                if log { mlw_log_softmax_rows_f32(src.ptr(Float.self), rows, cols, out.ptr(Float.self)) }
                else { mlw_softmax_rows_f32(src.ptr(Float.self), rows, cols, out.ptr(Float.self)) }
            }
        } else {
            let x = src.ptr(Double.self), o = out.ptr(Double.self)
            withExtendedLifetime(src) {
                for r in 0..<rows {
                    let row = UnsafeBufferPointer(start: x + r * cols, count: cols)
                    let lse = Tensor.reduceRow(ArraySlice(row), .logsumexp, correction: 0)
                    for j in 0..<cols { o[r * cols + j] = log ? row[j] - lse : Glibc_exp(row[j] - lse) }
                }
            }
        }
        return try out.permute(inverse)
    }
}
