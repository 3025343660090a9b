import XCTest
@testable import Frames

/// The fast byte parser against a slow, obvious twin on random CSV text (long and short
/// fields, quotes, embedded delimiters/newlines, CRLF), at several chunk sizes.
final class CSVOracleTests: XCTestCase {
    /// Obvious RFC 4180 parser: records of fields, each with the line it starts on.
    func oracle(_ text: String) -> [(line: Int, fields: [String])] {
        var out: [(Int, [String])] = []
        var fields: [String] = [], field = "", inQuotes = false, line = 1, recLine = 1, sawAny = false
        let chars = Array(text.unicodeScalars)
        var i = 0
        func endRecord() {
            if sawAny || !field.isEmpty || !fields.isEmpty { fields.append(field); out.append((recLine, fields)) }
            fields = []; field = ""; sawAny = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else { if c == "\n" { line += 1 }; field.unicodeScalars.append(c) }
            } else if c == "\"" && field.isEmpty { inQuotes = true; sawAny = true }
            else if c == "," { fields.append(field); field = ""; sawAny = true }
            else if c == "\r" || c == "\n" {
                if c == "\r" && i + 1 < chars.count && chars[i + 1] == "\n" { i += 1 }
                endRecord(); line += 1; recLine = line
            } else { field.unicodeScalars.append(c) }
            i += 1
        }
        endRecord()
        return out
    }

    func testRandomTextsMatchOracle() throws {
        var rng = SplitMix64(seed: 99)
        let alphabet = ["a", "b", "é", "x y", ",", "\"", "\n", "\r\n", "1", "22", "-3.5", "longer_text_value_here"]
        for round in 0..<60 {
            let cols = 1 + rng.below(4)
            var text = (0..<cols).map { "h\($0)" }.joined(separator: ",") + (rng.below(2) == 0 ? "\n" : "\r\n")
            let rows = 1 + rng.below(12)
            for _ in 0..<rows {
                let cells: [String] = (0..<cols).map { _ in
                    var s = ""
                    for _ in 0..<rng.below(6) { s += alphabet[rng.below(alphabet.count)] }
                    let needsQuotes = s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")
                    if needsQuotes || rng.below(4) == 0 { return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
                    return s
                }
                // A row whose only cell is empty would be a blank line; quote it.
                text += (cols == 1 && cells[0].isEmpty ? "\"\"" : cells.joined(separator: ",")) + (rng.below(2) == 0 ? "\n" : "\r\n")
            }
            let expected = oracle(text)
            let path = tempFile(text)
            for chunk in [3, 8, 13, 4096] {
                var o = CSVOptions(); o.chunkSize = chunk; o.missingValues = [""]; o.types = Dictionary(uniqueKeysWithValues: (0..<cols).map { ("h\($0)", ColumnType.string) })
                let ds = try readCSV(path, options: o)
                XCTAssertEqual(ds.rowCount, expected.count - 1, "round \(round)")
                XCTAssertEqual(ds.sourceLines, expected.dropFirst().map(\.line), "round \(round) chunk \(chunk)")
                for (r, rec) in expected.dropFirst().enumerated() {
                    for (j, cell) in rec.fields.enumerated() {
                        let v = ds.columns[j].value(at: r)
                        XCTAssertEqual(v.isNull ? "" : v.description, cell, "round \(round) row \(r) col \(j)")
                    }
                }
            }
        }
    }
}

final class CSVNumericOracleTests: XCTestCase {
    /// Numeric columns (fast one-pass path) against splitting lines and `strtod`.
    func testRandomNumericFiles() throws {
        var rng = SplitMix64(seed: 17)
        let cells = ["1", "-2.5", "", "NA", "3e2", " 4", "0.125", "-0", "17", "-123.4567", "9007199254740993", "1.", "+8"]
        for round in 0..<40 {
            let cols = 1 + rng.below(4), rows = 1 + rng.below(30)
            var grid: [[String]] = []
            for _ in 0..<rows { grid.append((0..<cols).map { _ in cells[rng.below(cells.count)] }) }
            // A one-column row with an empty cell would be a blank line.
            if cols == 1 { grid = grid.map { $0[0].isEmpty ? ["NA"] : $0 } }
            let eol = rng.below(2) == 0 ? "\n" : "\r\n"
            let text = (0..<cols).map { "c\($0)" }.joined(separator: ",") + eol + grid.map { $0.joined(separator: ",") }.joined(separator: eol)
                + (rng.below(2) == 0 ? eol : "")
            let path = tempFile(text)
            for chunk in [5, 9, 64, 4096] {
                var o = CSVOptions(); o.chunkSize = chunk
                let ds = try readCSV(path, options: o)
                XCTAssertEqual(ds.rowCount, rows)
                for j in 0..<cols {
                    let got = ds.columns[j].doubles!
                    for r in 0..<rows {
                        let cell = grid[r][j]
                        let want = (cell.isEmpty || cell == "NA") ? Double.nan : strtod(cell, nil)
                        // By value: "-0" in an int column is plain 0.
                        XCTAssertTrue(got[r] == want || got[r].isNaN && want.isNaN, "round \(round) chunk \(chunk) cell '\(cell)': \(got[r]) vs \(want)")
                    }
                }
            }
        }
    }
}

/// The two-core path (half of the columns per thread) must read exactly what the
/// one-core path reads, errors included.
final class CSVTwoCoreTests: XCTestCase {
    func read(_ path: String, twoCores: Bool, chunk: Int) -> Swift.Result<Dataset, DataError> {
        var o = CSVOptions()
        o.chunkSize = chunk
        o.twoCoreMinBytes = twoCores ? 0 : Int.max
        do { return .success(try readCSV(path, options: o)) } catch { return .failure(error as! DataError) }
    }

    func testSameResultsAsOneCore() {
        var rng = SplitMix64(seed: 23)
        let cells = ["1", "-2.5", "", "NA", "3e2", "x", "0.125", "\"q,\"\"\"", "17", "-123.4567", "abc", "1."]
        for round in 0..<60 {
            let cols = 2 + rng.below(5), rows = 1 + rng.below(60)
            var lines = [(0..<cols).map { "c\($0)" }.joined(separator: ",")]
            for _ in 0..<rows {
                // Mostly numbers; sometimes text, quotes or a ragged row.
                var row = (0..<cols).map { _ in cells[rng.below(4) == 0 ? rng.below(cells.count) : [0, 1, 6, 8, 9][rng.below(5)]] }
                if rng.below(80) == 0 { row.removeLast() }
                lines.append(row.joined(separator: ","))
            }
            let path = tempFile(lines.joined(separator: "\n") + "\n")
            for chunk in [16, 64, 4096] {
                let one = read(path, twoCores: false, chunk: chunk), two = read(path, twoCores: true, chunk: chunk)
                switch (one, two) {
                case (.success(let a), .success(let b)): XCTAssertEqual(a, b, "round \(round) chunk \(chunk)")
                case (.failure(let a), .failure(let b)): XCTAssertEqual(a, b, "round \(round) chunk \(chunk)")
                default: XCTFail("round \(round) chunk \(chunk): \(one) vs \(two)")
                }
            }
        }
    }

    func testIrisAndDigitsOnTwoCores() throws {
        for (file, label) in [("iris.csv", "species"), ("digits.csv", "digit")] {
            var o = CSVOptions(label: label); o.chunkSize = 4096; o.twoCoreMinBytes = 0
            XCTAssertEqual(try readCSV(repoRoot + "/Scripts/data/" + file, options: o),
                           try readCSV(repoRoot + "/Scripts/data/" + file, options: CSVOptions(label: label)))
        }
    }
}
