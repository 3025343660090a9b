import Foundation
import Lang
import Workbench
import XCTest

/// The REPL takes what scripts take: lines starting with `|>` continue the input before
/// them (held while pasted input is waiting, re-run when typed later), `_` and `name?`,
/// "did you mean", and `:env` lines cut at a boundary.
final class ReplInputTests: XCTestCase {
    func session() throws -> ReplSession { ReplSession(interpreter: try Workbench.makeInterpreter()) }

    /// Feeds `lines` as pasted text (more input waiting after each but the last), or typed
    /// one at a time; returns everything shown.
    static func feed(_ s: ReplSession, _ lines: [String], pasted: Bool) -> (out: String, err: String) {
        var out = "", err = ""
        for (i, l) in lines.enumerated() {
            let r = s.feed(l, more: pasted && i < lines.count - 1)
            out += r.out
            err += r.err
        }
        let r = s.finish()
        return (out + r.out, err + r.err)
    }

    func testPastedPipeLinesContinueTheHeldInput() throws {
        let s = try session()
        let lines = ["let result = range(10)", "  |> filter(|x| x % 2 == 0)", "  |> map(|x| x * x)", "  |> sum", "result"]
        let r = Self.feed(s, lines, pasted: true)
        XCTAssertEqual(r.err, "")
        XCTAssertEqual(r.out, "120\n")
        // A blank or comment line may stand between, as in a script.
        let t = Self.feed(s, ["let n = [1, 2]", "", "# doubled", "  |> map(|x| x * 2)", "n"], pasted: true)
        XCTAssertEqual(t.err, "")
        XCTAssertEqual(t.out, "[2, 4]\n")
    }

    func testTypedPipeLineReRunsThePreviousInput() throws {
        let s = try session()
        XCTAssertEqual(s.feed("let result = range(4)").out, "")
        XCTAssertEqual(s.feed("  |> map(|x| x * 10)").err, "")
        // A failing continuation leaves the session as it was and can be retyped.
        XCTAssertTrue(s.feed("  |> bogus").err.contains("unknown name 'bogus'"))
        XCTAssertEqual(s.feed("result").out, "[0, 10, 20, 30]\n", "the name holds the whole pipeline, not the first line's value")
        // `result` as an input ran last: a `|>` line now continues that expression.
        XCTAssertEqual(s.feed("|> sum").out, "60\n")
        XCTAssertEqual(s.feed("result").out, "[0, 10, 20, 30]\n", "an expression input binds nothing")
        _ = s.feed("let total = result")
        XCTAssertEqual(s.feed("  |> sum").err, "", "continues the binding")
        XCTAssertEqual(s.feed("  |> str").err, "", "and again: the last input is now the whole pipeline")
        XCTAssertEqual(s.feed("total").out, "\"60\"\n")
    }

    func testTypedPipeLineDoesNotSeeTheFirstRunsNames() throws {
        let s = try session()
        XCTAssertEqual(s.feed("var n = 1").out, "")
        XCTAssertEqual(s.feed("n = n + 1").out, "")
        // Re-running `n = n + 1 |> str` starts from n = 1 again, not from the first run's 2.
        XCTAssertEqual(s.feed("  |> str").err, "")
        XCTAssertEqual(s.feed("n").out, "\"2\"\n")
        // `_` inside the re-run input is the value it had before that input ran.
        XCTAssertEqual(s.feed("40").out, "40\n")
        XCTAssertEqual(s.feed("_ + 1").out, "41\n")
        XCTAssertEqual(s.feed("|> str").out, "\"41\"\n")
    }

    func testPipeLineWithNothingBeforeItIsAnError() throws {
        let s = try session()
        XCTAssertTrue(s.feed("|> sum").err.contains("expected an expression, found '|>'"))
        XCTAssertTrue(s.feed("1 / 0").err.contains("division by zero"))
        XCTAssertTrue(s.feed("|> str").err.contains("found '|>'"), "a failed input is not continued")
    }

