import XCTest
@testable import Tensor

final class QuantSparseTests: XCTestCase {
    func checkInt8(level: Int) throws {
        guard level <= Tensor.cpuSIMDLevel else { return }
        let simd = level
        Tensor.setSIMDLevel(level)
        defer { Tensor.setSIMD(true) }
        for (m, n, k) in [(1, 1, 1), (7, 33, 100), (33, 17, 1023), (100, 257, 7), (13, 40, 513)] {
            for unsignedA in [false, true] {
                var ai = try Tensor.randint(unsignedA ? 0 : -128, unsignedA ? 256 : 128, shape: [m, k], seed: UInt64(m * k)).toInts()
                let bi = try Tensor.randint(-128, 128, shape: [k, n], seed: UInt64(n * k + 1)).toInts()
                ai[0] = unsignedA ? 255 : -128    // extremes that would saturate vpmaddubsw
                let a = try Tensor(ai, shape: [m, k], dtype: unsignedA ? .uint8 : .int8)
                var bb = bi; bb[0] = -128
                let b = try Tensor(bb, shape: [k, n], dtype: .int8)
                let c = try Tensor.matmulInt8(a, b)
                XCTAssertEqual(c.dtype, .int32)
                XCTAssertEqual(c.toInts(), Reference.matmulInt(ai, bb, m: m, n: n, k: k), "int8 \(m)x\(n)x\(k) u\(unsignedA) simd\(simd)")
            }
        }
        // all-extreme values: every pair is 255 * -128 (or -128 * -128)
        let k = 301
        let a = try Tensor.full([3, k], 255, dtype: .uint8), b = try Tensor.full([k, 5], -128, dtype: .int8)
        XCTAssertEqual(try Tensor.matmulInt8(a, b).toInts(), [Int](repeating: 255 * -128 * k, count: 15))
        let a2 = try Tensor.full([3, k], -128, dtype: .int8)
        XCTAssertEqual(try Tensor.matmulInt8(a2, b).toInts(), [Int](repeating: 128 * 128 * k, count: 15))
    }

    func testInt8GemmExactAVX512VNNI() throws { try checkInt8(level: 2) }
    func testInt8GemmExactAVX2() throws { try checkInt8(level: 1) }
    func testInt8GemmExactPortable() throws { try checkInt8(level: 0) }

    func testInt8Errors() throws {
        assertThrows(try Tensor.matmulInt8(Tensor.zeros([2, 3], dtype: .int8), Tensor.zeros([4, 2], dtype: .int8)),
                     contains: "matmul_int8: shapes [2, 3] and [4, 2] are not compatible (3 != 4)")
        assertThrows(try Tensor.matmulInt8(Tensor.zeros([2, 3]), Tensor.zeros([3, 2], dtype: .int8)), contains: "float32")
    }

    func testCSRMatchesDense() throws {
        for simd in [true, false] {
            Tensor.setSIMD(simd)
            for (m, k, n) in [(1, 1, 1), (7, 33, 100), (64, 100, 130), (33, 257, 7)] {
                let w = randomTensor([m, k], seed: UInt64(m + k))
                let csr = try CSRMatrix(dense: w, threshold: 1.0)   // ~68% zeros
                let pruned = try csr.toDense()
                let b = randomTensor([k, n], seed: 3)
                let ref = try Tensor.matmul(pruned, b)
                assertClose(try csr.matmul(b).toFloats(), ref.toDoubles(), "csr \(m)x\(k)x\(n)")
                let x = randomTensor([n, k], seed: 4)
                assertClose(try csr.linear(x).toFloats(), try Tensor.matmul(x, pruned.T).toDoubles(), "csr linear")
            }
            Tensor.setSIMD(true)
        }
        let csr = try CSRMatrix(dense: try Tensor([0, 1, 0, 2] as [Float], shape: [2, 2]))
        XCTAssertEqual(csr.nonzeros, 2)
        XCTAssertEqual(csr.sparsity, 0.5)
        assertThrows(try csr.matmul(Tensor.zeros([3, 3])), contains: "csr_matmul")
    }
}
