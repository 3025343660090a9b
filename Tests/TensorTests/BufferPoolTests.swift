import XCTest
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Tensor

/// The size-class cache of freed tensor buffers (BufferPool.swift): reuse, the cap, zeroing,
/// no aliasing, and concurrent use.
final class BufferPoolTests: XCTestCase {
    let kb = 1 << 10, mb = 1 << 20

    func testSizeClassesRoundUpWithBoundedWaste() {
        var last = 0
        for n in stride(from: BufferPool.minBytes, through: 9 * mb, by: 4093) {
            let c = BufferPool.sizeClass(n)
            XCTAssertGreaterThanOrEqual(c, n)
            XCTAssertGreaterThanOrEqual(c, last, "classes grow with the request")
            last = c
            if n < BufferPool.hugeBytes {
                XCTAssertLessThanOrEqual(Double(c), Double(n) * 1.25 + 1, "at most 25% unused below 2 MB (n = \(n))")
            } else {
                XCTAssertEqual(c % BufferPool.hugeBytes, 0, "whole huge pages from 2 MB (n = \(n))")
            }
        }
        XCTAssertEqual(BufferPool.sizeClass(4 * mb), 4 * mb, "a 1024 x 1024 float32 result is its own class")
        XCTAssertEqual(BufferPool.sizeClass(128 * kb), 128 * kb)
        XCTAssertEqual(BufferPool.sizeClass(129 * kb), 160 * kb)
        XCTAssertEqual(BufferPool.sizeClass(2 * mb + 1), 4 * mb)
    }

    func testCapComesFromTheEnvironmentValue() {
        let def = BufferPool.defaultCapMB * mb
        XCTAssertEqual(BufferPool.capBytes(environment: nil), def)
        XCTAssertEqual(BufferPool.capBytes(environment: "64"), 64 * mb)
        XCTAssertEqual(BufferPool.capBytes(environment: " 8 "), 8 * mb)
        XCTAssertEqual(BufferPool.capBytes(environment: "0"), 0, "0 turns the cache off")
        XCTAssertEqual(BufferPool.capBytes(environment: "-5"), def)
        XCTAssertEqual(BufferPool.capBytes(environment: "lots"), def)
        XCTAssertEqual(BufferPool.capBytes(environment: "\(Int.max)"), TensorStorage.maxBytes, "clamped to physical memory")
    }

    func testFreedBufferIsReusedForItsSizeClassOnly() throws {
        let pool = BufferPool(capBytes: 64 * mb)
        let size = BufferPool.sizeClass(300 * kb), other = BufferPool.sizeClass(3 * mb)
        let p = try XCTUnwrap(pool.allocate(size))
        pool.release(p, size: size)
        XCTAssertEqual(pool.stats.cachedBytes, size)
        let q = try XCTUnwrap(pool.allocate(other))
        XCTAssertNotEqual(q, p, "another class never gets this buffer")
        let r = try XCTUnwrap(pool.allocate(size))
        XCTAssertEqual(r, p, "the same class gets it back")
        XCTAssertEqual(pool.stats, BufferPool.Stats(cachedBytes: 0, cachedBuffers: 0, hits: 1, misses: 2, evictions: 0))
        let s = try XCTUnwrap(pool.allocate(size))
        XCTAssertNotEqual(s, r, "a buffer in use is not handed out twice")
        for (b, n) in [(q, other), (r, size), (s, size)] { pool.release(b, size: n) }
    }

