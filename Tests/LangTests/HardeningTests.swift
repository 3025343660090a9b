@testable import Lang
import XCTest

/// Issue 23's language reproducers: each used to trap, hang, recurse without bound or
/// answer wrongly; each must now return the right value or raise a script error.
final class LangHardeningTests: XCTestCase {
    func interp() -> Interpreter { Interpreter(libraries: coreLibraries) }

    /// The message of the error `code` raises (fails when it raises none).
    func error(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let v = try interp().evalREPL(code)
            XCTFail("expected an error from \(code), got \(v.repr)", file: file, line: line)
            return ""
        } catch let e as MLWError {
            return e.message
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return ""
        }
    }

    func eval(_ code: String) throws -> String { try interp().evalREPL(code).repr }

    // MARK: range

    func testRangeLengthsDoNotOverflow() throws {
        XCTAssertEqual(try eval("range(-5000000000000000000, 5000000000000000000, 1000000000000000000)"),
                       "[-5000000000000000000, -4000000000000000000, -3000000000000000000, -2000000000000000000, -1000000000000000000, 0, 1000000000000000000, 2000000000000000000, 3000000000000000000, 4000000000000000000]")
        XCTAssertEqual(try eval("range(9223372036854775800, 9223372036854775807, 3)"),
                       "[9223372036854775800, 9223372036854775803, 9223372036854775806]", "the step past the last item wraps unused")
        XCTAssertEqual(try eval("range(-9223372036854775807 - 1, -9223372036854775807 - 1 + 5, 2)"),
                       "[-9223372036854775808, -9223372036854775806, -9223372036854775804]")
        XCTAssertEqual(try eval("range(5, 0, -9223372036854775807 - 1)"), "[5]")
        XCTAssertEqual(error("range(-9223372036854775807 - 1, step: -1)"),
                       "bad argument 'stop' to 'range': range of 9223372036854775808 items exceeds the list limit of \(Limits.maxListItems) items")
        XCTAssertEqual(error("range(-9223372036854775807 - 1, 9223372036854775807)"),
                       "bad argument 'stop' to 'range': range of 18446744073709551615 items exceeds the list limit of \(Limits.maxListItems) items")
        XCTAssertEqual(error("range(9223372036854775807, -9223372036854775807 - 1, -1)"),
                       "bad argument 'stop' to 'range': range of 18446744073709551615 items exceeds the list limit of \(Limits.maxListItems) items")
    }

    // MARK: string and list sizes

    func testPadChecksTheSizeBeforeAllocating() throws {
        XCTAssertEqual(try eval("pad(\"a\", -9223372036854775807 - 1)"), "\"a\"")
        XCTAssertEqual(try eval("pad(\"ab\", 4, right: true)"), "\"ab  \"")
        XCTAssertEqual(error("pad(\"a\", 9223372036854775807)"),
                       "pad: result of 9223372036854775807 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(error("pad(\"a\", 4294967297)"),
                       "pad: result of 4294967297 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
    }

    func testStringGrowingOperatorsAndBuiltinsAreBounded() throws {
        XCTAssertEqual(error("\"ab\" * 4611686018427387904"),
                       "string repetition: result of more than 9223372036854775807 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(error("\"ab\" * 200000000"),
                       "string repetition: result of 400000000 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        // 2^27 + 2^27 + 1 bytes: each operand is within the limit, the result is not.
        let half = "let h = \"x\" * 134217728\n"
        XCTAssertEqual(error(half + "h + h + \"y\""),
                       "string concatenation: result of 268435457 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(error(half + "\"{h}{h}y\""),
                       "string interpolation: result of 268435457 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(error(half + "join([h, h], \"y\")"),
                       "join: result of 268435457 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(error("replace(\"x\" * 1000000, \"x\", \"y\" * 1000)"),
                       "replace: result of 1000000000 bytes exceeds the string limit of 268435456 bytes (256 MiB)")
        XCTAssertEqual(try eval("replace(\"a-b\", \"-\", \"+++\")"), "\"a+++b\"")
        XCTAssertEqual(error("[1, 2] * 4611686018427387904"),
                       "list repetition: result of more than 9223372036854775807 items exceeds the list limit of 67108864 items")
        XCTAssertEqual(error("[] * 1000000000000000000"),
                       "list repetition: result of 1000000000000000000 items exceeds the list limit of 67108864 items")
        XCTAssertEqual(try eval("len([1, 2] * 3)"), "6")
    }

    func testSplitCountsPiecesAgainstTheListLimit() throws {
        XCTAssertEqual(try eval("split(\"a,b,,c\", \",\")"), "[\"a\", \"b\", \"\", \"c\"]")
        XCTAssertEqual(try eval("split(\" a  b \")"), "[\"a\", \"b\"]")
        XCTAssertEqual(error("split(\"a,\" * 70000000, \",\")"),
                       "split: result of 70000001 items exceeds the list limit of 67108864 items")
    }

    func testPrintingIsBoundedBySize() throws {
        let i = interp()
        let v = try i.evalREPL("[\"x\" * 150000000, \"y\" * 150000000]")
        let text = v.repr
        XCTAssertLessThan(text.utf8.count, 2 * Limits.maxStringBytes)
        XCTAssertTrue(text.hasSuffix("...]"), String(text.suffix(20)))
    }

    // MARK: round and format

    func testRoundWithExtremeDigits() throws {
        XCTAssertEqual(try eval("round(1.5, digits: 400)"), "1.5")
        XCTAssertEqual(try eval("round(123.0, digits: -400)"), "0.0")
        XCTAssertEqual(try eval("round(1.5, digits: 9223372036854775807)"), "1.5")
        XCTAssertEqual(try eval("round(-123.0, digits: -9223372036854775807 - 1)"), "-0.0")
        XCTAssertEqual(try eval("round(1e300, digits: 20)"), "1e+300")
        XCTAssertEqual(try eval("round(3.14159, digits: 2)"), "3.14")
        XCTAssertEqual(try eval("round(1250.0, digits: -2)"), "1300.0")
        XCTAssertEqual(try eval("round(float(\"nan\"), digits: 3) |> is_nan"), "true")
    }

    func testFormatWidthIsHonouredOrRefused() throws {
        XCTAssertEqual(try eval("len(format(1.5, \"5000.2f\"))"), "5000")
        XCTAssertEqual(try eval("format(1.5, \"<6.2f\")"), "\"1.50  \"")
        XCTAssertEqual(error("format(1.5, \"1000000000.2f\")"),
                       "bad format spec '1000000000.2f': width 1000000000 exceeds the limit of 10000")
        XCTAssertEqual(error("format(1.5, \"99999999999999999999999.2f\")"),
                       "bad format spec '99999999999999999999999.2f': width 99999999999999999999999 exceeds the limit of 10000")
    }

    // MARK: deep values

    /// Deep enough to overflow the default 8 MiB test-thread stack when freed or compared
    /// recursively (the reproducer's 3,000,000 levels overflow the 512 MiB script thread).
    let depth = 300_000

    func testFreeingDeepRecordsDoesNotRecurse() throws {
        let i = interp()
        _ = try i.evalREPL("var x = {}\nfor i in range(\(depth)) { x = {a: x, n: i} }")
        XCTAssertEqual(try i.evalREPL("x.a.a.n").repr, "\(depth - 3)")
        _ = try i.evalREPL("x = {}")
        // Records and lists mixed: the list levels are taken apart by the records above them.
        _ = try i.evalREPL("for i in range(\(depth)) { x = {a: [x, i]} }")
        _ = try i.evalREPL("x = {}")
        XCTAssertEqual(try i.evalREPL("x").repr, "{}")
    }

    func testSharedPartsOfFreedRecordsSurvive() throws {
        let i = interp()
        _ = try i.evalREPL("var keep = {v: [1, {w: 2}]}\nvar x = {a: keep, b: [keep, keep]}\nfor i in range(1000) { x = {a: x, k: keep} }")
        _ = try i.evalREPL("x = nil")
        XCTAssertEqual(try i.evalREPL("keep").repr, "{v: [1, {w: 2}]}")
    }

    func testEqualityAndOrderOfDeepValuesDoNotRecurse() throws {
        let i = interp()
        _ = try i.evalREPL("""
            var a = {}
            var b = {}
            var p = []
            var q = []
            for i in range(\(depth)) { a = {a: a}; b = {a: b}; p = [p, 1]; q = [q, 1] }
            """)
        XCTAssertEqual(try i.evalREPL("a == b").repr, "true")
        XCTAssertEqual(try i.evalREPL("p == q").repr, "true")
        XCTAssertEqual(try i.evalREPL("p < q").repr, "false")
        XCTAssertEqual(try i.evalREPL("p <= q").repr, "true")
        XCTAssertEqual(try i.evalREPL("str(a) |> len").repr, "\(65 * 4 + 3 + 65)", "printing stops at 64 levels")
        _ = try i.evalREPL("q = [q, 2]")
        XCTAssertEqual(try i.evalREPL("[p, 1] < q").repr, "true")
        XCTAssertEqual(try i.evalREPL("[p, 1] == q").repr, "false")
        _ = try i.evalREPL("a = {}; b = {}; p = []; q = []")
    }

    func testEqualityOfOrdinaryValues() throws {
        XCTAssertEqual(try eval("[1, [2, {a: 3.0}]] == [1.0, [2, {a: 3}]]"), "true")
        XCTAssertEqual(try eval("{a: 1, b: 2} == {b: 2, a: 1}"), "true")
        XCTAssertEqual(try eval("{a: 1} == {a: 1, b: 2}"), "false")
        XCTAssertEqual(try eval("[[1, 2], 3] < [[1, 3]]"), "true")
        XCTAssertEqual(try eval("[[1, 2]] < [[1, 2], 0]"), "true")
        XCTAssertEqual(try eval("[[1, 2], 3] == [[1, 2], 3]"), "true")
    }

    // MARK: error cap

    /// The syntax and resolve errors of `text` (the first one and those attached to it).
    func syntaxErrors(_ text: String) -> [MLWError] {
        do {
            _ = try interp().runMain(SourceFile(name: "t.mlw", text: text))
            XCTFail("expected errors")
            return []
        } catch let e as MLWError {
            return [e] + e.more
        } catch {
            XCTFail("\(error)")
            return []
        }
    }

    func testEveryKindOfErrorIsCappedAtTwenty() {
        let keys = Array(repeating: "a: 1", count: 10_000).joined(separator: ", ")
        let dup = syntaxErrors("let r = {\(keys)}")
        XCTAssertEqual(dup.count, Parser.maxErrors)
        XCTAssertEqual(dup[0].message, "duplicate field 'a' in record")
        // Each error shows a window of its long line, not the whole 60 KB line.
        var whole = dup[0]
        whole.more = Array(dup.dropFirst())
        XCTAssertLessThan(whole.render().utf8.count, 20 * 700)
        XCTAssertTrue(whole.render().contains("^"))

        let unknown = syntaxErrors((0..<500).map { "print(nope\($0))" }.joined(separator: "\n"))
        XCTAssertEqual(unknown.count, Parser.maxErrors)
        XCTAssertTrue(unknown[0].message.hasPrefix("unknown name 'nope0'"), unknown[0].message)

        let badChars = syntaxErrors(String(repeating: "$ ", count: 5000))
        XCTAssertLessThanOrEqual(badChars.count, Parser.maxErrors)
        XCTAssertFalse(badChars.isEmpty)

        let badKeys = syntaxErrors("let r = {" + (0..<500).map { "\"k{\($0)}\": 1" }.joined(separator: ", ") + "}")
        XCTAssertEqual(badKeys.count, Parser.maxErrors)
    }

    func testLongLineWindowKeepsTheCaretUnderTheError() {
        let text = "let r = {" + (0..<2000).map { "b\($0): 1, " }.joined() + "c: nope}"
        let errors = syntaxErrors(text)
        XCTAssertEqual(errors.count, 1)
        let lines = errors[0].render().split(separator: "\n")
        XCTAssertEqual(errors[0].message, "unknown name 'nope'")
        let src = Array(lines[1].utf8), caret = Array(lines[2].utf8)
        let at = caret.firstIndex(of: UInt8(ascii: "^"))!
        XCTAssertEqual(String(decoding: src[at..<(at + 4)], as: UTF8.self), "nope")
        XCTAssertLessThan(src.count, 260)
    }

    // MARK: count arguments

    func testCountAccessorBoundsArguments() throws {
        let lib = Library("counts", doc: "test", [
            NativeFunction("repeat_n", [Param("n", .int)], doc: "n", example: "repeat_n(1)") { a in .int(try a.count("n", min: 1, max: 10)) },
            NativeFunction("frac", [Param("f", .number)], doc: "f", example: "frac(0.5)") { a in .float(try a.finite("f")) },
        ])
        let i = Interpreter(libraries: coreLibraries + [lib])
        XCTAssertEqual(try i.evalREPL("repeat_n(10)").repr, "10")
        XCTAssertThrowsError(try i.evalREPL("repeat_n(9223372036854775807)")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "bad argument 'n' to 'repeat_n': 9223372036854775807 is more than the limit of 10")
        }
        XCTAssertThrowsError(try i.evalREPL("repeat_n(0)")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "bad argument 'n' to 'repeat_n': must be at least 1, got 0")
        }
        XCTAssertThrowsError(try i.evalREPL("frac(float(\"inf\"))")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "bad argument 'f' to 'frac': must be a finite number, got inf")
        }
    }

    // MARK: found by BindingFuzzTests

    func testEnumerateStartNearIntMax() throws {
        XCTAssertEqual(try eval("enumerate([1], start: 9223372036854775807)"), "[[9223372036854775807, 1]]")
        XCTAssertEqual(error("enumerate([1, 2], start: 9223372036854775807)"),
                       "bad argument 'start' to 'enumerate': 9223372036854775807 + 1 does not fit in an integer")
    }

    func testWriteTextToAOneCharacterRelativePath() throws {
        // Foundation's deletingLastPathComponent traps on "a"; SafeWrite splits paths itself.
        let fm = FileManager.default
        let dir = NSTemporaryDirectory() + "mlw-lang-onechar-\(getpid())"
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let old = fm.currentDirectoryPath
        XCTAssertTrue(fm.changeCurrentDirectoryPath(dir))
        defer { _ = fm.changeCurrentDirectoryPath(old); try? fm.removeItem(atPath: dir) }
        XCTAssertEqual(try eval("write_text(\"a\", \"x\"); read_text(\"a\")"), "\"x\"")
        try fm.createDirectory(atPath: dir + "/d", withIntermediateDirectories: true)
        XCTAssertEqual(try eval("write_text(\"d/b\", \"y\"); read_text(\"\(dir)/d/b\")"), "\"y\"")
    }
}