    /// Every documented example runs in the REPL when pasted, printing what the docs expect;
    /// those with a line starting with `|>` also when typed a line at a time.
    func testDocumentedExamplesRunInTheREPL() throws {
        let root = DocsTests.root
        let home = NSTemporaryDirectory() + "mlw-repl-docs-\(getpid())"
        setenv("MLW_HOME", home, 1)
        let saved = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.path + "/Docs").filter { $0.hasSuffix(".md") }
            .map { "Docs/" + $0 } + ["README.md"]
        var count = 0, pipelines = 0
        for doc in docs.sorted() {
            let text = try String(contentsOfFile: root.path + "/" + doc, encoding: .utf8)
            for (line, code) in DocsTests.blocks(in: text) {
                let lines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                guard !code.contains("# expect runtime error") else { continue }
                let piped = lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("|>") }
                count += 1
                if piped { pipelines += 1 }
                let expected = lines.compactMap { l -> String? in
                    guard let r = l.range(of: "# expect: ") else { return nil }
                    return String(l[r.upperBound...])
                }
                for pasted in piped ? [true, false] : [true] {
                    let r = Self.feed(try session(), lines, pasted: pasted)
                    let how = pasted ? "pasted" : "typed"
                    XCTAssertEqual(r.err, "", "\(doc) block at line \(line), \(how)")
                    var shown = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
                    for e in expected {
                        guard let i = shown.firstIndex(of: e) else {
                            XCTFail("\(doc) block at line \(line), \(how): missing '\(e)' in:\n\(r.out)")
                            break
                        }
                        shown = shown[(i + 1)...]
                    }
                }
            }
        }
        XCTAssertGreaterThan(count, 10)
        XCTAssertGreaterThanOrEqual(pipelines, 3, "language.md, frames.md and training.md have pipelines")
    }

    func testUnderscoreHoldsTheLastValueShown() throws {
        let s = try session()
        XCTAssertTrue(s.feed("_").err.contains("unknown name '_'"), "nothing shown yet")
        XCTAssertEqual(s.feed("6 * 7").out, "42\n")
        XCTAssertEqual(s.feed("print(1)").out, "1\n", "print output is not a value")
        XCTAssertEqual(s.feed("_ + 1").out, "43\n")
        XCTAssertEqual(s.feed("let x = 5").out, "")
        XCTAssertEqual(s.feed("_").out, "43\n", "a binding shows nothing")
        XCTAssertEqual(s.feed(":env").out, "x = 5\n", ":env lists the session's own names")
    }

    func testQuestionMarkShowsHelp() throws {
        let s = try session()
        let viaHelp = try s.interpreter.helpText(.string("sqrt")) + "\n"
        XCTAssertEqual(s.feed("sqrt?").out, viaHelp)
        XCTAssertEqual(s.feed("  sqrt?  ").out, viaHelp)
        XCTAssertEqual(s.feed(":help sqrt").out, viaHelp)
        XCTAssertTrue(s.feed("math?").out.hasPrefix("math: "), "libraries too")
        _ = s.feed("let cfg = {lr: 0.1, epochs: 3}")
        XCTAssertEqual(s.feed("cfg?").out, "cfg: record\n  fields: lr, epochs\n  {lr: 0.1, epochs: 3}\n")
        _ = s.feed("fn double(x) = x * 2")
        XCTAssertEqual(s.feed("double?").out, "double(x)  (defined in this session)\n")
        XCTAssertEqual(s.feed("sqr?").err, "error: no function, library or name 'sqr'; did you mean 'sqrt'?\n")
        XCTAssertTrue(s.feed("1 ?").err.contains("error"), "only a name before ? asks for help")
    }

    func testDidYouMeanForNamesAndFields() throws {
        let s = try session()
        _ = s.feed("let epochs = 3")
        XCTAssertTrue(s.feed("epohcs").err.contains("unknown name 'epohcs' (did you mean 'epochs'?)"))
        XCTAssertTrue(s.feed("prnt(1)").err.contains("unknown name 'prnt' (did you mean 'print'?)"), "builtins too")
        _ = s.feed("let cfg = {lr: 0.1}")
        XCTAssertEqual(s.feed("cfg.lrr").err, "<repl>:1:5: error: no field 'lrr' on record; did you mean 'lr'?\n  cfg.lrr\n      ^~~\n")
        _ = s.feed("let t = tensor([1.0, 2.0])")
        XCTAssertTrue(s.feed("t.shpe").err.contains("no field 'shpe' on tensor; did you mean 'shape'?"))
        XCTAssertTrue(s.feed("t.nothing_like_it").err.contains("no field 'nothing_like_it' on tensor (has: shape, dtype"))
    }

    /// Suggestions and completion come from each native type's field list: every name on
    /// it must be a field that reads.
    func testEveryListedFieldReads() throws {
        let s = try session()
        let setup = [
            "let ds = read_csv(\"\(DocsTests.root.path)/Scripts/data/iris.csv\", label: \"species\")",
            "let prep = fit_transforms(ds, [standardize()])",
            "let m = sequential([dense(4, 3)], seed: 1)",
            "let run = train(m, prep(ds), loss: \"cross_entropy\", epochs: 1, batch: 50, log_every: 0)",
            "let ev = evaluate(run.model, prep(ds))",
            "let t = tensor([[1.0, 2.0]])",
        ]
        for line in setup { XCTAssertEqual(s.feed(line).err, "", line) }
        for name in ["ds", "prep", "m", "run", "ev", "t"] {
            let fields = s.completions(for: name + ".")
            XCTAssertFalse(fields.isEmpty, name)
            for f in fields { XCTAssertEqual(s.feed(f).err, "", f) }
        }
    }

    func testEnvShowsWholeValuesCutAtABoundary() throws {
        let s = try session()
        s.width = 40
        _ = s.feed("let short = [1, 2, 3]")
        _ = s.feed("let xs = range(100)")
        _ = s.feed("let words = \"the quick brown fox jumps over the lazy dog\"")
        _ = s.feed("let m = tensor([[1.0, 2.0], [3.0, 4.0]])")
        _ = s.feed("let ds = read_csv(\"\(DocsTests.root.path)/Scripts/data/iris.csv\", label: \"species\")")
        let rows = s.feed(":env").out.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 5, "one line per name")
        XCTAssertEqual(rows[0], "short = [1, 2, 3]")
        XCTAssertEqual(rows[1], "xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...")
        XCTAssertEqual(rows[2], "words = \"the quick brown fox jumps ...")
        XCTAssertFalse(rows[3].contains("\n"))
        XCTAssertEqual(rows[3], "m = tensor([[1., 2.], [3., 4.]], ...", "a tensor's rows joined")
        XCTAssertEqual(rows[4], "ds = Dataset 150 rows x 5 columns ...", "a dataset's summary, not its table")
        for r in rows { XCTAssertLessThanOrEqual(r.count, 40, r) }
        XCTAssertEqual(ReplSession.elide("abcdefghijklmnopqrstuvwxyz", width: 12), "abcdefgh ...", "no boundary: cut at the width")
    }

    func testLineReaderSeesWaitingInput() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let reader = LineReader(fd: fds[0], maxLine: 64)
        let text = "a\r\nb\n" + String(repeating: "x", count: 200) + "\nc"
        _ = text.withCString { write(fds[1], $0, strlen($0)) }
        XCTAssertEqual(reader.next(), .text("a"))
        XCTAssertTrue(reader.hasMore)
        XCTAssertEqual(reader.next(), .text("b"))
        XCTAssertEqual(reader.next(), .tooLong(3))
        XCTAssertTrue(reader.hasMore, "the last line's first bytes are waiting")
        close(fds[1])
        XCTAssertEqual(reader.next(), .text("c"), "a last line without a line break")
        XCTAssertEqual(reader.next(), nil)
    }

    // MARK: the binary, through a pipe and a terminal

    func testPipedREPLContinuesPipelinesAndReportsOpenInput() throws {
        let input = "let result = range(10)\n  |> filter(|x| x % 2 == 0)\n  |> sum\nresult\n_ * 2\nprint(\"once\")\n  |> str\nsqrt?\nresult.foo\n"
        let (out, err, status) = try ReplTests.mlw([], input: input)
        XCTAssertTrue(out.hasPrefix("20\n40\nonce\n\"nil\"\nsqrt(x)\n"), "piped lines are held, not re-run: \(out)")
        XCTAssertTrue(err.contains("<repl>:1:8: error: no field 'foo' on integer"), err)
        XCTAssertEqual(status, 1)
        let open = try ReplTests.mlw([], input: "let xs = [1,\n")
        XCTAssertTrue(open.1.contains("error:"), "an input left open at the end is reported: \(open.1)")
        XCTAssertEqual(open.2, 1)
    }

    /// A terminal with bracketed paste (readline hands the whole paste over as one line
    /// when Enter is pressed): the pasted pipeline runs as in a script.
    func testTerminalBracketedPaste() throws {
        let paste = "\u{1b}[200~let a = [1]\n  |> map(|x| x + 1)\na\n\u{1b}[201~"
        let out = try ReplTests.onTerminal([paste, "\n", "_ + [5]\n", ":quit\n"], term: "xterm", home: "mlw-pty4")
        XCTAssertTrue(out.contains("[2]\r\n"), "the pasted pipeline ran: \(out)")
        XCTAssertTrue(out.contains("[2, 5]"), "_ is its value: \(out)")
        XCTAssertFalse(out.contains("error"), out)
    }

    /// On a terminal, lines typed one at a time: the `|>` line re-runs the input before it.
    func testTerminalContinuesPipelines() throws {
        // Typed (a pause after each line), then pasted (one write).
        let out = try ReplTests.onTerminal(["let total = range(5)\n", "  |> map(|x| x + 1)\n", "  |> sum\n", "total * 100\n",
                      "let pasted = [1, 2]\n  |> map(|x| x * 3)\npasted\n", "_?\n",
                      "print(\"pasted \" + \"once\")\n  |> str\n", ":quit\n"], term: "dumb", home: "mlw-pty3")
        XCTAssertTrue(out.contains("1500"), "the typed pipeline bound the whole value: \(out)")
        XCTAssertTrue(out.contains("[3, 6]"), "the pasted pipeline ran: \(out)")
        XCTAssertTrue(out.contains("_: list"), "_ holds the last value shown: \(out)")
        XCTAssertEqual(out.components(separatedBy: "pasted once").count, 2, "pasted lines are held, not re-run: \(out)")
        XCTAssertFalse(out.contains("error"), out)
    }
}
