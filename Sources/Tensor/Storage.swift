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
        let p = zeroed ? calloc(n, 1) : aligned_alloc(64, (n + 63) / 64 * 64)
        guard let ptr = p else { throw TensorError(op, "out of memory allocating \(byteCount) bytes") }
        data = ptr
        self.byteCount = byteCount
    }

    deinit { free(data) }
}
