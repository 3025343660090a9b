#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounded cache of freed tensor buffers, reused by later tensors of the same size class
/// (what PyTorch's caching allocators do).
///
/// Why: glibc's malloc hands out big blocks with mmap and gives them back with munmap, so a
/// fresh multi-megabyte result costs one page fault per 4 KB page (plus the kernel zeroing
/// the page) the first time it is written. A loop that computes the same shapes over and
/// over (`c = a @ b` in a script, an elementwise op, a training step) would pay that on
/// every call; with the cache it pays it once.
///
/// Rules, checked by `BufferPoolTests`:
/// - Only buffers of at least `minBytes` are cached; smaller ones go to malloc, whose bins
///   already reuse memory without faults.
/// - A buffer enters the cache only from `TensorStorage.deinit` (no tensor can see it any
///   more) and leaves it on `allocate`, so it is never visible through two live tensors.
///   Contents are unspecified; `TensorStorage` zeroes a reused buffer when asked to.
/// - The cached bytes never exceed `capBytes` (`MLW_TENSOR_CACHE_MB`, default 256; 0 turns
///   the cache off); when a release would pass it, the oldest cached buffers are freed.
/// - Every operation takes one mutex: tensors are freed on whatever thread drops them.
final class BufferPool: @unchecked Sendable {
    /// The cache every `TensorStorage` uses, sized by `MLW_TENSOR_CACHE_MB`.
    static let shared = BufferPool(capBytes: capBytes(environment: getenv("MLW_TENSOR_CACHE_MB").map { String(cString: $0) }))
    /// Smallest cached buffer: glibc's default mmap threshold (128 KB).
    static let minBytes = 128 << 10
    /// Buffers from this size up are 2 MB aligned and advised as huge pages.
    static let hugeBytes = 2 << 20
    static let defaultCapMB = 256

    /// Most bytes kept in the cache (free buffers only; live tensors are not counted).
    let capBytes: Int
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    /// Free buffers per size class, oldest first (taken from the end: the most recently
    /// freed buffer is the likeliest to still be in the CPU's caches).
    private var classes: [Int: [(ptr: UnsafeMutableRawPointer, seq: UInt64)]] = [:]
    private var seq: UInt64 = 0
    private var bytes = 0
    private var counters = Stats()

    /// What the cache holds and has done (tests and diagnostics).
    struct Stats: Equatable {
        var cachedBytes = 0, cachedBuffers = 0
        var hits = 0, misses = 0, evictions = 0
    }

    init(capBytes: Int) {
        self.capBytes = Swift.max(0, capBytes)
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        purge()
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// The cap for a value of `MLW_TENSOR_CACHE_MB`: whole megabytes, 0 to turn the cache
    /// off; unset or not a non-negative integer gives the default; clamped to physical memory.
    static func capBytes(environment value: String?) -> Int {
        guard let text = value?.filter({ $0 != " " }), let mb = Int(text), mb >= 0 else { return defaultCapMB << 20 }
        let (b, o) = mb.multipliedReportingOverflow(by: 1 << 20)
        return o ? TensorStorage.maxBytes : Swift.min(b, TensorStorage.maxBytes)
    }

    /// Rounds a request of `n >= minBytes` bytes up to its size class: quarter steps between
    /// powers of two below 2 MB (at most 25% unused), whole 2 MB huge pages from there on.
    static func sizeClass(_ n: Int) -> Int {
        if n >= hugeBytes { return (n + hugeBytes - 1) / hugeBytes * hugeBytes }
        let top = 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)   // highest power of two <= n
        let step = Swift.max(top / 4, 1)
        return (n + step - 1) / step * step
    }

    /// A buffer of `size` bytes (a size class): a cached one, else fresh memory; nil when
    /// the system has none. The caller owns it until it hands it to `release`.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        pthread_mutex_lock(lock)
        if var list = classes[size], let last = list.popLast() {
            classes[size] = list.isEmpty ? nil : list
            bytes -= size
            counters.hits += 1
            pthread_mutex_unlock(lock)
            return last.ptr
        }
        counters.misses += 1
        pthread_mutex_unlock(lock)
        return BufferPool.fresh(size)
    }

    /// Takes back a buffer that came from `allocate(size)`: cached when it fits under the
    /// cap (evicting the oldest), else freed.
    func release(_ p: UnsafeMutableRawPointer, size: Int) {
        guard size <= capBytes else { free(p); return }
        var evicted: [UnsafeMutableRawPointer] = []
        pthread_mutex_lock(lock)
        seq &+= 1
        classes[size, default: []].append((p, seq))
        bytes += size
        while bytes > capBytes, let (oldSize, old) = oldestLocked() {
            evicted.append(old)
            bytes -= oldSize
            counters.evictions += 1
        }
        pthread_mutex_unlock(lock)
        for q in evicted { free(q) }   // outside the lock: munmap can take a while
    }

    /// Frees every cached buffer.
    func purge() {
        pthread_mutex_lock(lock)
        let all = classes.values.flatMap { $0.map(\.ptr) }
        classes = [:]
        bytes = 0
        pthread_mutex_unlock(lock)
        for p in all { free(p) }
    }

    var stats: Stats {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        var s = counters
        s.cachedBytes = bytes
        s.cachedBuffers = classes.values.reduce(0) { $0 + $1.count }
        return s
    }

    /// Removes and returns the buffer released longest ago (lock held). The number of
    /// distinct size classes held is small, so a scan of their oldest entries is cheap.
    private func oldestLocked() -> (Int, UnsafeMutableRawPointer)? {
        var best: (size: Int, seq: UInt64)?
        for (size, list) in classes {
            if let first = list.first, best == nil || first.seq < best!.seq { best = (size, first.seq) }
        }
        guard let b = best, var list = classes[b.size] else { return nil }
        let p = list.removeFirst().ptr
        classes[b.size] = list.isEmpty ? nil : list
        return (b.size, p)
    }

    /// Memory from the C library: huge-page aligned and advised from 2 MB, else 64-byte aligned
    /// (AVX-512 loads). Freed with `free`.
    private static func fresh(_ size: Int) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        let huge = size >= hugeBytes
        guard posix_memalign(&p, huge ? hugeBytes : 64, size) == 0, let q = p else { return nil }
        if huge { _ = madvise(q, size, 14 /* MADV_HUGEPAGE, where the kernel grants it */) }
        return q
    }
}
