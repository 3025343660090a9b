import XCTest
import Foundation
@testable import Frames

/// Cases of the public csv-spectrum suite (github.com/max-mapper/csv-spectrum), written
/// by the test byte for byte. Note the `*_crlf` files: the suite stores them with LF and
/// a `.gitattributes` `eol=crlf`, so only a git checkout has the CRLF bytes its JSON
/// expects (a raw download reads back as LF). Expected cells are hard-coded; with
/// $MLW_PYTHON set, Python's csv module reads the same bytes and must agree with both.
final class CSVSpectrumTests: XCTestCase {
    struct Case { var name: String; var text: String; var rows: [[String]] }

    static let cases: [Case] = [
        Case(name: "comma_in_quotes", text: "first,last,address,city,zip\nJohn,Doe,120 any st.,\"Anytown, WW\",08123",
             rows: [["first", "last", "address", "city", "zip"], ["John", "Doe", "120 any st.", "Anytown, WW", "08123"]]),
        Case(name: "escaped_quotes", text: "a,b\n1,\"ha \"\"ha\"\" ha\"\n3,4\n",
             rows: [["a", "b"], ["1", "ha \"ha\" ha"], ["3", "4"]]),
        Case(name: "json", text: "key,val\n1,\"{\"\"type\"\": \"\"Point\"\", \"\"coordinates\"\": [102.0, 0.5]}\"\n",
             rows: [["key", "val"], ["1", "{\"type\": \"Point\", \"coordinates\": [102.0, 0.5]}"]]),
        Case(name: "newlines", text: "a,b,c\n1,2,3\n\"Once upon \na time\",5,6\n7,8,9\n",
             rows: [["a", "b", "c"], ["1", "2", "3"], ["Once upon \na time", "5", "6"], ["7", "8", "9"]]),
        Case(name: "newlines_crlf", text: "a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n",
             rows: [["a", "b", "c"], ["1", "2", "3"], ["Once upon \r\na time", "5", "6"], ["7", "8", "9"]]),
        Case(name: "quotes_and_newlines", text: "a,b\n1,\"ha \n\"\"ha\"\" \nha\"\n3,4\n",
             rows: [["a", "b"], ["1", "ha \n\"ha\" \nha"], ["3", "4"]]),
        Case(name: "simple", text: "a,b,c\n1,2,3\n", rows: [["a", "b", "c"], ["1", "2", "3"]]),
        Case(name: "simple_crlf", text: "a,b,c\r\n1,2,3\r\n", rows: [["a", "b", "c"], ["1", "2", "3"]]),
        Case(name: "utf8", text: "a,b,c\n1,2,3\n4,5,ʤ", rows: [["a", "b", "c"], ["1", "2", "3"], ["4", "5", "ʤ"]]),
        Case(name: "empty", text: "a,b,c\n1,\"\",\"\"\n2,3,4", rows: [["a", "b", "c"], ["1", "", ""], ["2", "3", "4"]]),
        Case(name: "empty_crlf", text: "a,b,c\r\n1,\"\",\"\"\r\n2,3,4", rows: [["a", "b", "c"], ["1", "", ""], ["2", "3", "4"]]),
        // Beyond the suite: a bare CR and a CRLF cut by every chunk boundary, inside quotes.
        Case(name: "cr_inside_quotes", text: "a,b\r\n\"x\ry\",\"\r\n\r\n\"\r\n",
             rows: [["a", "b"], ["x\ry", "\r\n\r\n"]]),
    ]

    /// Every cell as text (missing, which "" always is, as ""), header first.
    func cells(_ path: String, chunk: Int, columns: [String]) throws -> [[String]] {
        var o = CSVOptions()
        o.chunkSize = chunk
        o.missingValues = [""]
        o.types = Dictionary(uniqueKeysWithValues: columns.map { ($0, ColumnType.string) })
        let ds = try readCSV(path, options: o)
        var out = [ds.columnNames]
        for r in 0..<ds.rowCount {
            out.append(ds.columns.map { c in let v = c.value(at: r); return v.isNull ? "" : (c.strings?[r] ?? v.description) })
        }
        return out
    }

    func testSpectrumCasesByteForByte() throws {
        for c in Self.cases {
            let path = tempFile(c.text, name: c.name + ".csv")
            for chunk in [1, 2, 3, 5, 8, 4096] {
                let got = try cells(path, chunk: chunk, columns: c.rows[0])
                XCTAssertEqual(got, c.rows, "\(c.name) chunk \(chunk)")
                // Compare the UTF-8 bytes too: Swift's String equality is by canonical
                // equivalence, and the point is that no byte is changed.
                XCTAssertEqual(got.map { $0.map { Array($0.utf8) } }, c.rows.map { $0.map { Array($0.utf8) } }, c.name)
            }
        }
    }

    /// Python's csv module (newline="" as its docs require) on the same bytes.
    func testPythonCSVAgrees() throws {
        guard let python = ProcessInfo.processInfo.environment["MLW_PYTHON"],
              FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("MLW_PYTHON is not set; the hard-coded expectations are checked by testSpectrumCasesByteForByte")
        }
        let script = "import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
            + "    sys.stdout.write(json.dumps(list(csv.reader(f))))\n"
        for c in Self.cases {
            let path = tempFile(c.text, name: c.name + ".csv")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["-c", script, path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, c.name)
            let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String]], c.name)
            XCTAssertEqual(rows.map { $0.map { Array($0.utf8) } }, c.rows.map { $0.map { Array($0.utf8) } }, "python: \(c.name)")
            XCTAssertEqual(try cells(path, chunk: 4096, columns: c.rows[0]), rows, "mlw vs python: \(c.name)")
        }
    }
}