    func testCachedBytesStayUnderTheCapOldestEvictedFirst() throws {
        let size = 256 * kb
        let pool = BufferPool(capBytes: 3 * size)
        let ps = try (0..<4).map { _ in try XCTUnwrap(pool.allocate(size)) }
        for p in ps { pool.release(p, size: size) }
        var st = pool.stats
        XCTAssertEqual(st.cachedBytes, 3 * size)
        XCTAssertEqual(st.cachedBuffers, 3)
        XCTAssertEqual(st.evictions, 1)
        // Newest first; the first one released was freed.
        let back = try (0..<3).map { _ in try XCTUnwrap(pool.allocate(size)) }
        XCTAssertEqual(back, [ps[3], ps[2], ps[1]])
        // Mixed classes: a big release pushes out older small ones until it fits.
        for p in back { pool.release(p, size: size) }
        let big = try XCTUnwrap(pool.allocate(2 * size))
        pool.release(big, size: 2 * size)
        st = pool.stats
        XCTAssertLessThanOrEqual(st.cachedBytes, 3 * size)
        XCTAssertEqual(st.cachedBytes, 3 * size, "two small ones evicted, the big one and one small kept")
        XCTAssertEqual(st.cachedBuffers, 2)
        pool.purge()
        XCTAssertEqual(pool.stats.cachedBytes, 0)
        XCTAssertEqual(pool.stats.cachedBuffers, 0)
    }

    func testZeroCapAndOversizedBuffersAreNotCached() throws {
        let off = BufferPool(capBytes: 0)
        let p = try XCTUnwrap(off.allocate(256 * kb))
        off.release(p, size: 256 * kb)
        XCTAssertEqual(off.stats.cachedBuffers, 0)
        XCTAssertEqual(off.allocate(256 * kb).map { q in off.release(q, size: 256 * kb); return off.stats.hits }, 0)

        let small = BufferPool(capBytes: 1 * mb)
        let big = try XCTUnwrap(small.allocate(2 * mb))
        small.release(big, size: 2 * mb)
        XCTAssertEqual(small.stats.cachedBytes, 0, "a buffer larger than the cap is freed")
        XCTAssertEqual(small.stats.evictions, 0)
    }

    /// A tensor made on a reused buffer is still all zeros / ones, never the old values.
    func testZeroedTensorsOnReusedBuffersAreZero() throws {
        let shape = [513, 511]   // ~1 MB, not a whole size class
        for dtype in [DType.float32, .float64, .int32, .uint8] {
            let poison = dtype == .float32 || dtype == .float64 ? Double.nan : 77
            do { _ = try Tensor.full(shape, poison, dtype: dtype) }   // freed here, cached
            let hits = BufferPool.shared.stats.hits
            let z = try Tensor.zeros(shape, dtype: dtype)
            if BufferPool.shared.capBytes > 0 {
                XCTAssertEqual(BufferPool.shared.stats.hits, hits + 1, "zeros reused the freed buffer (\(dtype))")
            }
            XCTAssertTrue(z.toDoubles().allSatisfy { $0 == 0 }, "zeros on a reused \(dtype) buffer")
            do { _ = try Tensor.full(shape, 7, dtype: dtype) }
            XCTAssertTrue(try Tensor.ones(shape, dtype: dtype).toDoubles().allSatisfy { $0 == 1 })
        }
    }

    /// matmul no longer zeroes its result: a NaN-filled reused buffer must not show through
    /// (every GEMM path, including K = 0, writes C without reading it).
    func testMatmulOnAPoisonedReusedBufferMatchesTheReference() throws {
        for (m, k, n) in [(300, 257, 301), (2, 600, 20_000), (700, 0, 300), (64, 33, 4096)] {
            do { _ = try Tensor.full([m, n], .nan) }
            let a = randomTensor([m, k], seed: 3), b = randomTensor([k, n], seed: 4)
            let c = try Tensor.matmul(a, b)
            XCTAssertFalse(c.toFloats().contains { $0.isNaN }, "\(m)x\(k)x\(n)")
            if m * n <= 100_000 {
                assertClose(c.toFloats(), Reference.gemm(a.toFloats(), b.toFloats(), m: m, n: n, k: k), rtol: 1e-4, atol: 1e-3, "\(m)x\(k)x\(n)")
            }
            if k == 0 { XCTAssertTrue(c.toFloats().allSatisfy { $0 == 0 }) }
        }
    }

