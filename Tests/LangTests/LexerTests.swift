@testable import Lang
import XCTest

final class LexerTests: XCTestCase {
    func kinds(_ text: String) -> [TokenKind] {
        var l = Lexer(file: SourceFile(name: "t", text: text))
        return l.tokenize().map(\.kind)
    }

    func testNumbersNamesKeywordsOperators() {
        XCTAssertEqual(kinds("let x = 1_000 + 2.5e3 |> f"), [
            .keyword("let"), .name("x"), .op("="), .int(1000), .op("+"), .float(2500), .op("|>"), .name("f"), .eof,
        ])
        XCTAssertEqual(kinds("a ** b // c ... d"), [.name("a"), .op("**"), .name("b"), .op("//"), .name("c"), .op("..."), .name("d"), .eof])
    }

    func testNewlinesAndComments() {
        XCTAssertEqual(kinds("a # comment\nb"), [.name("a"), .newline, .name("b"), .eof])
        XCTAssertEqual(kinds("a \\\n b"), [.name("a"), .name("b"), .eof], "backslash-newline continues the line")
    }

    func testStringPartsAndPositions() {
        var l = Lexer(file: SourceFile(name: "t", text: "x = \"a{1 + 2}b\\n\""))
        let toks = l.tokenize()
        XCTAssertTrue(l.errors.isEmpty)
        let s = toks[2]
        XCTAssertEqual(s.kind, .string)
        XCTAssertEqual(s.parts.count, 3)
        if case .text(let t) = s.parts[2] { XCTAssertEqual(t, "b\n") } else { XCTFail("expected text") }
        if case .code(let inner, let span) = s.parts[1] {
            XCTAssertEqual(inner.map(\.kind), [.int(1), .op("+"), .int(2), .eof])
            XCTAssertEqual(span.col, 8)
        } else { XCTFail("expected code") }
        XCTAssertEqual(toks[0].span.line, 1)
        XCTAssertEqual(toks[2].span.col, 5)
    }

    func testErrorsAreCollectedNotThrown() {
        var l = Lexer(file: SourceFile(name: "t", text: "a $ b\n\"open"))
        _ = l.tokenize()
        XCTAssertEqual(l.errors.map(\.message), ["unexpected character '$'", "unterminated string"])
        XCTAssertEqual(l.errors.map(\.span.line), [1, 2])
    }

    func testIntegerLimits() {
        XCTAssertEqual(kinds("9223372036854775807"), [.int(Int.max), .eof])
        XCTAssertEqual(kinds("-9223372036854775808"), [.op("-"), .int(Int.min), .eof])
        var l = Lexer(file: SourceFile(name: "t", text: "9223372036854775808"))
        _ = l.tokenize()
        XCTAssertEqual(l.errors.first?.message, "integer literal 9223372036854775808 does not fit in 64 bits")
    }
}
