import XCTest
@testable import Tensor

/// Issue 23: constructors check an input-chosen size before allocating (a failed
/// allocation aborts the process); arange and linspace fill the tensor in pieces.
final class CreationLimitTests: XCTestCase {
    func testHugeShapesAreErrorsNamingTheOpAndTheSize() {
        assertThrows(try Tensor.zeros([1_000_000_000, 1_000_000_000]),
                     contains: "zeros: shape [1000000000, 1000000000] has 1000000000000000000 elements, more than the limit of 2147483648")
        assertThrows(try Tensor.ones([3_000_000_000]), contains: "ones: shape [3000000000] has 3000000000 elements")
        assertThrows(try Tensor.full([1 << 31, 2], 7), contains: "full: shape [2147483648, 2] has 4294967296 elements")
        assertThrows(try Tensor.eye(100_000, 100_000), contains: "eye: shape [100000, 100000] has 10000000000 elements")
        assertThrows(try Tensor.linspace(0, 1, count: 5_000_000_000), contains: "linspace: shape [5000000000] has 5000000000 elements")
        assertThrows(try Tensor.arange(0, 1e12), contains: "arange: range has 1000000000000.0 elements, more than the limit")
        assertThrows(try Tensor.zeros([1 << 40, 1 << 40]), contains: "zeros: shape [1099511627776, 1099511627776] has too many elements")
        assertThrows(try Tensor.zeros([-1, 3]), contains: "zeros: negative dimension in shape [-1, 3]")
    }

    func testByteLimitCountsDTypeAndScratch() throws {
        // At the element limit, bytes (and the constructor's temporary arrays) still count.
        XCTAssertEqual(try Tensor.checkCreationSize([2, 3], dtype: .float32, op: "zeros"), 6)
        let elements = TensorStorage.maxBytes / 8 + 1
        if elements <= Tensor.maxCreatedElements {
            assertThrows(try Tensor.checkCreationSize([elements], dtype: .float64, op: "zeros"), contains: "more than this machine's memory")
        }
        let n = Tensor.maxCreatedElements
        XCTAssertThrowsError(try Tensor.checkCreationSize([n], dtype: .float64, op: "randint", scratchPerElement: 1 << 20)) { e in
            XCTAssertTrue("\(e)".hasPrefix("randint: shape [2147483648] needs"), "\(e)")
        }
    }

    func testChunkedArangeAndLinspaceKeepTheirValues() throws {
        // Across the 64K-element pieces and in every dtype.
        let n = 200_003
        let a = try Tensor.arange(-3, Double(n) - 3, step: 1, dtype: .float64).toDoubles()
        XCTAssertEqual(a.count, n)
        XCTAssertEqual(a, (0..<n).map { -3 + Double($0) })
        let l = try Tensor.linspace(-1, 2, count: n, dtype: .float64).toDoubles()
        let step = 3.0 / Double(n - 1)
        XCTAssertEqual(l.first, -1)
        XCTAssertEqual(l.last, 2)
        XCTAssertEqual(l[65_536], -1 + 65_536 * step)
        XCTAssertEqual(try Tensor.arange(0, 1, step: 0.25).toFloats(), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(try Tensor.arange(5, 0, step: -2, dtype: .int32).toDoubles(), [5, 3, 1])
        XCTAssertEqual(try Tensor.linspace(0, 1, count: 1).toFloats(), [0])
        XCTAssertEqual(try Tensor.linspace(0, 1, count: 0).count, 0)
        XCTAssertEqual(try Tensor.arange(0, 3, dtype: .bool).toDoubles(), [0, 1, 1])
    }
}
