import XCTest
import CKernels
@testable import Tensor

/// The small-M GEMM path (gemm_f32_smallm.c: no packing, for up to 64 rows) against the
/// triple-loop oracle, the packed path, other SIMD levels and other thread counts.
final class SmallMGemmTests: XCTestCase {
    override func tearDown() {
        Tensor.setSIMD(true)
        mlw_sgemm_set_small_m(64)
    }

    /// `body` on the packed GEMM path (the small-M path off), the limit restored after.
    private func onPackedPath<R>(_ body: () throws -> R) rethrows -> R {
        mlw_sgemm_set_small_m(0)
        defer { mlw_sgemm_set_small_m(64) }
        return try body()
    }

    private func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ tw: Bool, _ relu: Bool) throws -> [Float] {
        try Tensor.linear(x, weight: w, bias: b, transposedWeight: tw, activation: relu ? .relu : .none).toFloats()
    }

    func testAgainstReferenceEveryLevel() throws {
        var seed: UInt64 = 100
        for m in 1...9 { for n in [1, 7, 33, 257] { for k in [1, 7, 33, 257, 784] { for tw in [false, true] {
            seed += 1
            let xv = randomFloats(m * k, seed: seed), wv = randomFloats(k * n, seed: seed + 5000), bv = randomFloats(n, seed: seed + 9000)
            let x = try Tensor(xv, shape: [m, k]), w = try Tensor(wv, shape: tw ? [n, k] : [k, n]), b = try Tensor(bv)
            let (useBias, relu) = (seed % 2 == 0, seed % 3 == 0)
            let ref = Reference.gemm(xv, wv, m: m, n: n, k: k, transB: tw)
            let expect = (0..<(m * n)).map { i -> Double in
                let v = ref[i] + (useBias ? Double(bv[i % n]) : 0)
                return relu ? Swift.max(0, v) : v
            }
            for level in 0...Tensor.cpuSIMDLevel {
                Tensor.setSIMDLevel(level)
                assertClose(try linear(x, w, useBias ? b : nil, tw, relu), expect, rtol: 1e-4, atol: 1e-4 * Double(k).squareRoot(),
                            "m\(m) n\(n) k\(k) tw\(tw) bias\(useBias) relu\(relu) level\(level)")
            }
        } } } }
    }

    /// B row-major: the same FMA chains per K slice as the packed micro-kernel, so the bits
    /// match the packed path (and therefore do not depend on the batch size).
    func testRowMajorBitIdenticalToPackedPath() throws {
        for level in 0...Tensor.cpuSIMDLevel {
            Tensor.setSIMDLevel(level)
            for (m, n, k) in [(1, 257, 784), (1, 400, 50), (1, 530, 70), (3, 33, 1000), (8, 100, 385), (13, 70, 33), (64, 50, 800)] {
                let x = randomTensor([m, k], seed: 1), w = randomTensor([k, n], seed: 2), b = randomTensor([n], seed: 3)
                let fast = try linear(x, w, b, false, true)
                let packed = try onPackedPath { try linear(x, w, b, false, true) }
                XCTAssertEqual(fast, packed, "m\(m) n\(n) k\(k) level \(level)")
                // alpha, beta and a per-row bias go through the same merge
                let c = randomTensor([m, n], seed: 4), rb = randomTensor([m], seed: 5)
                let g1 = try Tensor.gemm(x, w, alpha: 0.5, bias: rb, biasPerRow: true).toFloats()
                let g0 = try onPackedPath { try Tensor.gemm(x, w, alpha: 0.5, bias: rb, biasPerRow: true).toFloats() }
                XCTAssertEqual(g1, g0, "alpha/row bias m\(m) level \(level)")
                let ref = Reference.gemm(x.toFloats(), w.toFloats(), m: m, n: n, k: k)
                let r = try Tensor.gemm(x, w, alpha: 0.5, beta: 2, c: c, bias: b, activation: .relu).toFloats()
                let cv = c.toFloats(), bv = b.toFloats()
                assertClose(r, (0..<(m * n)).map { Swift.max(0, 0.5 * ref[$0] + 2 * Double(cv[$0]) + Double(bv[$0 % n])) },
                            atol: 1e-3, "beta m\(m) level \(level)")
            }
        }
    }

    /// AVX2 and AVX-512 run the same arithmetic (nn: FMA chains; nt: 16 lanes + fixed tree).
    func testSIMDLevelsAgreeBitwise() throws {
        guard Tensor.cpuSIMDLevel == 2 else { return }
        for tw in [false, true] { for (m, n, k) in [(1, 300, 784), (5, 33, 257), (9, 7, 100)] {
            let x = randomTensor([m, k], seed: 7), w = randomTensor(tw ? [n, k] : [k, n], seed: 8), b = randomTensor([n], seed: 9)
            Tensor.setSIMDLevel(2)
            let v512 = try linear(x, w, b, tw, true)
            Tensor.setSIMDLevel(1)
            XCTAssertEqual(v512, try linear(x, w, b, tw, true), "m\(m) n\(n) k\(k) tw\(tw)")
        } }
    }

    func testThreadCountsBitIdentical() throws {
        // Big enough to be split over column chunks; one row over K slices (784, 1200: the
        // slices' partial sums merged in order; without bias; ReLU) or over column ranges
        // (one slice: K <= 384, N not a multiple of 16).
        let shapes = [(1, 2000, 700), (4, 1000, 513), (20, 800, 300), (64, 300, 200), (1, 256, 784), (1, 100, 1200), (1, 410, 200)]
        for tw in [false, true] { for (m, n, k) in shapes { for (useBias, relu) in [(true, false), (false, true)] {
            let x = randomTensor([m, k], seed: 11), w = randomTensor(tw ? [n, k] : [k, n], seed: 12), b = useBias ? randomTensor([n], seed: 13) : nil
            for level in 0...Tensor.cpuSIMDLevel {
                Tensor.setSIMDLevel(level)
                let one = try withThreads(1) { try linear(x, w, b, tw, relu) }
                let two = try withThreads(2) { try linear(x, w, b, tw, relu) }
                let three = try withThreads(3) { try linear(x, w, b, tw, relu) }
                XCTAssertEqual(one, two, "m\(m) n\(n) k\(k) tw\(tw) level \(level): 1 vs 2 threads")
                XCTAssertEqual(one, three, "m\(m) n\(n) k\(k) tw\(tw) level \(level): 1 vs 3 threads")
            }
        } } }
    }

    func testTransposedBWithManyRowsIsBitIdenticalToPackedPath() throws {
        // From 8 rows a transposed B is transposed once and the nn kernels run (dy @ Wᵀ in backward).
        for level in 0...Tensor.cpuSIMDLevel {
            Tensor.setSIMDLevel(level)
            for (m, n, k) in [(8, 33, 10), (64, 128, 64), (64, 64, 10), (13, 70, 785)] {
                let x = randomTensor([m, k], seed: 1), w = randomTensor([n, k], seed: 2), b = randomTensor([n], seed: 3)
                let fast = try linear(x, w, b, true, true)
                let packed = try onPackedPath { try linear(x, w, b, true, true) }
                XCTAssertEqual(fast, packed, "m\(m) n\(n) k\(k) level \(level)")
            }
        }
    }

    func testStridedViewsAndMatmulVector() throws {
        // A as a transposed view (csa != 1) with B transposed falls back to packing; both correct.
        let a = randomTensor([40, 3], seed: 1), bt = randomTensor([17, 40], seed: 2)
        let r = try Tensor.matmul(a.T, bt.T)
        let ref = Reference.gemm(a.toFloats(), bt.toFloats(), m: 3, n: 17, k: 40, transA: true, transB: true)
        assertClose(r.toFloats(), ref, "strided A, transposed B")
        // matrix-vector (n = 1) and vector-matrix (m = 1)
        let w = randomTensor([5, 40], seed: 3), v = randomTensor([40], seed: 4)
        assertClose(try Tensor.matmul(w, v).toFloats(), Reference.gemm(w.toFloats(), v.toFloats(), m: 5, n: 1, k: 40), "W @ v")
        assertClose(try Tensor.matmul(v, w.T).toFloats(), Reference.gemm(v.toFloats(), w.toFloats(), m: 1, n: 5, k: 40, transB: true), "v @ Wᵀ")
    }
}
