import XCTest
@testable import Frames

/// `FeatureColumns.write` over any split of the rows gives the rows of `featureMatrix`.
final class FeatureColumnsTests: XCTestCase {
    func testWritingRowRangesMatchesTheMatrix() throws {
        let rows = 1100, cols = 5
        let values = (0..<(rows * cols)).map { Float($0 % 97) - 40.5 }
        let ds = try Dataset(features: values, rows: rows, cols: cols, labels: (0..<rows).map { Float($0 % 3) })
        let m = try ds.featureMatrix()
        XCTAssertEqual(m.features, values)
        let f = try ds.featureColumns()
        XCTAssertEqual(f.names, m.featureNames)
        XCTAssertEqual(f.labels, m.labels)
        var out = [Float](repeating: .nan, count: rows * cols)
        out.withUnsafeMutableBufferPointer { p in
            for (lo, hi) in [(0, 1), (1, 513), (513, 1024), (1024, 1100)] {
                f.write(rows: lo..<hi, into: p.baseAddress! + lo * cols)
            }
        }
        XCTAssertEqual(out, values)
    }
}
