import JSON
import XCTest

/// Conformance in the manner of JSONTestSuite: `y_` documents must parse to the given
/// value, `n_` documents must be refused (with a position), never crash.
final class ParserTests: XCTestCase {
    func parse(_ s: String, maxDepth: Int = JSONParser.maxDepth, nonFinite: Bool = false) throws -> JSONValue {
        try JSONParser.parse(Array(s.utf8), maxDepth: maxDepth, allowNonFinite: nonFinite)
    }

    func error(_ s: String, maxDepth: Int = JSONParser.maxDepth, nonFinite: Bool = false,
               file: StaticString = #filePath, line: UInt = #line) -> JSONError? {
        do {
            let v = try parse(s, maxDepth: maxDepth, nonFinite: nonFinite)
            XCTFail("accepted \(s.debugDescription) as \(v)", file: file, line: line)
            return nil
        } catch let e as JSONError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    func testNumbers() throws {
        let cases: [(String, JSONValue)] = [
            ("0", .int(0)), ("-0", .int(0)), ("1", .int(1)), ("-123", .int(-123)),
            ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
            ("9223372036854775808", .double(9223372036854775808)),
            ("123456789012345678901234567890", .double(1.2345678901234568e29)),
            ("1.5", .double(1.5)), ("-1.5e3", .double(-1500)), ("1E+2", .double(100)), ("1e-2", .double(0.01)),
            ("0.1", .double(0.1)), ("-0.0", .double(-0.0)), ("1.0", .double(1)), ("0e0", .double(0)),
            ("123456789012345.6", .double(123456789012345.6)),
            ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)), ("5e-324", .double(5e-324)),
            ("0.30000000000000004", .double(0.30000000000000004)),
        ]
        for (text, want) in cases {
            XCTAssertEqual(try parse(text), want, text)
            XCTAssertEqual(try parse(" [\(text)] "), .array([want]), text)
        }
        if case .double(let z) = try parse("-0.0") { XCTAssertEqual(z.sign, .minus) }
    }

    func testBadNumbers() {
        for text in ["01", "-01", "00", "1.", ".1", "+1", "1e", "1e+", "-", "--1", "0x10", "1.e3", "- 1",
                     "NaN", "Infinity", "-Infinity", "nan", "inf", "1_000", "[1.]", "[-]"] {
            XCTAssertEqual(error(text)?.kind, .syntax, text)
        }
        XCTAssertEqual(error("01")?.message, "leading zero in number")
        XCTAssertEqual(error("[1.]")?.message, "digits expected after '.'")
    }

    func testNonFiniteTokensOnRequest() throws {
        let v = try parse("[NaN, Infinity, -Infinity, 1]", nonFinite: true)
        guard case .array(let xs) = v, xs.count == 4, case .double(let a) = xs[0], case .double(let b) = xs[1],
              case .double(let c) = xs[2] else { return XCTFail("\(v)") }
        XCTAssertTrue(a.isNaN)
        XCTAssertEqual(b, .infinity)
        XCTAssertEqual(c, -.infinity)
        XCTAssertNotNil(error("nan", nonFinite: true))
        XCTAssertNotNil(error("-Inf", nonFinite: true))
    }

    func testStringsAndEscapes() throws {
        let cases: [(String, String)] = [
            (#""""#, ""), (#""abc""#, "abc"),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
            (#""\u0041\u00e9\u00E9""#, "Aéé"),
            (#""\ud83d\ude00""#, "😀"), (#""\uD834\uDD1E""#, "𝄞"),
            ("\"é😀 raw\"", "é😀 raw"),
            (#""\u0000""#, "\u{0}"),
            // Lone surrogates have no UTF-8 form: U+FFFD, as most parsers do.
            (#""\ud800""#, "\u{FFFD}"), (#""\udfaa x""#, "\u{FFFD} x"), (#""\ud800\u0041""#, "\u{FFFD}A"),
            (#""\ud800\ud800""#, "\u{FFFD}\u{FFFD}"),
        ]
        for (text, want) in cases { XCTAssertEqual(try parse(text), .string(want), text) }
    }

    func testBadStrings() {
        let cases: [(String, String)] = [
            ("\"abc", "unterminated string"), ("\"\\", "unterminated string"),
            ("\"a\u{1}b\"", "control character in string"), ("\"a\nb\"", "control character in string"),
            (#""\x""#, "bad escape '\\x'"), (#""\u12""#, "bad \\u escape: four hex digits expected"),
            (#""\u12G4""#, "bad \\u escape: four hex digits expected"), (#""\u+123""#, "bad \\u escape: four hex digits expected"),
            ("'a'", "unexpected character"),
        ]
        for (text, message) in cases { XCTAssertEqual(error(text)?.message, message, text) }
        // Bytes that are not UTF-8 inside a string, on both the plain and the escape path.
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            XCTAssertThrowsError(try JSONParser.parse(bytes)) { XCTAssertEqual(($0 as? JSONError)?.message, "invalid UTF-8 in string") }
        }
    }

    func testStructures() throws {
        XCTAssertEqual(try parse(" \t\r\n[ ] "), .array([]))
        XCTAssertEqual(try parse("{}"), .object([]))
        XCTAssertEqual(try parse(#"{"a": [true, false, null], "b": {"c": "d"}}"#),
                       .object([("a", .array([.bool(true), .bool(false), .null])), ("b", .object([("c", .string("d"))]))]))
        // Duplicate keys are kept in document order; a lookup takes the last.
        let dup = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        XCTAssertEqual(dup, .object([("a", .int(1)), ("b", .int(2)), ("a", .int(3))]))
        XCTAssertEqual(dup["a"], .int(3))
        XCTAssertNil(dup["z"])
        XCTAssertEqual(try parse("[1, [2]]")[1]?[0], .int(2))
        XCTAssertEqual(try parse("\"top\""), .string("top"))
        XCTAssertEqual(try parse("null"), .null)
    }

    func testBadStructures() {
        let cases: [(String, String)] = [
            ("", "unexpected end of input"), (" ", "unexpected end of input"), ("[", "unexpected end of input"),
            ("]", "unexpected character"), ("[1,]", "unexpected character"), ("[,1]", "unexpected character"),
            ("[1 2]", "expected ',' or ']'"), ("[1]]", "unexpected text after the value"),
            (#"{"a":1,}"#, "expected a field name"), ("{a:1}", "expected a field name"),
            (#"{"a" 1}"#, "expected ':'"), (#"{"a":1 "b":2}"#, "expected ',' or '}'"), ("{", "unexpected end of input"),
            ("[] x", "unexpected text after the value"), ("{} {}", "unexpected text after the value"),
            ("1 2", "unexpected text after the value"), ("[1] // c", "unexpected text after the value"),
            ("tru", "unexpected end of input"), ("nul", "unexpected end of input"), ("trux", "unexpected character"),
            ("\u{FEFF}[]", "unexpected character"), ("[\u{0}]", "unexpected character"),
        ]
        for (text, message) in cases { XCTAssertEqual(error(text)?.message, message, text.debugDescription) }
    }

    func testErrorPositions() {
        let e = error(#"{"a": [1, 2"#)
        XCTAssertEqual(e?.description, "line 1, column 12: unexpected end of input")
        XCTAssertEqual(e?.offset, 11)
        XCTAssertEqual(error("[\n1,\n]").map { [$0.line, $0.column] }, [3, 1])
        // Columns count characters: "é" is two bytes, one column.
        XCTAssertEqual(error("[\"é\", x]").map { [$0.line, $0.column, $0.offset] }, [1, 7, 7])
        XCTAssertEqual(error("{\n  \"a\": 01\n}").map { [$0.line, $0.column] }, [2, 8])
    }

    func testDepthLimit() throws {
        let deepest = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        XCTAssertNoThrow(try parse(deepest))
        let e = error("[" + deepest + "]")
        XCTAssertEqual(e?.kind, .tooDeep)
        XCTAssertEqual(e?.description, "line 1, column 513: nested deeper than 512 levels")
        // Objects count as levels too, and a hostile document far past the limit is refused.
        XCTAssertEqual(error(String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513))?.kind, .tooDeep)
        XCTAssertEqual(error(String(repeating: "[", count: 1_000_000))?.kind, .tooDeep)
        // A caller may ask for less, never more.
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), maxDepth: 64))
        XCTAssertEqual(error(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), maxDepth: 64)?.message,
                       "nested deeper than 64 levels")
        XCTAssertEqual(error("[" + deepest + "]", maxDepth: 100_000)?.kind, .tooDeep)
    }

    func testInputForms() throws {
        let text = #"{"k": [1, "two"]}"#
        let bytes = Array(text.utf8)
        let a = try JSONParser.parse(text)
        XCTAssertEqual(try JSONParser.parse(bytes), a)
        XCTAssertEqual(try bytes.withUnsafeBytes { try JSONParser.parse($0) }, a)
        // A slice of a larger buffer (the binary inference extension parses a prefix).
        let framed = bytes + [0xFF, 0x00, 0x01]
        XCTAssertEqual(try framed.withUnsafeBytes { try JSONParser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<bytes.count])) }, a)
    }
}
