/// Constructors: zeros, ones, full, arange, linspace, eye.
extension Tensor {
    /// All zeros. Example: `try Tensor.zeros([2, 3])`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try Tensor(uninitialized: shape, dtype: dtype, zeroed: true, op: "zeros")
    }

    /// All ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try full(shape, 1, dtype: dtype, op: "ones")
    }

    /// Every element equal to `value` (converted to `dtype`).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) throws -> Tensor {
        try full(shape, value, dtype: dtype, op: "full")
    }

    static func full(_ shape: [Int], _ value: Double, dtype: DType, op: String) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype, op: op)
        let n = t.count
        switch dtype {
        case .float32: t.ptr(Float.self).initialize(repeating: Float(value), count: n)
        case .float64: t.ptr(Double.self).initialize(repeating: value, count: n)
        case .int32: t.ptr(Int32.self).initialize(repeating: Int32(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .int8: t.ptr(Int8.self).initialize(repeating: Int8(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .uint8: t.ptr(UInt8.self).initialize(repeating: UInt8(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .bool: t.ptr(UInt8.self).initialize(repeating: value != 0 ? 1 : 0, count: n)
        }
        return t
    }

    /// Values start, start+step, ... below stop (above for negative steps), like numpy.arange.
    /// Example: `try Tensor.arange(0, 5)` gives [0, 1, 2, 3, 4].
    public static func arange(_ start: Double, _ stop: Double, step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, stop.isFinite else {
            throw TensorError("arange", "invalid range start \(start), stop \(stop), step \(step)")
        }
        let n = Swift.max(0, ((stop - start) / step).rounded(.up))
        guard n <= Double(TensorStorage.maxBytes / 16) else { throw TensorError("arange", "range has too many elements (\(n))") }
        let count = Int(n)
        return try fromDoubles((0..<count).map { start + Double($0) * step }, shape: [count], dtype: dtype, op: "arange")
    }

    /// `count` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) throws -> Tensor {
        guard count >= 0 else { throw TensorError("linspace", "count must be >= 0, got \(count)") }
        _ = try ShapeUtil.count([count], op: "linspace")
        guard count <= TensorStorage.maxBytes / 16 else { throw TensorError("linspace", "count \(count) is too large") }
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        var v = (0..<count).map { start + Double($0) * step }
        if count > 1 { v[count - 1] = end }
        return try fromDoubles(v, shape: [count], dtype: dtype, op: "linspace")
    }

    /// Identity-like matrix of shape [n, m] (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) throws -> Tensor {
        let cols = m ?? n
        let t = try zeros([n, cols], dtype: dtype)
        let one = try full([], 1, dtype: dtype)
        for i in 0..<Swift.min(n, cols) {
            (t.basePointer + (i * cols + i) * dtype.size).copyMemory(from: one.basePointer, byteCount: dtype.size)
        }
        return t
    }
}
