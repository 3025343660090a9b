#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared byte buffer behind one or more tensors (views share it).
/// Tensors copy it before writing when it is not uniquely referenced.
final class TensorStorage: @unchecked Sendable {
    let data: UnsafeMutableRawPointer
    let byteCount: Int
    /// Size class when the buffer came from `BufferPool` (and goes back to it), else 0.
    private let pooledSize: Int
    /// A kernel's repacked copy of these bytes (see Derived.swift); guarded by `derivedLock`.
    var derived: DerivedEntry?

    /// Largest single allocation we accept: the machine's physical memory.
    static let maxBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0 && size > 0 { return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size }
        return 1 << 40
    }()

    init(byteCount: Int, zeroed: Bool = true, op: String = "alloc") throws {
        guard byteCount >= 0, byteCount <= TensorStorage.maxBytes else {
            throw TensorError(op, "cannot allocate \(byteCount) bytes (limit \(TensorStorage.maxBytes))")
        }
        let n = Swift.max(byteCount, 1)
        var p: UnsafeMutableRawPointer?
        if n >= BufferPool.minBytes {
            // Large buffers come from (and return to) the size-class cache; see BufferPool.swift.
            let size = BufferPool.sizeClass(n)
            p = BufferPool.shared.allocate(size)
            // A cached buffer holds an old tensor's bytes; fresh memory may too (malloc reuses).
            if zeroed, let q = p { memset(q, 0, n) }
            pooledSize = size
        } else {
            // Below the cache's sizes, plain malloc (16-byte aligned, its per-thread cache):
            // aligned_alloc cost about as much again as the rest of a batch-1 output tensor.
            p = zeroed ? calloc(n, 1) : n <= 4096 ? malloc(n) : aligned_alloc(64, (n + 63) / 64 * 64)
            pooledSize = 0
        }
        guard let ptr = p else { throw TensorError(op, "out of memory allocating \(byteCount) bytes") }
        data = ptr
        self.byteCount = byteCount
    }

    deinit {
        // The last tensor holding this storage is gone, so the buffer can be handed out again.
        if pooledSize > 0 { BufferPool.shared.release(data, size: pooledSize) } else { free(data) }
    }
}
