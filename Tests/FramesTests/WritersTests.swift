import Foundation
import XCTest
@testable import Frames

/// Issue 15: `write_csv` / `write_jsonl` write what `readCSV` / `readJSONL` read back, cell
/// for cell: quotes, delimiters, line breaks, missing cells, unicode, float vs int.
final class WritersTests: XCTestCase {
    func tricky() -> Dataset {
        let text = ["plain", "with,comma", "with \"quotes\"", "line\nbreak", "crlf\r\nbreak", " lead", "trail ", "ünïcødé 🙂", "tab\there", ""]
        let n = text.count
        let missingText = (0..<n).map { $0 == n - 1 }        // the empty one is missing
        let xs: [Double] = (0..<n).map { i -> Double in
            if i == 2 { return .nan }
            return Double(i) * 0.1 + (i == 3 ? 1e-7 : 0)
        }
        let id = Column(name: "id", data: .int(Array(0..<n)))
        let x = Column(name: "x", data: .float(xs), missing: (0..<n).map { $0 == 2 })
        let whole = Column(name: "whole", data: .float((0..<n).map { Double($0) }))   // integral floats stay float
        let t = Column(name: "text, \"quoted\" name", data: .string(text), missing: missingText)
        let codes: [Int32] = (0..<n).map { Int32($0 % 2) }
        let cat = Column(name: "cat", data: .category(codes: codes, levels: ["a", "b"]))
        return Dataset(columns: [id, x, whole, t, cat])
    }

