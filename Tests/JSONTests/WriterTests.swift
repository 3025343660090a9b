import JSON
import XCTest

final class WriterTests: XCTestCase {
    func testEscaping() throws {
        XCTAssertEqual(jsonQuote("plain"), #""plain""#)
        XCTAssertEqual(jsonQuote("q\"b\\s/"), #""q\"b\\s/""#)
        XCTAssertEqual(jsonQuote("\n\r\t"), #""\n\r\t""#)
        XCTAssertEqual(jsonQuote("\u{0}\u{1}\u{8}\u{c}\u{1b}\u{1f} \u{7f}"), #""\u0000\u0001\u0008\u000c\u001b\u001f "# + "\u{7f}\"")
        // Non-ASCII and non-BMP characters are written as their UTF-8 bytes, not escaped.
        XCTAssertEqual(Array(jsonQuote("é😀").utf8), [0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x22])
        XCTAssertEqual(jsonQuote(""), #""""#)
        // Every control character reads back as itself.
        let all = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) })) + "\"\\x😀"
        XCTAssertEqual(try JSONParser.parse(jsonQuote(all)), .string(all))
    }

    func testNumbers() {
        func text(_ d: Double) -> String { var w = JSONWriter(); w.double(d); return w.text }
        XCTAssertEqual(text(1), "1.0")
        XCTAssertEqual(text(-0.0), "-0.0")
        XCTAssertEqual(text(0.1), "0.1")
        XCTAssertEqual(text(2.5e-8), "2.5e-08")
        XCTAssertEqual(text(1e15), "1000000000000000.0")
        XCTAssertEqual(text(1e16), "1e+16")
        XCTAssertEqual(text(.nan), "NaN")
        XCTAssertEqual(text(-.infinity), "-Infinity")
        var w = JSONWriter()
        for i in [0, 7, -42, Int.max, Int.min] { w.int(i); w.byte(UInt8(ascii: " ")) }
        XCTAssertEqual(w.text, "0 7 -42 9223372036854775807 -9223372036854775808 ")
        var f = JSONWriter()
        f.floats([Float(0.1), 1, -.infinity])
        XCTAssertEqual(f.text, "0.1,1.0,-Infinity")
        // Doubles read back bit for bit, and stay doubles.
        for d in [0.1, 1.0 / 3, 123456789.125, -2.2250738585072014e-308, 1.7976931348623157e308, 1e22, 1e23, 4.35] {
            var w = JSONWriter(); w.double(d)
            XCTAssertEqual(try JSONParser.parse(w.text), .double(d), w.text)
        }
    }

    func testCompactAndPretty() throws {
        let v = JSONValue.object([("name", .string("m")), ("sizes", .array([.int(1), .double(2.5)])),
                                  ("ok", .bool(true)), ("none", .null), ("empty", .object([])), ("list", .array([]))])
        XCTAssertEqual(v.text(), #"{"name":"m","sizes":[1,2.5],"ok":true,"none":null,"empty":{},"list":[]}"#)
        XCTAssertEqual(v.text(pretty: true), """
            {
              "name": "m",
              "sizes": [
                1,
                2.5
              ],
              "ok": true,
              "none": null,
              "empty": {},
              "list": []
            }
            """)
    }

    func testRoundTrip() throws {
        let docs = [
            #"{"b":[1,2.5,true,null,"\u00e9\ud83d\ude00"],"a":{},"a":[[[]]],"n":-0.0,"big":12345678901234567890}"#,
            #"[{"x":{"y":{"z":["deep",1e-7,-3]}}}]"#,
            "\"\\u0000\\n\\\"\"",
        ]
        for doc in docs {
            let v = try JSONParser.parse(doc)
            XCTAssertEqual(try JSONParser.parse(v.text()), v, doc)
            XCTAssertEqual(try JSONParser.parse(v.text(pretty: true)), v, doc)
            XCTAssertEqual(try JSONParser.parse(v.text()).text(), v.text(), doc)
        }
        // The deepest document the parser takes writes and reads back.
        var deep = JSONValue.int(1)
        for _ in 0..<(JSONParser.maxDepth - 1) { deep = .array([deep]) }
        deep = .object([("k", deep)])
        XCTAssertEqual(try JSONParser.parse(deep.text()), deep)
    }
}
