import XCTest
@testable import Tensor

final class GemmTests: XCTestCase {
    let sizes = [1, 7, 33, 100, 257]

    func checkAllTranspositions(level: Int) throws {
        guard level <= Tensor.cpuSIMDLevel else { return }
        let simd = level
        Tensor.setSIMDLevel(level)
        defer { Tensor.setSIMD(true) }
        var seed: UInt64 = 1
        for m in sizes { for n in [1, 7, 33, 257] { for k in [1, 7, 100, 257] where m * n * k <= 257 * 257 * 100 {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                seed += 1
                let av = randomFloats(m * k, seed: seed), bv = randomFloats(k * n, seed: seed + 1000)
                let a = try Tensor(av, shape: ta ? [k, m] : [m, k]), b = try Tensor(bv, shape: tb ? [n, k] : [k, n])
                let c = try Tensor.matmul(ta ? a.T : a, tb ? b.T : b)
                XCTAssertEqual(c.shape, [m, n])
                assertClose(c.toFloats(), Reference.gemm(av, bv, m: m, n: n, k: k, transA: ta, transB: tb),
                            rtol: 1e-4, atol: 1e-4 * Double(k).squareRoot(), "m\(m) n\(n) k\(k) ta\(ta) tb\(tb) simd\(simd)")
            }
        } } }
    }

    func testGemmAllTranspositionsAVX512() throws { try checkAllTranspositions(level: 2) }
    func testGemmAllTranspositionsAVX2() throws { try checkAllTranspositions(level: 1) }
    func testGemmAllTranspositionsPortable() throws { try checkAllTranspositions(level: 0) }

    func testGemmAlphaBetaBiasRelu() throws {
        let (m, n, k) = (37, 45, 300)
        let av = randomFloats(m * k, seed: 5), bv = randomFloats(k * n, seed: 6), cv = randomFloats(m * n, seed: 7)
        let bias = randomFloats(n, seed: 8), rbias = randomFloats(m, seed: 9)
        let a = try Tensor(av, shape: [m, k]), b = try Tensor(bv, shape: [k, n]), c0 = try Tensor(cv, shape: [m, n])
        let ref = Reference.gemm(av, bv, m: m, n: n, k: k)
        let r1 = try Tensor.gemm(a, b, alpha: 0.5, beta: 2, c: c0, bias: try Tensor(bias), activation: .relu)
        let e1 = (0..<(m * n)).map { Swift.max(0, 0.5 * ref[$0] + 2 * Double(cv[$0]) + Double(bias[$0 % n])) }
        assertClose(r1.toFloats(), e1, "alpha/beta/bias/relu")
        let r2 = try Tensor.gemm(a, b, bias: try Tensor(rbias), biasPerRow: true)
        assertClose(r2.toFloats(), (0..<(m * n)).map { ref[$0] + Double(rbias[$0 / n]) }, "row bias")
        XCTAssertEqual(c0.toFloats(), cv, "c must not be modified (value semantics)")
        // K == 0
        let z = try Tensor.gemm(try Tensor.zeros([3, 0]), try Tensor.zeros([0, 4]), bias: try Tensor([1, 2, 3, 4] as [Float]))
        XCTAssertEqual(z.toFloats(), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4])
    }

    func testLinearFusedMatchesUnfused() throws {
        let x = randomTensor([2, 5, 33], seed: 11), w = randomTensor([17, 33], seed: 12), b = randomTensor([17], seed: 13)
        let y = try Tensor.linear(x, weight: w, bias: b, transposedWeight: true, activation: .relu)
        let ref = try (Tensor.matmul(x, w.T) + b).relu()
        XCTAssertEqual(y.shape, [2, 5, 17])
        assertClose(y.toFloats(), ref.toDoubles(), "linear")
        let empty = try Tensor.linear(Tensor.zeros([3, 0]), weight: Tensor.zeros([0, 2]), bias: Tensor([1, -1] as [Float]), activation: .relu)
        XCTAssertEqual(empty.toFloats(), [1, 0, 1, 0, 1, 0])
        assertThrows(try Tensor.linear(x, weight: w), contains: "linear: shapes [2, 5, 33] and [17, 33] are not compatible (33 != 17)")
    }

    func testBiasReluAtEveryLevel() throws {
        for level in 0...Tensor.cpuSIMDLevel {
            Tensor.setSIMDLevel(level)
            let x = randomTensor([50, 70], seed: 1), w = randomTensor([70, 45], seed: 2), b = randomTensor([45], seed: 3)
            let y = try Tensor.linear(x, weight: w, bias: b, activation: .relu)
            let ref = Reference.gemm(x.toFloats(), w.toFloats(), m: 50, n: 45, k: 70)
            assertClose(y.toFloats(), (0..<(50 * 45)).map { Swift.max(0, ref[$0] + Double(b.toFloats()[$0 % 45])) }, "level \(level)")
        }
        Tensor.setSIMD(true)
    }

    func testDeterministicAcrossThreadCounts() throws {
        for (m, n, k) in [(300, 260, 400), (7, 1000, 33), (1000, 7, 513)] {
            let a = randomTensor([m, k], seed: 21), b = randomTensor([k, n], seed: 22)
            let one = try withThreads(1) { try Tensor.matmul(a, b).toFloats() }
            let two = try withThreads(2) { try Tensor.matmul(a, b).toFloats() }
            let three = try withThreads(3) { try Tensor.matmul(a, b).toFloats() }
            XCTAssertEqual(one, two, "gemm \(m)x\(n)x\(k) differs between 1 and 2 threads")
            XCTAssertEqual(one, three, "gemm differs with 3 threads")
            // Transposed B: the packed path gives the same bits as row-major B; the small-M
            // path (M <= 64) computes dot products instead, deterministic but not identical.
            let bt = b.T.contiguous().T
            let t1 = try withThreads(1) { try Tensor.matmul(a, bt).toFloats() }
            let t3 = try withThreads(3) { try Tensor.matmul(a, bt).toFloats() }
            XCTAssertEqual(t1, t3, "gemm with transposed B differs between 1 and 3 threads")
            if m > 64 { XCTAssertEqual(one, t3, "packed gemm differs with transposed B") }
            else { assertClose(t3, one.map(Double.init), "small-M gemm with transposed B") }
        }
        let big = randomTensor([1_000_003], seed: 3)
        let s1 = try withThreads(1) { try big.sum().item() }, s2 = try withThreads(2) { try big.sum().item() }
        XCTAssertEqual(s1, s2)
        let e1 = withThreads(1) { big.exp().toFloats() }, e2 = withThreads(2) { big.exp().toFloats() }
        XCTAssertEqual(e1, e2)
        let rows = try big.slice(axis: 0, stop: 1_000_000).reshape([1000, 1000])
        for f in [{ try rows.softmax(axis: 1) }, { try rows.sum(axes: [1]) }, { try rows.sum(axes: [0]) }, { try rows * rows + rows }] as [() throws -> Tensor] {
            let r1 = try withThreads(1) { try f().toFloats() }, r2 = try withThreads(2) { try f().toFloats() }
            XCTAssertEqual(r1, r2)
        }
        // the blocked sum has the same association order in the portable and SIMD code
        Tensor.setSIMD(false)
        let portable = try big.sum().item()
        Tensor.setSIMD(true)
        XCTAssertEqual(portable, s1)
    }

    func testMatmulShapes() throws {
        let a = randomTensor([2, 1, 4, 3], seed: 1), b = randomTensor([5, 3, 6], seed: 2)
        let c = try Tensor.matmul(a, b)
        XCTAssertEqual(c.shape, [2, 5, 4, 6])
        // batch element check
        let c11 = try c.select(axis: 0, index: 1).select(axis: 0, index: 3)
        let ref = try Tensor.matmul(a.select(axis: 0, index: 1).select(axis: 0, index: 0), b.select(axis: 0, index: 3))
        assertClose(c11.toFloats(), ref.toDoubles())
        // negative and non-unit strides go straight into the packing code
        let big = randomTensor([40, 50], seed: 8), rhs = randomTensor([25, 33], seed: 9)
        let odd = try big.slice(axis: 0, step: -2).slice(axis: 1, start: 1, step: 2)   // [20, 25], strides [-100, 2]
        assertClose(try Tensor.matmul(odd, rhs).toFloats(),
                    Reference.gemm(odd.toFloats(), rhs.toFloats(), m: 20, n: 33, k: 25), "strided views")
        // matrix-vector and vector-matrix
        let m = randomTensor([4, 3], seed: 3), v = randomTensor([3], seed: 4), u = randomTensor([4], seed: 5)
        XCTAssertEqual(try Tensor.matmul(m, v).shape, [4])
        XCTAssertEqual(try Tensor.matmul(u, m).shape, [3])
        XCTAssertEqual(try Tensor.matmul(v, v).shape, [])
        assertClose(try Tensor.matmul(m, v).toFloats(), Reference.gemm(m.toFloats(), v.toFloats(), m: 4, n: 1, k: 3))
        // float64 path
        let d = try Tensor.matmul(m.astype(.float64), v.astype(.float64))
        XCTAssertEqual(d.dtype, .float64)
        assertClose(d.toFloats(), Reference.gemm(m.toFloats(), v.toFloats(), m: 4, n: 1, k: 3))
        // empty dims
        XCTAssertEqual(try Tensor.matmul(Tensor.zeros([0, 3]), Tensor.zeros([3, 5])).shape, [0, 5])
        XCTAssertEqual(try Tensor.matmul(Tensor.ones([2, 0]), Tensor.ones([0, 5])).toFloats(), [Float](repeating: 0, count: 10))
        assertThrows(try Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])),
                     contains: "matmul: shapes [2, 3] and [4, 5] are not compatible (3 != 4)")
        assertThrows(try Tensor.matmul(Tensor.zeros([2, 2, 3]), Tensor.zeros([3, 3, 5])), contains: "matmul: batch dims")
        assertThrows(try Tensor.matmul(Tensor(scalar: 1), Tensor.zeros([3])), contains: "matmul")
    }
}

/// One `Activation` type: the GEMM's store loop does ReLU, the rest run after it.
final class ActivationTests: XCTestCase {
    func testLinearAppliesAnyActivation() throws {
        let x = try Tensor.randn([3, 5], seed: 1), w = try Tensor.randn([5, 4], seed: 2), b = try Tensor.randn([4], seed: 3)
        let plain = try Tensor.linear(x, weight: w, bias: b)
        for a in Activation.allCases {
            XCTAssertEqual(try Tensor.linear(x, weight: w, bias: b, activation: a).toFloats(), try plain.activated(a).toFloats(), "\(a)")
        }
        XCTAssertEqual(Activation(rawValue: "leaky_relu"), .leakyRelu)
        XCTAssertNil(PreparedLayer.activation(.softmax))
        XCTAssertNotNil(PreparedLayer.activation(.gelu))
    }
}
