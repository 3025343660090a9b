import CKernels

/// An n-dimensional array with value semantics.
///
/// Storage is a shared, copy-on-write byte buffer; `shape`, `strides` and `offset`
/// describe a view into it, so reshape/transpose/permute/slice are O(1) when possible.
/// Example: `let t = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])`.
public struct Tensor: @unchecked Sendable {
    /// Element type.
    public let dtype: DType
    /// Size of each axis.
    public let shape: [Int]
    /// Distance in elements between neighbours along each axis (0 for broadcast axes).
    public let strides: [Int]
    /// Position of element [0, 0, ...] in the storage, in elements.
    public let offset: Int
    var storage: TensorStorage

    init(storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor; `zeroed: false` leaves the bytes uninitialised (kernels fill them).
    init(uninitialized shape: [Int], dtype: DType, zeroed: Bool = false, op: String = "alloc") throws {
        let n = try ShapeUtil.count(shape, op: op)
        let (bytes, o) = n.multipliedReportingOverflow(by: dtype.size)
        guard !o else { throw TensorError(op, "shape \(fmt(shape)) is too large") }
        storage = try TensorStorage(byteCount: bytes, zeroed: zeroed, op: op)
        self.dtype = dtype
        self.shape = shape
        self.strides = ShapeUtil.contiguousStrides(shape)
        self.offset = 0
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// True when the elements are laid out row-major without gaps (offset may be non-zero).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Raw pointer to element [0, 0, ...].
    var basePointer: UnsafeMutableRawPointer { storage.data + offset * dtype.size }

    /// A contiguous tensor with the same values (self when already contiguous).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        var out = try! Tensor(uninitialized: shape, dtype: dtype)   // same byte count as an existing view's extent
        copyStrided(into: &out)
        return out
    }

    /// Copies this (possibly strided) view into the contiguous tensor `dst` of the same shape and dtype.
    func copyStrided(into dst: inout Tensor) {
        let n = count
        if n == 0 { return }
        // A transposed matrix (or batch of them) of 4-byte elements: blocked C transpose.
        if dtype.size == 4 && rank >= 2 && strides[rank - 2] == 1 && strides[rank - 1] != 1 {
            let rows = shape[rank - 1], cols = shape[rank - 2]   // source rows = dst cols
            let batch = Array(shape.dropLast(2))
            let offs = Tensor.batchOffsets(batch, Array(strides.dropLast(2)), offset)
            for (b, o) in offs.enumerated() {
                mlw_transpose_32(storage.data + o * 4, rows, cols, strides[rank - 1], dst.basePointer + b * rows * cols * 4, rows)
            }
            return
        }
        switch dtype.size {
        case 1: stridedCopy(UInt8.self, to: dst.basePointer)
        case 4: stridedCopy(UInt32.self, to: dst.basePointer)
        default: stridedCopy(UInt64.self, to: dst.basePointer)
        }
    }

    private func stridedCopy<T>(_: T.Type, to dstRaw: UnsafeMutableRawPointer) {
        let src = basePointer.assumingMemoryBound(to: T.self)
        let dst = dstRaw.assumingMemoryBound(to: T.self)
        if rank == 0 { dst[0] = src[0]; return }
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        let outer = count / Swift.max(inner, 1)
        var index = [Int](repeating: 0, count: rank)
        var srcOff = 0
        var d = 0
        for _ in 0..<outer {
            if innerStride == 1 {
                (dst + d).update(from: src + srcOff, count: inner)
            } else {
                var s = srcOff
                for j in 0..<inner { dst[d + j] = src[s]; s += innerStride }
            }
            d += inner
            // advance the outer index (axes 0..<rank-1), odometer style
            var ax = rank - 2
            while ax >= 0 {
                index[ax] += 1
                srcOff += strides[ax]
                if index[ax] < shape[ax] { break }
                srcOff -= strides[ax] * shape[ax]
                index[ax] = 0
                ax -= 1
            }
        }
    }

    /// Makes the storage uniquely owned and contiguous so it can be written in place.
    mutating func makeUniqueContiguous() {
        if isContiguous && isKnownUniquelyReferenced(&storage) {
            if storage.derived != nil { clearDerived() }   // the bytes are about to change
            return
        }
        var out = try! Tensor(uninitialized: shape, dtype: dtype)
        copyStrided(into: &out)
        self = out
    }

    /// Read-only access to the float32 elements in row-major order.
    /// Throws for other dtypes. Example: `try t.withFloats { $0.reduce(0, +) }`.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard dtype == .float32 else { throw TensorError("withFloats", "expected float32, got \(dtype)") }
        let c = contiguous()
        return try withExtendedLifetime(c) {
            try body(UnsafeBufferPointer(start: c.basePointer.assumingMemoryBound(to: Float.self), count: c.count))
        }
    }

    /// In-place access to float32 elements (copies first if the storage is shared or strided).
    /// Used by optimizers to update weights without allocating.
    public mutating func withMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        guard dtype == .float32 else { throw TensorError("withMutableFloats", "expected float32, got \(dtype)") }
        makeUniqueContiguous()
        return try body(UnsafeMutableBufferPointer(start: basePointer.assumingMemoryBound(to: Float.self), count: count))
    }

    /// Typed pointer to the first element of a contiguous tensor (internal fast paths).
    func ptr<T>(_: T.Type) -> UnsafeMutablePointer<T> { basePointer.assumingMemoryBound(to: T.self) }
}
