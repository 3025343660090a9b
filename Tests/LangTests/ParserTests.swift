@testable import Lang
import XCTest

final class ParserTests: XCTestCase {
    func parse(_ text: String) throws -> [Stmt] {
        try Parser.parse(SourceFile(name: "t", text: text)).stmts
    }

    /// A compact rendering of an expression tree, to compare shapes.
    func show(_ e: Expr) -> String {
        switch e.kind {
        case .literal(let v): return v.repr
        case .name(let r): return r.name
        case .binary(let op, let a, let b): return "(\(show(a)) \(op) \(show(b)))"
        case .unary(let op, let a): return "(\(op) \(show(a)))"
        case .and(let a, let b): return "(\(show(a)) and \(show(b)))"
        case .or(let a, let b): return "(\(show(a)) or \(show(b)))"
        case .call(let f, let args): return "\(show(f))(" + args.map { ($0.name.map { "\($0): " } ?? "") + show($0.value) }.joined(separator: ", ") + ")"
        case .method(let r, let n, let args, _): return "\(show(r)).\(n)(" + args.map { show($0.value) }.joined(separator: ", ") + ")"
        case .field(let r, let n): return "\(show(r)).\(n)"
        case .function(let f): return "fn(\(f.params.map(\.decl.name).joined(separator: ", ")))"
        case .list(let xs): return "[\(xs.count)]"
        case .record(let xs): return "{\(xs.count)}"
        case .index(let r, let items): return "\(show(r))[\(items.count)]"
        case .ifElse: return "if"
        case .block: return "block"
        case .interpolated: return "interp"
        }
    }

    func expr(_ text: String) throws -> String {
        let stmts = try parse(text)
        guard case .expr(let e) = stmts.last?.kind else { return "<not an expression>" }
        return show(e)
    }

    func testPrecedence() throws {
        XCTAssertEqual(try expr("1 + 2 * 3"), "(1 + (2 * 3))")
        XCTAssertEqual(try expr("-2 ** 2"), "(- (2 ** 2))")
        XCTAssertEqual(try expr("2 ** 3 ** 2"), "(2 ** (3 ** 2))")
        XCTAssertEqual(try expr("a < b and not c or d"), "(((a < b) and (not c)) or d)")
        XCTAssertEqual(try expr("a @ b + c"), "((a @ b) + c)")
    }

    func testPipesDesugarToCalls() throws {
        XCTAssertEqual(try expr("x |> f"), "f(x)")
        XCTAssertEqual(try expr("x |> f(1, k: 2)"), "f(x, 1, k: 2)")
        XCTAssertEqual(try expr("x\n  |> f\n  |> g(2)"), "g(f(x), 2)")
        XCTAssertEqual(try expr("x |> m.f(1)"), "m.f(x, 1)")
    }

    func testPostfixAndCalls() throws {
        XCTAssertEqual(try expr("t.sum(axis: 0)"), "t.sum(0)")
        XCTAssertEqual(try expr("r.lr"), "r.lr")
        XCTAssertEqual(try expr("xs[1:3]"), "xs[1]")
        XCTAssertEqual(try expr("t[:, 1:3]"), "t[2]")
        XCTAssertEqual(try expr("f(1)(2)"), "f(1)(2)")
    }

    func testRecordVersusBlock() throws {
        XCTAssertEqual(try expr("{a: 1, b: 2}"), "{2}")
        XCTAssertEqual(try expr("{}"), "{0}")
        XCTAssertEqual(try expr("{...r, a: 1}"), "{2}")
        XCTAssertEqual(try expr("{ 1 }"), "block")
    }

    func testLambdasAndTrailingBlocks() throws {
        XCTAssertEqual(try expr("|x, y: 2| x + y"), "fn(x, y)")
        XCTAssertEqual(try expr("stage(\"p\") { 1 }"), "stage(\"p\", fn())")
        // In an `if` head a `{` starts the body, not a trailing block.
        let stmts = try parse("if f(x) { 1 } else { 2 }")
        guard case .expr(let e) = stmts[0].kind, case .ifElse(let c, _, let other) = e.kind else { return XCTFail() }
        XCTAssertEqual(show(c), "f(x)")
        XCTAssertNotNil(other)
    }

    func testStatements() throws {
        let s = try parse("let a = 1\nvar b = 2\nparam c = 3\nfn f(x) = x\nb += 1\nfor i in xs { }\nwhile false { }\nimport std.metrics")
        XCTAssertEqual(s.count, 8)
        guard case .binding(let d, _) = s[2].kind else { return XCTFail() }
        XCTAssertEqual(d.kind, .param)
        guard case .assign(_, let op, _) = s[4].kind else { return XCTFail() }
        XCTAssertEqual(op, "+=")
        guard case .importModule(let imp) = s[7].kind else { return XCTFail() }
        XCTAssertEqual(imp.stdName, "metrics")
    }

    func testRecoveryReportsSeveralErrors() {
        do {
            _ = try parse("let = 1\nlet ok = 2\nprint(ok +)\nlet z = )")
            XCTFail("expected errors")
        } catch let e as MLWError {
            let all = [e] + e.more
            XCTAssertEqual(all.map(\.span.line), [1, 3, 4])
            XCTAssertEqual(e.kind, .syntax)
        } catch { XCTFail("\(error)") }
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try parse(deep)) { e in
            XCTAssertTrue((e as? MLWError)?.message.hasPrefix("program nested too deeply") ?? false)
        }
        let deepBlocks = String(repeating: "{ ", count: 5000) + String(repeating: "} ", count: 5000)
        XCTAssertThrowsError(try parse(deepBlocks))
        let deepStrings = String(repeating: "\"{", count: 500) + String(repeating: "}\"", count: 500)
        XCTAssertThrowsError(try parse(deepStrings))
    }

    func testRendersCaretUnderSpan() {
        do {
            _ = try parse("let x = 1\nlet y = x +* 2")
        } catch let e as MLWError {
            XCTAssertEqual(e.render(), "t:2:12: error: expected an expression, found '*'\n  let y = x +* 2\n             ^\n")
        } catch { XCTFail("\(error)") }
    }
}
