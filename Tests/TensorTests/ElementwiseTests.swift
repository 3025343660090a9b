import XCTest
@testable import Tensor

final class ElementwiseTests: XCTestCase {
    let shapePairs: [([Int], [Int])] = [
        ([7], [7]), ([1023], []), ([], [33]), ([3, 33], [33]), ([3, 1], [1, 7]), ([2, 1, 5], [3, 1]),
        ([0, 4], [4]), ([4, 1], [0]), ([33, 7], [33, 1]), ([1], [1023]), ([2, 3, 4], [2, 3, 4]),
        // per-channel operands, either side (the channel-run path): batch norm's [1, C, 1, 1]
        ([2, 3, 4, 9], [1, 3, 1, 1]), ([3, 1, 1], [2, 3, 4, 9]), ([2, 3, 4, 9], [3, 4, 1]), ([5, 16], [5, 1]),
    ]

    func testBinaryBroadcastMatchesReference() throws {
        let ops: [(BinaryOp, (Double, Double) -> Double)] = [
            (.add, +), (.sub, -), (.mul, *), (.div, /), (.maximum, { Swift.max($0, $1) }), (.minimum, { Swift.min($0, $1) }),
        ]
        for simd in [true, false] {
            Tensor.setSIMD(simd)
            for (i, (sa, sb)) in shapePairs.enumerated() {
                let a = randomTensor(sa, seed: UInt64(i)), b = try randomTensor(sb, seed: UInt64(i + 100)) + 3.0
                for (op, f) in ops {
                    let r = try Tensor.binary(a, b, op)
                    let ref = Reference.broadcast(a.toDoubles(), sa, b.toDoubles(), sb, f)
                    XCTAssertEqual(r.shape, ref.shape, "\(op) \(sa) \(sb)")
                    assertClose(r.toFloats(), ref.values, rtol: 1e-6, atol: 1e-6, "\(op) \(sa) \(sb)")
                }
                // strided operands (transposed views) take the general path
                if sa.count == 2 {
                    let at = a.T
                    let r = try at + at
                    assertClose(r.toFloats(), at.toDoubles().map { $0 * 2 })
                }
            }
            Tensor.setSIMD(true)
        }
        let p = try Tensor([1, 2, 3] as [Float]).pow(try Tensor([2, 0.5, -1] as [Float]))
        assertClose(p.toFloats(), [1, 2.0.squareRoot(), 1.0 / 3])
        assertClose(try Tensor([2, 3] as [Float]).pow(2).toFloats(), [4, 9])
        assertThrows(try Tensor.zeros([2, 3]) + Tensor.zeros([4]),
                     contains: "add: shapes [2, 3] and [4] cannot be broadcast together")
    }

    /// Transposed copies (the blocked C transpose: 8x8 register blocks in whole 32x32 tiles,
    /// element loops elsewhere) move every element to its place, at every SIMD level.
    func testTransposedCopiesAtEverySIMDLevel() throws {
        defer { Tensor.setSIMD(true) }
        for level in [0, Tensor.cpuSIMDLevel] {
            Tensor.setSIMDLevel(level)
            for (r, c) in [(1, 1), (7, 33), (32, 32), (64, 256), (70, 65), (256, 10), (96, 40)] {
                let x = try Tensor((0..<(r * c)).map { Float($0) }, shape: [r, c])
                let y = try x.transpose().contiguous().toFloats()
                var want = [Float](repeating: 0, count: r * c)
                for i in 0..<r { for j in 0..<c { want[j * r + i] = Float(i * c + j) } }
                XCTAssertEqual(y, want, "\(r)x\(c) at SIMD level \(level)")
            }
        }
    }

    func testDtypePromotionAndIntegerArithmetic() throws {
        let a = try Tensor([1, 2, 3], dtype: .int32), b = try Tensor([2, 2, 2], dtype: .int8)
        XCTAssertEqual(try (a * b).dtype, .int32)
        XCTAssertEqual(try (a * b).toInts(), [2, 4, 6])
        XCTAssertEqual(try (a / b).dtype, .float32)
        XCTAssertEqual(try (a / b).toFloats(), [0.5, 1, 1.5])
        XCTAssertEqual(DType.promote(.uint8, .int8), .int32)
        XCTAssertEqual(try (a + 1.5).dtype, .float32)
        XCTAssertEqual(try (a + 1.0).dtype, .int32)
        let big = try Tensor([Int(Int32.max)], dtype: .int32)
        XCTAssertEqual(try (big + 1.0).toInts(), [Int(Int32.min)], "int32 wraps like numpy")
        XCTAssertEqual(try (big * big).toInts(), [1], "exact wrapping multiply")
        let u = try Tensor([250], dtype: .uint8)
        XCTAssertEqual(try (u + 10.0).toInts(), [4])
        XCTAssertEqual(try (Tensor([1.5, 2], dtype: .float64) * Tensor([2, 2] as [Float])).dtype, .float64)
    }

