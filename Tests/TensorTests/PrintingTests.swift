import XCTest
@testable import Tensor

final class PrintingTests: XCTestCase {
    func testNumpyStyle() throws {
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).description, "[[1., 2.],\n [3., 4.]]")
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).debugDescription,
                       "tensor([[1., 2.],\n        [3., 4.]], shape: [2, 2], dtype: float32)")
        XCTAssertEqual(try Tensor([0.1, 0.25, -1] as [Float]).description, "[ 0.1 ,  0.25, -1.  ]")
        XCTAssertEqual(try Tensor([1, -20, 300], dtype: .int32).description, "[  1, -20, 300]")
        XCTAssertEqual(try Tensor([true, false]).description, "[ true, false]")
        XCTAssertEqual(Tensor(scalar: 2.5).description, "2.5")
        XCTAssertEqual(try Tensor.zeros([0]).description, "[]")
        XCTAssertEqual(try Tensor([1e-5, 1] as [Float]).description, "[1.e-05, 1.e+00]")
        XCTAssertEqual(try Tensor([Float.nan, .infinity, 1] as [Float]).description, "[nan, inf,  1.]")
        XCTAssertEqual(try Tensor([0.1] as [Float]).description, "[0.1]", "float32 uses float32 round-trip")
        XCTAssertEqual(try Tensor([0.1 + 0.2, 1.0 / 3]).description, "[0.3       , 0.33333333]")
        XCTAssertEqual(try Tensor([1.0000001] as [Float]).description, "[1.0000001]")
        XCTAssertEqual(try Tensor.arange(0, 8).reshape([2, 2, 2]).description, "[[[0., 1.],\n  [2., 3.]],\n\n [[4., 5.],\n  [6., 7.]]]")
        let big = try Tensor.arange(0, 2000, dtype: .int32)
        XCTAssertEqual(big.description, "[   0,    1,    2, ..., 1997, 1998, 1999]")
        let big2 = try Tensor.arange(0, 2000, dtype: .int32).reshape([100, 20])
        XCTAssertEqual(big2.description.components(separatedBy: "\n").count, 7)
        XCTAssertTrue(big2.description.contains(" ...,\n"))
    }
}
