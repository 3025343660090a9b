/// Output buffers kept across calls, so a loop that computes the same shapes every
/// iteration (a training step) allocates them once. The graph executor keeps one per
/// plan (batch size).
///
/// `buffer(key, shape:)` returns last call's tensor for `key` when nobody else holds it
/// any more, else a new one: a caller that kept an old result still sees its values.
/// Example: `var y = try cache.buffer(0, shape: [64, 10]); try Tensor.linear(x, weight: w, into: &y)`.
public final class BufferCache {
    private var slots: [Int: Tensor] = [:]
    public init() {}

    /// A contiguous tensor of this shape and dtype with unspecified contents.
    public func buffer(_ key: Int, shape: [Int], dtype: DType = .float32) throws -> Tensor {
        if var t = slots.removeValue(forKey: key) {
            if t.shape == shape && t.dtype == dtype && t.offset == 0 && isKnownUniquelyReferenced(&t.storage) {
                slots[key] = t
                return t
            }
        }
        let t = try Tensor(uninitialized: shape, dtype: dtype, op: "buffer")
        slots[key] = t
        allocations += 1
        return t
    }

    /// Number of buffers held, and how many were allocated in all (for tests).
    public var count: Int { slots.count }
    public private(set) var allocations = 0
}

extension Tensor {
    /// A new contiguous tensor whose contents are unspecified (for `into:` kernels that fill it).
    public static func empty(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try Tensor(uninitialized: shape, dtype: dtype, op: "empty")
    }

    /// Checks that `out` can receive a result of this shape: contiguous float32.
    /// The `into:` kernels write over `out`'s buffer even when other tensors share it,
    /// so `out` must be a buffer the caller owns (a fresh tensor or a `BufferCache` buffer).
    static func checkOut(_ out: Tensor, _ shape: [Int], _ op: String) throws {
        guard out.dtype == .float32, out.isContiguous, out.shape == shape else {
            throw TensorError(op, "output buffer of shape \(fmt(out.shape)) \(out.dtype) cannot hold a float32 result of shape \(fmt(shape))")
        }
    }

    /// Rows `indices` of a contiguous 2-D-or-more tensor, copied into `out` (shape [indices.count, ...]).
    /// The minibatch gather of the train loop. Indices must be in range (checked).
    public func selectRows(_ indices: ArraySlice<Int>, into out: inout Tensor) throws {
        let n = shape.first ?? 0
        guard rank >= 1, out.dtype == dtype, out.isContiguous, out.shape == [indices.count] + shape.dropFirst() else {
            throw TensorError("select_rows", "output of shape \(fmt(out.shape)) does not fit \(indices.count) rows of \(fmt(shape))")
        }
        let c = contiguous()
        let rowBytes = (count / Swift.max(n, 1)) * dtype.size
        try withExtendedLifetime(c) {
            var dst = out.basePointer
            for i in indices {
                guard i >= 0 && i < n else { throw TensorError("select_rows", "row \(i) is out of range for \(n) rows") }
                dst.copyMemory(from: c.basePointer + i * rowBytes, byteCount: rowBytes)
                dst += rowBytes
            }
        }
    }
}