    func testComparisonsAndWhere() throws {
        let a = try Tensor([1, 5, 3] as [Float]), b = try Tensor([2] as [Float])
        XCTAssertEqual(try a.gt(b).toBools(), [false, true, true])
        XCTAssertEqual(try a.eq(Tensor([1, 0, 3] as [Float])).toBools(), [true, false, true])
        XCTAssertEqual(try a.le(b).dtype, .bool)
        let w = try Tensor.where(a.gt(b), a, Tensor(scalar: 0))
        XCTAssertEqual(w.toFloats(), [0, 5, 3])
        let nan = try Tensor([Float.nan] as [Float])
        XCTAssertEqual(try nan.eq(nan).toBools(), [false])
        XCTAssertTrue(try Tensor.maximum(nan, Tensor([1] as [Float])).toFloats()[0].isNaN)
    }

    func testExpIsAccurateToAFewUlp() throws {
        let x = try Tensor.linspace(-87, 88.7, count: 200_001)
        let got = x.exp().toFloats(), xs = x.toFloats()
        var worst = 0.0
        for (g, v) in zip(got, xs) {
            let want = Foundation.exp(Double(v))
            let ulp = Double(Float(want).ulp)
            worst = Swift.max(worst, Swift.abs(Double(g) - want) / ulp)
        }
        XCTAssertLessThan(worst, 3, "max error in ulp")
        // denormal results stay close in absolute terms
        let d = try Tensor.linspace(-103.9, -87.5, count: 1001)
        assertClose(d.exp().toFloats(), d.toFloats().map { Foundation.exp(Double($0)) }, rtol: 1e-3, atol: 1e-44)
    }

    func testUnaryMatchesReference() throws {
        for simd in [true, false] {
            Tensor.setSIMD(simd)
            for n in [0, 1, 7, 33, 1023] {
                let x = try randomTensor([n], seed: UInt64(n)) * 4.0
                let v = x.toDoubles()
                assertClose(x.exp().toFloats(), v.map { Foundation.exp($0) }, rtol: 3e-7, atol: 0, "exp n=\(n)")
                assertClose(x.abs().log().toFloats(), v.map { Foundation.log(Swift.abs($0)) }, rtol: 1e-6, atol: 1e-7)
                assertClose(x.abs().sqrt().toFloats(), v.map { Swift.abs($0).squareRoot() }, rtol: 1e-6, atol: 0)
                assertClose(x.tanh().toFloats(), v.map { Foundation.tanh($0) }, rtol: 1e-6, atol: 1e-7)
                assertClose(x.sigmoid().toFloats(), v.map { 1 / (1 + Foundation.exp(-$0)) }, rtol: 1e-6, atol: 1e-7)
                assertClose(x.relu().toFloats(), v.map { Swift.max($0, 0) }, rtol: 0, atol: 0)
                assertClose(x.neg().toFloats(), v.map { -$0 }, rtol: 0, atol: 0)
                assertClose(x.gelu(.erf).toFloats(), v.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, rtol: 1e-5, atol: 1e-6)
                assertClose(x.gelu(.tanh).toFloats(), v.map { 0.5 * $0 * (1 + Foundation.tanh(0.7978845608 * ($0 + 0.044715 * $0 * $0 * $0))) }, rtol: 1e-5, atol: 1e-6)
                assertClose(try x.clip(min: -1, max: 2).toFloats(), v.map { Swift.min(Swift.max($0, -1), 2) }, rtol: 0, atol: 0)
            }
            // exp edge cases
            let e = try Tensor([0, 88.7, 89, -87, -100, -104, .infinity, -.infinity, .nan] as [Float]).exp().toFloats()
            let want: [Float] = [1, Foundation.exp(Float(88.7)), .infinity, Foundation.exp(Float(-87)), Foundation.exp(Float(-100)), 0, .infinity, 0, .nan]
            for (g, w) in zip(e, want) {
                if w.isNaN { XCTAssertTrue(g.isNaN) } else if w == 0 || w.isInfinite { XCTAssertEqual(g, w) } else {
                    XCTAssertEqual(Double(g), Double(w), accuracy: Double(w) * 1e-6, "simd \(simd)")
                }
            }
            Tensor.setSIMD(true)
        }
        XCTAssertEqual(try Tensor([-2, 3], dtype: .int32).abs().toInts(), [2, 3])
        XCTAssertEqual(try Tensor([1, 4], dtype: .int32).sqrt().dtype, .float32)
        assertThrows(try Tensor.zeros([2]).clip(min: 2, max: 1), contains: "clip")
        let big = try randomTensor([300_001], seed: 9) * 10.0
        let fused = try Tensor.fusedMultiplyAdd(big, big, big)
        assertClose(fused.toFloats(), big.toDoubles().map { $0 * $0 + $0 }, rtol: 1e-6, atol: 1e-5)
    }
}
