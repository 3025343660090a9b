import XCTest
@testable import Frames

final class CSVReaderTests: XCTestCase {
    func testTrickyQuotesCRLFAndBOM() throws {
        let ds = try readCSV(fixture("tricky.csv"))
        XCTAssertEqual(ds.columnNames, ["name", "note", "value"])  // BOM stripped
        XCTAssertEqual(ds.rowCount, 2)
        XCTAssertEqual(try ds.column("name").value(at: 0), .string("Smith, J"))
        XCTAssertEqual(try ds.column("note").value(at: 0), .string("said \"hi\"\r\nthen left"))
        XCTAssertEqual(try ds.column("note").value(at: 1), .null)
        XCTAssertEqual(try ds.column("value").data, .float([1.5, 2]))
        // Row 2 starts on line 4 because row 1 holds an embedded newline.
        XCTAssertEqual(ds.sourceLines, [2, 4])
    }

    func testEveryChunkSizeGivesTheSameResult() throws {
        let text = "a,b,s\n1,2.5,\"x,\ny\"\r\n-3,1e3,\"q\"\"\"\n\n4,,z\n"
        let path = tempFile(text)
        var reference: Dataset?
        for chunk in [4096, 1, 2, 3, 5, 7, 11] {
            var o = CSVOptions(); o.chunkSize = chunk
            let ds = try readCSV(path, options: o)
            XCTAssertEqual(ds.rowCount, 3)
            XCTAssertEqual(ds.sourceLines, [2, 4, 6])
            XCTAssertEqual(try ds.column("a").data, .int([1, -3, 4]))
            XCTAssertEqual(try ds.column("s").strings!, ["x,\ny", "q\"", "z"])
            if let r = reference { XCTAssertEqual(ds, r, "chunk \(chunk)") } else { reference = ds }
        }
    }

    func testRaggedRowNamesFileAndLine() {
        let e = dataError { _ = try readCSV(fixture("ragged.csv")) }
        XCTAssertEqual(e?.kind, .raggedRow)
        XCTAssertEqual(e?.line, 3)
        XCTAssertTrue(e!.description.contains("ragged.csv:3:"), e!.description)
        XCTAssertTrue(e!.description.contains("expected 3 fields, found 2"))
    }

