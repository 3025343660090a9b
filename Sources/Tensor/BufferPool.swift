#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small cache of large freed buffers, reused by later allocations of the same size.
///
/// Touching a fresh multi-megabyte buffer costs one page fault per 4 KB page, which is
/// as expensive as the arithmetic of a memory-bound op (an `a * b + d` on 10 M floats
/// spends half its time faulting). Elementwise code allocates the same sizes over and
/// over, so keeping a few recently freed buffers removes that cost. Bounded by
/// `maxCachedBytes`; only buffers of at least `minBytes` are pooled.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    static let minBytes = 1 << 20
    let maxCachedBytes = 512 << 20
    let maxBuffers = 16

    private var lock = pthread_mutex_t()
    private var free: [(size: Int, ptr: UnsafeMutableRawPointer)] = []
    private var cachedBytes = 0

    private init() { pthread_mutex_init(&lock, nil) }

    /// Rounds a request to the pooled size class (2 MB granularity).
    static func sizeClass(_ n: Int) -> Int { (n + (2 << 20) - 1) / (2 << 20) * (2 << 20) }

    /// A cached buffer of exactly this size class, or nil.
    func take(_ size: Int) -> UnsafeMutableRawPointer? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard let i = free.lastIndex(where: { $0.size == size }) else { return nil }
        let p = free.remove(at: i).ptr
        cachedBytes -= size
        return p
    }

    /// Keeps the buffer for reuse, or frees it when the cache is full.
    func give(_ p: UnsafeMutableRawPointer, size: Int) {
        pthread_mutex_lock(&lock)
        if size <= maxCachedBytes {
            free.append((size, p))
            cachedBytes += size
            // evict oldest first
            while cachedBytes > maxCachedBytes || free.count > maxBuffers {
                let old = free.removeFirst()
                cachedBytes -= old.size
                Glibc.free(old.ptr)
            }
            pthread_mutex_unlock(&lock)
            return
        }
        pthread_mutex_unlock(&lock)
        Glibc.free(p)
    }
}
