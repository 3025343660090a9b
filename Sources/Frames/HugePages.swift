#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back a large, freshly reserved buffer with transparent huge pages
/// (2 MB), so filling it takes a few hundred page faults instead of tens of thousands:
/// on a 1M-row load the 4 KB faults were about a quarter of the time. A hint only; a
/// no-op off Linux, for small buffers, or where THP is disabled.
func adviseHugePages(_ base: UnsafeMutableRawPointer?, bytes: Int) {
    #if os(Linux)
    guard let base, bytes >= 4 << 20 else { return }
    let page = 4096
    let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: base) + bytes) & ~(page - 1)
    guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(p, end - start, 14)  // MADV_HUGEPAGE
    #endif
}

extension Array where Element: BitwiseCopyable {
    /// Reserves room for `n` elements and hints huge pages for that storage.
    mutating func reserveHuge(_ n: Int) {
        reserveCapacity(n)
        let cap = capacity
        let base = withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress) }
        adviseHugePages(base, bytes: cap * MemoryLayout<Element>.stride)
    }
}