    func assertSameCells(_ a: Dataset, _ b: Dataset, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.rowCount, b.rowCount, file: file, line: line)
        XCTAssertEqual(Set(a.columnNames), Set(b.columnNames), file: file, line: line)
        for c in a.columns {
            guard let d = b[c.name] else { continue }
            XCTAssertEqual(c.type == .category ? .string : c.type, d.type == .category ? .string : d.type, "column \(c.name)", file: file, line: line)
            for r in 0..<a.rowCount {
                XCTAssertEqual(c.value(at: r), d.value(at: r), "column \(c.name) row \(r)", file: file, line: line)
            }
        }
    }

    func testCSVRoundTrip() throws {
        let ds = tricky()
        let path = tempFile("", name: "out.csv")
        try ds.writeCSV(to: path)
        let back = try readCSV(path)
        XCTAssertEqual(back.columnNames, ds.columnNames)
        assertSameCells(ds, back)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("id,x,whole,\"text, \"\"quoted\"\" name\",cat\n"), text)
        XCTAssertTrue(text.contains("2,,2.0,\"with \"\"quotes\"\"\",a\n"), text)   // missing float: empty field
        XCTAssertTrue(text.contains("\"line\nbreak\""), text)
    }

    func testCSVOtherDelimiter() throws {
        let ds = tricky()
        let path = tempFile("", name: "out.tsv")
        try ds.writeCSV(to: path, delimiter: ";")
        let opts = CSVOptions(delimiter: ";")
        assertSameCells(ds, try readCSV(path, options: opts))
        XCTAssertThrowsError(try ds.writeCSV(to: path, delimiter: "\""))
    }

    func testJSONLRoundTrip() throws {
        let ds = tricky()
        let path = tempFile("", name: "out.jsonl")
        try ds.writeJSONL(to: path)
        assertSameCells(ds, try readJSONL(path))
        let first = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
        XCTAssertEqual(first, #"{"id":0,"x":0.0,"whole":0.0,"text, \"quoted\" name":"plain","cat":"a"}"#)
    }

    func testJSONLRefusesInfinityAndWritesNaNAsNull() throws {
        let path = tempFile("", name: "inf.jsonl")
        let bad = Dataset(columns: [Column(name: "v", data: .float([1, -.infinity]))])
        let e = dataError { try bad.writeJSONL(to: path) }
        XCTAssertEqual(e?.message, "column 'v', row 1: -infinity cannot be written as JSON")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "")   // the old file stays
        try Dataset(columns: [Column(name: "v", data: .float([.nan, 2]))]).writeJSONL(to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "{\"v\":null}\n{\"v\":2.0}\n")
    }

    func testCSVInfinityReadsBack() throws {
        let path = tempFile("", name: "inf.csv")
        let ds = Dataset(columns: [Column(name: "v", data: .float([1.5, .infinity, -.infinity, 1e300, 5e-324]))])
        try ds.writeCSV(to: path)
        assertSameCells(ds, try readCSV(path))
    }

    func testCSVField() {
        XCTAssertEqual(csvField("plain"), "plain")
        XCTAssertEqual(csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(csvField("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(csvField("cr\r"), "\"cr\r\"")
        XCTAssertEqual(csvField(" pad"), "\" pad\"")
        XCTAssertEqual(csvField("a;b", delimiter: ";"), "\"a;b\"")
        XCTAssertEqual(csvField("a;b"), "a;b")
        XCTAssertEqual(csvField("ü"), "ü")
    }

    func testWriteToAFolderIsRefused() {
        let dir = FileManager.default.temporaryDirectory.path
        XCTAssertThrowsError(try tricky().writeCSV(to: dir)) { e in
            XCTAssertTrue("\(e)".contains("cannot write '\(dir)'"), "\(e)")
        }
    }

    func testLargeWriteStreamsInPieces() throws {
        // More than one 1 MB flush.
        let n = 200_000
        let ds = Dataset(columns: [Column(name: "i", data: .int(Array(0..<n))),
                                   Column(name: "s", data: .string((0..<n).map { "row \($0), text" }))])
        let path = tempFile("", name: "big.csv")
        try ds.writeCSV(to: path)
        let back = try readCSV(path)
        XCTAssertEqual(back.rowCount, n)
        XCTAssertEqual(back["s"]?.strings?[n - 1], "row \(n - 1), text")
    }
}

/// Issue 15: `len(ds)`, `ds.head(n)`, `ds.tail(n)`, and previews that round floats and keep
/// one line per row.
final class DatasetShapeTests: XCTestCase {
    let ds = Dataset(columns: [Column(name: "a", data: .int([1, 2, 3, 4])), Column(name: "b", data: .string(["w", "x", "y", "z"]))])

    func testHeadAndTail() {
        XCTAssertEqual(ds.head(2)["a"]?.data, .int([1, 2]))
        XCTAssertEqual(ds.tail(2)["a"]?.data, .int([3, 4]))
        XCTAssertEqual(ds.head(10).rowCount, 4)
        XCTAssertEqual(ds.tail(0).rowCount, 0)
        XCTAssertEqual(ds.head(-3).rowCount, 0)
        XCTAssertNotEqual(ds.head(2).lineage.hash, ds.tail(2).lineage.hash)
        XCTAssertEqual(ds.head(2).lineage.steps.last?.op, "head")
    }

    func testAddingColumnsKeepsFeatures() throws {
        let out = try ds.addingColumns([Column(name: "p", data: .float([0, 1, 0, 1]))], op: "with_predictions")
        XCTAssertEqual(out.columnNames, ["a", "b", "p"])
        XCTAssertEqual(out.featureNames, ["a", "b"])
        XCTAssertThrowsError(try ds.addingColumns([Column(name: "p", data: .float([0]))], op: "x"))
        let replaced = try ds.addingColumns([Column(name: "a", data: .int([9, 9, 9, 9]))], op: "x")
        XCTAssertEqual(replaced.columnNames, ["a", "b"])
    }

    func testPreviewRoundsFloatsToSixDigits() {
        let d = Dataset(columns: [Column(name: "f", data: .float([0.12345679104328156, 2, 1234567.25, -1.5e-7, .nan]),
                                         missing: [false, false, false, false, true])])
        let lines = d.preview().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["Dataset 5 rows x 1 columns", "f", "float", "0.123457", "2", "1.23457e+06", "-1.5e-07", "NA"])
        XCTAssertEqual(PreviewText.number(-0.0), "0")
        XCTAssertEqual(PreviewText.number(.infinity), "inf")
    }

    func testPreviewEscapesControlCharactersAndStaysAligned() throws {
        let d = Dataset(columns: [Column(name: "t", data: .string(["a\tb", "c\nd", "e\u{1B}[31mf", "g\u{0}h", "i\u{2028}j"])),
                                  Column(name: "n", data: .int([1, 2, 3, 4, 5]))])
        let lines = d.preview().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 9, d.preview())   // title, names, types, 5 rows, the final newline
        XCTAssertEqual(Array(lines[3...7]), ["a\\tb          1", "c\\nd          2", "e\\u{1b}[31mf  3", "g\\u{0}h       4", "i\\u{2028}j    5"])
        // Every row's second column starts at the same place.
        let starts = lines[3...7].map { l in l.distance(from: l.startIndex, to: l.lastIndex(of: " ")!) }
        XCTAssertEqual(Set(starts).count, 1, d.preview())
    }
}
