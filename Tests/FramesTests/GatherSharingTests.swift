import Foundation
import XCTest
@testable import Frames

/// Joins and sorts share storage where the output equals the input (left columns of a
/// join where every left row matches once; all-false missing flags of a reordering).
/// These check that the shared paths give exactly the rows the copying paths give.
final class GatherSharingTests: XCTestCase {
    func testOneToOneJoinSharesLeftColumnsAndKeepsRows() throws {
        let left = Dataset(columns: [
            Column(name: "j", data: .int([3, 1, 2, 1])),
            Column(name: "a", data: .float([0.5, 1.5, 2.5, 3.5]), missing: [false, true, false, false]),
        ], sourceLines: [2, 3, 4, 5])
        let right = Dataset(columns: [
            Column(name: "j", data: .int([1, 2, 3])),
            Column(name: "v", data: .string(["one", "two", "three"])),
        ])
        for how in [JoinKind.inner, .left] {
            let out = try left.join(right, leftOn: ["j"], rightOn: ["j"], how: how)
            XCTAssertEqual(out.columns[0], left.columns[0], "\(how)")
            XCTAssertEqual(out.columns[1], left.columns[1], "\(how)")
            XCTAssertEqual(out.columns[2].strings!, ["three", "one", "two", "one"], "\(how)")
            XCTAssertEqual(out.sourceLines, [2, 3, 4, 5], "\(how)")
        }
        let semi = try left.join(right, leftOn: ["j"], rightOn: ["j"], how: .semi)
        XCTAssertEqual(semi.columns, left.columns)
        // A left row without a match: not the shared path, the row gets nulls on the right.
        let partial = try left.join(right.slice(0, 2), leftOn: ["j"], rightOn: ["j"], how: .left)
        XCTAssertEqual(partial.columns[2].strings!, [nil, "one", "two", "one"])
        XCTAssertEqual(partial.sourceLines, [2, 3, 4, 5])
        let inner = try left.join(right.slice(0, 2), leftOn: ["j"], rightOn: ["j"], how: .inner)
        XCTAssertEqual(inner.columns[0].value(at: 0), .int(1))
        XCTAssertEqual(inner.columns[1].missing, [true, false, false])
        XCTAssertEqual(inner.sourceLines, [3, 4, 5])
    }

    func testSortMovesOrderIntoSourceLinesAndKeepsMissing() throws {
        let ds = Dataset(columns: [
            Column(name: "k", data: .int([2, 1, 2, 1, 0])),
            Column(name: "x", data: .float([1, 2, 3, 4, 5])),
            Column(name: "y", data: .float([9, 8, 7, 6, 5]), missing: [false, false, true, false, false]),
        ], sourceLines: [10, 11, 12, 13, 14])
        let s = try ds.sortBy(["k", "x"], descending: [false, true])
        XCTAssertEqual(s.sourceLines, [14, 13, 11, 12, 10])
        XCTAssertEqual(s.columns[1].doubles!, [5, 4, 2, 3, 1])
        XCTAssertEqual(s.columns[1].missing, [false, false, false, false, false])
        XCTAssertEqual(s.columns[2].missing, [false, false, false, true, false])
        XCTAssertEqual(ds.sourceLines, [10, 11, 12, 13, 14])
    }
}
