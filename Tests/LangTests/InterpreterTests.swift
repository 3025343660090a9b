@testable import Lang
import XCTest

/// The interpreter through its Swift API: values, natives, calls back into MLW, errors.
final class InterpreterTests: XCTestCase {
    func interp() -> Interpreter { Interpreter(libraries: coreLibraries) }

    func testEvalKeepsNamesAcrossREPLInputs() throws {
        let i = interp()
        _ = try i.evalREPL("let x = 20")
        _ = try i.evalREPL("fn f(y) = x + y")
        XCTAssertEqual(try i.evalREPL("f(22)").repr, "42")
        _ = try i.evalREPL("let x = 1")  // the REPL may redefine
        XCTAssertEqual(try i.evalREPL("x").repr, "1")
        XCTAssertEqual(i.replNames.map(\.0).sorted(), ["f", "x"])
    }

    func testFailedREPLInputDefinesNothing() throws {
        let i = interp()
        XCTAssertThrowsError(try i.evalREPL("let a = 1 / 0"))
        XCTAssertThrowsError(try i.evalREPL("a")) { e in
            XCTAssertTrue("\(e)".contains("'a'"), "\(e)")
        }
        XCTAssertThrowsError(try i.evalREPL("let b = nope"))
        XCTAssertThrowsError(try i.evalREPL("b"))
    }

    func testNativeCallsBackIntoScript() throws {
        let i = interp()
        XCTAssertEqual(try i.evalREPL("map([1, 2], |x| x * 10)").repr, "[10, 20]")
        let f = try i.evalREPL("|a, b: 1| a + b")
        XCTAssertEqual(try i.call(f, [.int(2)]).repr, "3")
        XCTAssertEqual(try i.call(f, [.int(2)], named: [("b", .int(5))]).repr, "7")
    }

    func testNativeValuesDefineOperatorsFieldsAndPrinting() throws {
        final class Vec: NativeValue {
            let x: Double, y: Double
            init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
            var typeName: String { "vec" }
            var description: String { "vec(\(x), \(y))" }
            func field(_ name: String) throws -> Value? { name == "x" ? .float(x) : name == "y" ? .float(y) : nil }
            func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
                guard op == "+", case .native(let o) = other, let v = o as? Vec else { return nil }
                return .native(Vec(x + v.x, y + v.y))
            }
        }
        let lib = Library("vec", doc: "test vectors", [
            NativeFunction("vec", [Param("x", .number), Param("y", .number)], doc: "A 2-d vector.", example: "vec(1, 2)") { a in
                .native(Vec(try a.double("x"), try a.double("y")))
            },
            NativeFunction("norm", [Param("v", .native("vec"))], doc: "Length.", example: "norm(vec(3, 4))") { a in
                let v = try a.native("v", as: Vec.self, "vec")
                return .float((v.x * v.x + v.y * v.y).squareRoot())
            },
        ])
        let i = Interpreter(libraries: coreLibraries + [lib])
        XCTAssertEqual(try i.evalREPL("vec(1, 2) + vec(3, 4)").repr, "vec(4.0, 6.0)")
        XCTAssertEqual(try i.evalREPL("vec(3, 4).norm()").repr, "5.0", "methods fall back to functions in scope")
        XCTAssertEqual(try i.evalREPL("vec(3, 4).y").repr, "4.0")
        XCTAssertThrowsError(try i.evalREPL("norm(3)")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "bad argument 'v' to 'norm': expected vec, got integer")
        }
        XCTAssertThrowsError(try i.evalREPL("vec(1, 2) * 2")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "unsupported operand types for '*': vec and integer")
        }
    }

    func testOverloadsDispatchOnFirstArgument() throws {
        let lib = Library("extra", doc: "overload test", [
            NativeFunction("len", [Param("x", .int)], doc: "digits of an integer", example: "len(123)") { a in
                .int(String(try a.int("x")).count)
            },
        ])
        let i = Interpreter(libraries: coreLibraries + [lib])
        XCTAssertEqual(try i.evalREPL("len([1, 2])").repr, "2")
        XCTAssertEqual(try i.evalREPL("len(12345)").repr, "5")
    }

    func testParamsOverridesAreTyped() throws {
        let src = SourceFile(name: "p.mlw", text: "param epochs = 10\nparam lr = 0.1\nparam tag = \"a\"\n[epochs, lr, tag]")
        let i = interp()
        i.paramOverrides = ["epochs": "20", "lr": "1", "tag": "b"]
        XCTAssertEqual(try i.runMain(src).repr, "[20, 1.0, \"b\"]")
        XCTAssertEqual(i.paramValues.map(\.0), ["epochs", "lr", "tag"])

        let bad = interp()
        bad.paramOverrides = ["epochs": "ten"]
        XCTAssertThrowsError(try bad.runMain(src)) { e in
            let err = e as! MLWError
            XCTAssertEqual(err.kind, .usage)
            XCTAssertEqual(err.message, "--set epochs=ten: expected an integer (the default is 10)")
        }
        let unknown = interp()
        unknown.paramOverrides = ["epoch": "3"]
        XCTAssertThrowsError(try unknown.runMain(src)) { e in
            XCTAssertEqual((e as! MLWError).message, "unknown parameter 'epoch' in --set (parameters: epochs, lr, tag)")
        }
    }

    func testTracebackNamesScriptFrames() {
        let src = SourceFile(name: "t.mlw", text: "fn a(x) = x / 0\nfn b(x) = a(x)\nb(1)")
        do {
            _ = try interp().runMain(src)
            XCTFail("expected an error")
        } catch let e as MLWError {
            XCTAssertEqual(e.trace.map(\.function), ["a", "b"])
            XCTAssertEqual(e.trace.map(\.span.line), [2, 3])
            let text = e.render()
            XCTAssertTrue(text.contains("traceback (most recent call last):\n  t.mlw:3:1: in b\n  t.mlw:2:11: in a\n"), text)
        } catch { XCTFail("\(error)") }
    }

    func testInterruptStopsAnInfiniteLoop() {
        let i = interp()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { mlwInterruptRequested = 1 }
        XCTAssertThrowsError(try i.evalREPL("while true { }")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "interrupted")
        }
        XCTAssertEqual(try i.evalREPL("1 + 1").repr, "2", "the session goes on after an interrupt")
    }

    func testStepBudgetStopsRunawayPrograms() {
        let i = interp()
        i.stepBudget = 10_000
        XCTAssertThrowsError(try i.evalREPL("var n = 0\nwhile true { n += 1 }")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "step budget exhausted")
        }
    }

    func testJSONRoundTripAndLimits() throws {
        let v = try Value.parseJSON("{\"b\": [1, 2.5, true, null, \"\\u00e9\\ud83d\\ude00\"], \"a\": {}}")
        XCTAssertEqual(v.repr, "{b: [1, 2.5, true, nil, \"é😀\"], a: {}}")
        XCTAssertEqual(try v.json(), "{\"b\":[1,2.5,true,null,\"é😀\"],\"a\":{}}")
        XCTAssertThrowsError(try Value.parseJSON(String(repeating: "[", count: 10_000)))
        XCTAssertThrowsError(try Value.parseJSON("{\"a\" 1}"))
        XCTAssertThrowsError(try Value.float(.nan).json())
    }
}
