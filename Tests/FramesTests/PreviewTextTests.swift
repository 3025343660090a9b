import XCTest
@testable import Frames

/// Issue 23: `describe` of a file with one 100 MB cell printed 32 MB; previews clip every
/// cell to a fixed width, reading only that much of it.
final class PreviewTextTests: XCTestCase {
    func testClip() {
        XCTAssertEqual(PreviewText.clip("short", 8), "short")
        XCTAssertEqual(PreviewText.clip("exactly8", 8), "exactly8")
        XCTAssertEqual(PreviewText.clip("nine char", 8), "nine ch…")
        XCTAssertEqual(PreviewText.clip("a\nb\tc\r\nd", 20), "a\\nb\\tc\\r\\nd")
        XCTAssertEqual(PreviewText.clip("é🙂x", 2), "é…")
        XCTAssertEqual(PreviewText.clip("abc", 0), "")
        XCTAssertEqual(PreviewText.clip(String(repeating: "x", count: 10_000_000), 5), "xxxx…")
    }

    func testDescribeAndPreviewOfAHugeCellStayShort() throws {
        let huge = String(repeating: "long text ", count: 800_000)  // 8 MB in one cell
        let text = "id,note,\(String(repeating: "n", count: 100))\n1,\"\(huge)\",a\n2,short,b\n"
        let ds = try readCSV(tempFile(text))
        XCTAssertEqual(try ds.column("note").strings?[0]?.utf8.count, huge.utf8.count)  // the data is whole
        let report = describe(ds).description
        XCTAssertLessThan(report.utf8.count, 1000, report)
        XCTAssertTrue(report.contains("long text long text long text long text…(1)"), report)
        XCTAssertTrue(report.contains(String(repeating: "n", count: 39) + "…"), report)
        let preview = ds.preview(rows: 5)
        XCTAssertLessThan(preview.utf8.count, 400, preview)
        XCTAssertTrue(preview.contains("long text long text lon…"), preview)
        XCTAssertTrue(preview.contains(String(repeating: "n", count: 23) + "…"), preview)
    }

    func testPreviewKeepsOneLinePerRow() throws {
        let ds = try readCSV(tempFile("a,b\n\"x\ny\",1\n"))
        XCTAssertEqual(ds.preview().split(separator: "\n").count, 4, ds.preview())  // title, names, types, one row
        XCTAssertTrue(ds.preview().contains("x\\ny"), ds.preview())
    }
}
