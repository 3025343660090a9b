import Foundation
import XCTest
@testable import Frames
import Support

/// Integer join keys over a narrow range take the no-hash path (`denseIntKeys`); keys over a
/// wide range hash. Both must give the same rows, in the same order, for every join kind.
final class DenseKeyJoinTests: XCTestCase {
    func table(_ keys: [Int?], _ name: String, _ offset: Int) -> Dataset {
        Dataset(columns: [
            Column(name: "k", data: .int(keys.map { $0.map { $0 + offset } ?? 0 }), missing: keys.map { $0 == nil }),
            Column(name: name, data: .float(keys.indices.map(Double.init))),
        ])
    }

    func rows(_ d: Dataset) -> [String] {
        (0..<d.rowCount).map { r in d.columns.map { c in c.missing[r] ? "null" : "\(c.value(at: r))" }.joined(separator: ",") }
    }

    func testNarrowAndWideKeysJoinAlike() throws {
        var rng = SplitMix64(seed: 7)
        let lk: [Int?] = (0..<300).map { _ in rng.next() % 9 == 0 ? nil : Int(rng.next() % 40) }
        let rk: [Int?] = (0..<60).map { _ in rng.next() % 7 == 0 ? nil : Int(rng.next() % 50) }
        XCTAssertNotNil(denseIntKeys([[table(lk, "a", 0).columns[0]], [table(rk, "b", 0).columns[0]]]))
        // The same keys spread over a wide range: hashed, so the rows are the reference.
        let wide = 1 << 40
        XCTAssertNil(denseIntKeys([[table(lk.map { $0.map { $0 * wide } }, "a", 0).columns[0]], [table(rk, "b", 0).columns[0]]]))
        for how in [JoinKind.inner, .left, .outer, .semi, .anti] {
            let narrow = try table(lk, "a", -20).join(table(rk, "b", -20), leftOn: ["k"], rightOn: ["k"], how: how)
            let spread = try table(lk.map { $0.map { $0 * wide } }, "a", 0)
                .join(table(rk.map { $0.map { $0 * wide } }, "b", 0), leftOn: ["k"], rightOn: ["k"], how: how)
            XCTAssertEqual(narrow.rowCount, spread.rowCount, "\(how)")
            // Same rows once the keys are mapped back.
            let back = rows(narrow).map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }
            let want = rows(spread).map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }
            XCTAssertEqual(back, want, "\(how)")
        }
    }
}