    func testUnterminatedQuote() {
        let e = dataError { _ = try readCSV(fixture("unterminated_quote.csv")) }
        XCTAssertEqual(e?.kind, .unterminatedQuote)
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "text")
    }

    func testNonUTF8() {
        let e = dataError { _ = try readCSV(fixture("non_utf8.csv")) }
        XCTAssertEqual(e?.kind, .invalidUTF8)
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "name")
    }

    func testEmptyFile() {
        let e = dataError { _ = try readCSV(fixture("empty.csv")) }
        XCTAssertEqual(e?.kind, .emptyFile)
        XCTAssertTrue(e!.description.contains("empty.csv"))
        XCTAssertEqual(dataError { _ = try readCSV(tempFile(bytes: [0xEF, 0xBB, 0xBF])) }?.kind, .emptyFile)
    }

    func testMissingFileIsIOError() {
        XCTAssertEqual(dataError { _ = try readCSV("/nonexistent/x.csv") }?.kind, .io)
    }

    func testMissingValues() throws {
        let ds = try readCSV(fixture("nan_values.csv"))
        let x = try ds.column("x"), y = try ds.column("y")
        XCTAssertEqual(x.type, .float)
        XCTAssertEqual(x.missing, [false, true, false])
        XCTAssertEqual(y.type, .int)
        XCTAssertEqual(y.missing, [true, false, true])
        XCTAssertEqual(y.value(at: 1), .int(2))
    }

    func testTypeInference() throws {
        let path = tempFile("i,f,s,c,big\n1,1,hello,a,9223372036854775807\n2,2.5,world,b,1\n3,-1e-3,again,a,2\n4,4,more,a,3\n5,5,yes,b,4\n")
        let ds = try readCSV(path)
        XCTAssertEqual(ds.columns.map(\.type), [.int, .float, .string, .category, .int])
        XCTAssertEqual(try ds.column("f").data, .float([1, 2.5, -0.001, 4, 5]))
        XCTAssertEqual(try ds.column("big").value(at: 0), .int(Int.max))
        if case .category(let codes, let levels) = try ds.column("c").data {
            XCTAssertEqual(levels, ["a", "b"]); XCTAssertEqual(codes, [0, 1, 0, 0, 1])
        } else { XCTFail() }
    }

    func testNumbersThenTextKeepsExactText() throws {
        // "007" must stay "007": the column is re-read as text once text shows up.
        let ds = try readCSV(tempFile("zip\n007\n1.50\nabc\n"))
        XCTAssertEqual(try ds.column("zip").strings!, ["007", "1.50", "abc"])
    }

    func testExplicitSchemaConflict() {
        var o = CSVOptions(); o.types = ["x": .int]
        let e = dataError { _ = try readCSV(tempFile("x,y\n1,a\n2.5,b\n"), options: o) }
        XCTAssertEqual(e?.kind, .typeConflict)
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "x")
        var o2 = CSVOptions(); o2.types = ["y": .category, "x": .float]
        let ds = try? readCSV(tempFile("x,y\n1,a\n2,b\n"), options: o2)
        XCTAssertEqual(ds?.columns.map(\.type), [.float, .category])
    }

    func testDelimiterAndNoHeader() throws {
        let ds = try readCSV(tempFile("1;2\n3;4\n"), options: CSVOptions(delimiter: ";", hasHeader: false))
        XCTAssertEqual(ds.columnNames, ["c0", "c1"])
        XCTAssertEqual(try ds.column("c1").data, .int([2, 4]))
    }

    func testNoTrailingNewlineAndCROnly() throws {
        let ds = try readCSV(tempFile("a,b\r\n1,2\r\n3,4"))
        XCTAssertEqual(ds.rowCount, 2)
        XCTAssertEqual(try ds.column("b").data, .int([2, 4]))
    }

    func testFastFloatParsingMatchesStrtod() {
        let cases = ["0", "-0.0", "1.5", "3.14159", "1e10", "1E-5", "123456789012345678901234", "0.1", "2.2250738585072014e-308",
                     "1.7976931348623157e308", "4.9e-324", "9007199254740993", "0.30000000000000004", "+7", " 12 ", "1e400"]
        for c in cases {
            XCTAssertEqual(NumberParsing.parseDouble(c), strtod(c, nil), c)
        }
        var rng = SplitMix64(seed: 1)
        for _ in 0..<2000 {
            let v = Double(bitPattern: rng.next() >> 2) // positive finite-ish doubles of every size
            guard v.isFinite else { continue }
            for s in [String(v), String(format: "%.6f", v), String(format: "%.17g", v)] {
                XCTAssertEqual(NumberParsing.parseDouble(s), strtod(s, nil), s)
            }
        }
        XCTAssertNil(NumberParsing.parseDouble("abc"))
        XCTAssertNil(NumberParsing.parseDouble("1.2.3"))
        XCTAssertNil(NumberParsing.parseDouble("1e"))
    }
}

final class CSVHeaderAndPreviewTests: XCTestCase {
    func testDuplicateHeaderIsAnError() {
        let e = dataError { _ = try readCSV(tempFile("a,b,a\n1,2,3\n")) }
        XCTAssertEqual(e?.kind, .badArgument)
        XCTAssertEqual(e?.column, "a")
        XCTAssertTrue(e!.description.contains("fields 1 and 3"))
    }

    func testHeaderOnlyFileHasNoRows() throws {
        let ds = try readCSV(tempFile("a,b\n"))
        XCTAssertEqual(ds.rowCount, 0)
        XCTAssertEqual(ds.columnNames, ["a", "b"])
    }

    func testPreview() throws {
        let ds = try readCSV(repoRoot + "/Scripts/data/iris.csv", options: CSVOptions(label: "species"))
        let text = ds.description
        XCTAssertTrue(text.hasPrefix("Dataset 150 rows x 5 columns (label: species)"), text)
        XCTAssertTrue(text.contains("5.1"))
        XCTAssertTrue(text.contains("... 145 more rows"))
    }
}