    /// A buffer goes back to the cache only when no tensor (view) holds it any more.
    func testLiveViewsKeepTheirBuffer() throws {
        var views: [Tensor] = []
        for i in 0..<4 {
            let t = try Tensor.full([512, 256], Double(i))
            views.append(try t.reshape([256, 512]))
            views.append(try t.slice(axis: 0, start: 100, stop: 200))
        }
        var fresh: [Tensor] = []
        for _ in 0..<8 { fresh.append(try Tensor.zeros([512, 256])) }
        let held = Set(views.map { ObjectIdentifier($0.storage) })
        for f in fresh { XCTAssertFalse(held.contains(ObjectIdentifier(f.storage))) }
        let freshPointers = Set(fresh.map { $0.storage.data })
        XCTAssertEqual(freshPointers.count, 8)
        for v in views { XCTAssertFalse(freshPointers.contains(v.storage.data), "a live view's buffer was handed out") }
        for (i, v) in views.enumerated() { XCTAssertTrue(v.toDoubles().allSatisfy { $0 == Double(i / 2) }) }
        for f in fresh { XCTAssertTrue(f.toDoubles().allSatisfy { $0 == 0 }) }
    }

    /// Threads allocating, writing, checking and freeing tensors of shared size classes at
    /// once: each sees only its own values (no buffer is live in two tensors), and the
    /// cache stays under its cap.
    func testConcurrentUseNeverSharesABuffer() throws {
        let shapes = [[256, 128], [300, 300], [1024, 512]]
        let failures = LockedCount(0)
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            var kept: [(Tensor, Float)] = []
            for i in 0..<60 {
                let value = Float(worker * 1000 + i)
                guard let t = try? Tensor.full(shapes[(worker + i) % shapes.count], Double(value)) else { failures.add(1); continue }
                kept.append((t, value))
                if kept.count > 3 { kept.removeFirst() }   // freed while other threads allocate
                for (k, v) in kept where !(try! k.withFloats { $0.allSatisfy { $0 == v } }) { failures.add(1) }
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertLessThanOrEqual(BufferPool.shared.stats.cachedBytes, BufferPool.shared.capBytes)

        // The pool alone, hammered from several threads: every buffer handed out is written
        // with a thread's mark and checked before it goes back.
        let pool = BufferPool(capBytes: 2 * mb), kb = self.kb
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<500 {
                let size = [128 * kb, 192 * kb, 512 * kb][i % 3]
                guard let p = pool.allocate(size) else { failures.add(1); continue }
                let words = p.bindMemory(to: Int.self, capacity: size / 8)
                let mark = worker << 20 | i
                for j in stride(from: 0, to: size / 8, by: 512) { words[j] = mark }
                sched_yield()
                for j in stride(from: 0, to: size / 8, by: 512) where words[j] != mark { failures.add(1); break }
                pool.release(p, size: size)
            }
        }
        XCTAssertEqual(failures.value, 0)
        let st = pool.stats
        XCTAssertEqual(st.hits + st.misses, 2000)
        XCTAssertLessThanOrEqual(st.cachedBytes, 2 * mb)
        XCTAssertGreaterThan(st.hits, 0)
    }

    /// The loop, `c = a + b` on 4 MB results: every new result takes a cached buffer,
    /// so it does not fault in fresh pages on every call (1024 faults per call, or 2 huge
    /// pages zeroed by the kernel, without reuse).
    func testRepeatedResultsDoNotFaultInFreshPages() throws {
        guard BufferPool.shared.capBytes >= 8 * mb else { return }
        let a = try Tensor.ones([1 << 20]), b = try Tensor.ones([1 << 20])
        var c = try a + b
        c = try a + b   // two results live at once, as in the loop
        let before = minorFaults(), hits = BufferPool.shared.stats.hits
        for _ in 0..<40 { c = try a + b }
        let faults = minorFaults() - before
        XCTAssertGreaterThanOrEqual(BufferPool.shared.stats.hits - hits, 40, "every result took a cached buffer")
        XCTAssertLessThan(faults, 2048, "40 results of 4 MB faulted \(faults) pages")
        XCTAssertEqual(try c.sum().item(), 2 * Double(1 << 20))
    }

    private func minorFaults() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_minflt
    }
}

/// A counter several threads add to.
final class LockedCount: @unchecked Sendable {
    private let m = NSLock()
    private var v: Int
    init(_ v: Int) { self.v = v }
    func add(_ d: Int) { m.lock(); v += d; m.unlock() }
    var value: Int { m.lock(); defer { m.unlock() }; return v }
}