final class NumberScanTests: XCTestCase {
    /// The one-pass scanner must agree with the full parser wherever it answers.
    func testScanAgreesWithParse() {
        var rng = SplitMix64(seed: 5)
        let pieces = ["0", "1", "9", "-", ".", "e", "5", "00", "123456789", "+", " ", "x", ","]
        var answered = 0
        for _ in 0..<20000 {
            var s = ""
            for _ in 0..<(1 + rng.below(6)) { s += pieces[rng.below(pieces.count)] }
            let bytes = Array(s.utf8)
            bytes.withUnsafeBufferPointer { b in
                if let (v, len) = NumberParsing.scanDouble(b.baseAddress!, b.count) {
                    answered += 1
                    let parsed = NumberParsing.parseDouble(b.baseAddress!, len)
                    XCTAssertEqual(parsed?.bitPattern, v.bitPattern, s)
                }
                if let (v, len) = NumberParsing.scanInt(b.baseAddress!, b.count) {
                    XCTAssertEqual(NumberParsing.parseInt(b.baseAddress!, len), v, s)
                }
            }
        }
        XCTAssertGreaterThan(answered, 1000)
    }

    /// The word-at-a-time digit runs give exactly the byte loop's answer (value bits and
    /// length, or both nil), with enough bytes after the cell for the 8-byte reads.
    func testWordScanAgreesWithByteScan() {
        var rng = SplitMix64(seed: 11)
        let pieces = ["0", "7", "-", ".", "e", "E", "42", "1234567", "12345678", "999999999", "+", ",", "\n", "x", "/", ":"]
        var answered = 0
        for _ in 0..<50000 {
            var s = ""
            for _ in 0..<(1 + rng.below(5)) { s += pieces[rng.below(pieces.count)] }
            s += String(repeating: pieces[rng.below(pieces.count)], count: 16)
            let bytes = Array(s.utf8)
            bytes.withUnsafeBufferPointer { b in
                let fast = NumberParsing.scanDouble(b.baseAddress!, b.count)
                let slow = NumberParsing.scanDoubleBytewise(b.baseAddress!, b.count)
                XCTAssertEqual(fast?.0.bitPattern, slow?.0.bitPattern, s)
                XCTAssertEqual(fast?.1, slow?.1, s)
                if fast != nil { answered += 1 }
            }
        }
        XCTAssertGreaterThan(answered, 5000)
        for n in 0...8 {
            let digits = Array("98765432xyz".utf8)
            digits.withUnsafeBufferPointer { b in
                var word = Array(b)
                if n < 8 { word[n] = UInt8(ascii: ",") }
                let (v, k) = word.withUnsafeBufferPointer { NumberParsing.eightDigits($0.baseAddress!) }
                XCTAssertEqual(k, n)
                XCTAssertEqual(v, n == 0 ? 0 : UInt64(String(decoding: word[0..<n], as: UTF8.self))!)
            }
        }
    }

    func testNumericMissingTokenIsNotFastParsed() throws {
        var o = CSVOptions(); o.missingValues = ["", "-999"]
        let ds = try readCSV(tempFile("a,b\n1.5,2\n-999,-999\n-9.5,-99\n"), options: o)
        XCTAssertEqual(try ds.column("a").missing, [false, true, false])
        XCTAssertEqual(try ds.column("b").missing, [false, true, false])
        XCTAssertEqual(try ds.column("b").value(at: 2), .int(-99))
    }

    func testFastPathEdgeCells() throws {
        // Trailing spaces, plus signs, exponents, ints that turn float, and a last line
        // without newline all leave the fast path and must still read right.
        let ds = try readCSV(tempFile("a,b,c\n1 ,+2,3\n-0,1e2,4.5\n7,-3,12345678901234567890"))
        XCTAssertEqual(try ds.column("a").data, .int([1, 0, 7]))
        XCTAssertEqual(try ds.column("b").data, .float([2, 100, -3]))
        XCTAssertEqual(try ds.column("c").data, .float([3, 4.5, 1.2345678901234567e19]))
    }
}
