import Foundation
import Lang
import Workbench
import XCTest

/// The REPL's logic in-process, and the real `mlw` binary through a pipe and once through
/// a pseudo-terminal (`script`) for completion and history.
final class ReplTests: XCTestCase {
    override func setUp() {
        // A child that exits early must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
    }

    func testMultiLineInputAndAutoPrint() throws {
        let s = ReplSession(interpreter: try Workbench.makeInterpreter())
        XCTAssertEqual(s.feed("fn add(a, b) {").out, "")
        XCTAssertTrue(s.isContinuing)
        XCTAssertEqual(s.feed("  a + b").out, "")
        XCTAssertEqual(s.feed("}").out, "")
        XCTAssertFalse(s.isContinuing)
        XCTAssertEqual(s.feed("add(40, 2)").out, "42\n")
        XCTAssertEqual(s.feed("[1, 2] |>").out, "", "a trailing pipe continues")
        XCTAssertEqual(s.feed("  map(|x| x * 2)").out, "[2, 4]\n")
        XCTAssertEqual(s.feed("print(\"hi\")").out, "hi\n", "print output, and nil is not echoed")
        XCTAssertEqual(s.feed("\"text\"").out, "\"text\"\n")
    }

    func testErrorsNeverEndTheSession() throws {
        let s = ReplSession(interpreter: try Workbench.makeInterpreter())
        let r = s.feed("1 / 0")
        XCTAssertEqual(r.err, "<repl>:1:3: error: division by zero\n  1 / 0\n    ^\n")
        XCTAssertTrue(s.feed("let x = ").err.isEmpty, "incomplete input waits for more")
        XCTAssertEqual(s.feed("5").out, "")
        XCTAssertEqual(s.feed("x").out, "5\n")
        XCTAssertTrue(s.feed("y +* 2").err.contains("error: expected an expression"))
        XCTAssertEqual(s.feed("x + 1").out, "6\n")
    }

    func testCommands() throws {
        let s = ReplSession(interpreter: try Workbench.makeInterpreter())
        XCTAssertTrue(s.feed(":help").out.contains("Commands: :help"))
        XCTAssertTrue(s.feed(":help sqrt").out.hasPrefix("sqrt(x)"))
        XCTAssertTrue(s.feed(":time 1 + 1").out.hasPrefix("2\ntime: "))
        _ = s.feed("let lr = 0.1")
        XCTAssertEqual(s.feed(":env").out, "lr = 0.1\n")
        let path = NSTemporaryDirectory() + "mlw-repl-load-\(getpid()).mlw"
        try "let loaded = 7\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = s.feed(":load \(path)")
        XCTAssertEqual(s.feed("loaded * 6").out, "42\n")
        XCTAssertTrue(s.feed(":bogus").err.contains("unknown command"))
        _ = s.feed(":quit")
        XCTAssertTrue(s.quitRequested)
    }

    // MARK: the binary

    static var binary: URL {
        // The test bundle sits in the build products folder next to the `mlw` executable.
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("mlw")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/mlw")
    }

    /// Runs `mlw` with stdin from `input`; returns (stdout, stderr, status).
    static func mlw(_ args: [String], input: String = "", env: [String: String] = [:], in dir: String? = nil) throws -> (String, String, Int32) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        try? inPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self), p.terminationStatus)
    }

    func testPipedREPLHasNoPromptsOrEscapes() throws {
        let (out, err, status) = try Self.mlw([], input: "let x = 2\nfn sq(v) {\n  v * v\n}\nsq(x + 1)\n\"done\"\n")
        XCTAssertEqual(out, "9\n\"done\"\n")
        XCTAssertEqual(err, "")
        XCTAssertEqual(status, 0)
        let (_, err2, status2) = try Self.mlw(["repl"], input: "nope\n1\n")
        XCTAssertTrue(err2.contains("unknown name 'nope'"))
        XCTAssertEqual(status2, 1, "a failed input makes the piped REPL exit 1")
    }

    func testRunCheckAndExitCodes() throws {
        let dir = NSTemporaryDirectory() + "mlw-cli-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let good = dir + "/good.mlw", bad = dir + "/bad.mlw", boom = dir + "/boom.mlw"
        try "param epochs = 10\nprint(\"epochs {epochs}\", args())\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "let = 1\nprint(\n".write(toFile: bad, atomically: true, encoding: .utf8)
        try "fn f(x) = x / 0\nf(1)\n".write(toFile: boom, atomically: true, encoding: .utf8)
        let run = try Self.mlw(["run", good, "--set", "epochs=3", "--", "a", "b"])
        XCTAssertEqual(run.0, "epochs 3 [\"a\", \"b\"]\n")
        XCTAssertEqual(run.2, 0)
        XCTAssertEqual(try Self.mlw(["run", good, "--set", "epochs=x"]).2, 2)
        XCTAssertEqual(try Self.mlw(["run", good, "--set", "nope=1"]).2, 2)
        XCTAssertEqual(try Self.mlw(["run", dir + "/missing.mlw"]).2, 2)
        let syntax = try Self.mlw(["run", bad])
        XCTAssertEqual(syntax.2, 65)
        XCTAssertTrue(syntax.1.contains("bad.mlw:1:5: error: expected a name, found '='"), syntax.1)
        let runtime = try Self.mlw(["run", boom])
        XCTAssertEqual(runtime.2, 1)
        XCTAssertTrue(runtime.1.contains("boom.mlw:1:13: error: division by zero"), runtime.1)
        XCTAssertTrue(runtime.1.contains("traceback (most recent call last):"), runtime.1)
        XCTAssertEqual(try Self.mlw(["check", good]).2, 0)
        XCTAssertEqual(try Self.mlw(["check", good, bad]).2, 65)
        XCTAssertEqual(try Self.mlw(["--version"]).0, Workbench.version + "\n")
        XCTAssertEqual(try Self.mlw(["run"]).2, 2, "a usage error exits 2")
        XCTAssertTrue(try Self.mlw(["--help"]).0.contains("USAGE: mlw"))
    }

    /// Through a pseudo-terminal: tab completion, history saved to $MLW_HOME/history.
    func testTerminalCompletionAndHistory() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no script(1)") }
        let home = NSTemporaryDirectory() + "mlw-pty-\(getpid())"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // `sqr` + TAB completes to `sqrt`; the line then runs.
        let input = "let answer = 4\nsqr\t(answer * 4)\n:quit\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", "\(Self.binary.path) repl", "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = home
        env["TERM"] = "dumb"
        p.environment = env
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = outPipe
        try p.run()
        for line in input.split(separator: "\n", omittingEmptySubsequences: false) {
            try? inPipe.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
            Thread.sleep(forTimeInterval: 0.3)
        }
        try? inPipe.fileHandleForWriting.close()
        let out = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertTrue(out.contains("mlw> "), "prompt shown on a terminal: \(out)")
        XCTAssertTrue(out.contains("4.0"), "completed call ran: \(out)")
        let history = try String(contentsOfFile: home + "/history", encoding: .utf8)
        XCTAssertTrue(history.contains("let answer = 4"), history)
        XCTAssertTrue(history.contains("sqrt (answer * 4)"), "completion adds a space after the name: \(history)")
    }

    /// Ctrl-C on a running script stops it with `interrupted` and exit code 1.
    func testInterruptStopsARunningScript() throws {
        let path = NSTemporaryDirectory() + "mlw-loop-\(getpid()).mlw"
        try "var n = 0\nwhile true { n += 1 }\n".write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["run", "--no-record", path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        Thread.sleep(forTimeInterval: 0.5)
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        XCTAssertTrue(text.contains("error: interrupted"), text)
    }

    /// On a terminal, Ctrl-C abandons the line being typed and the session goes on.
    func testCtrlCAbandonsTheTypedLine() throws {
        let out = try ReplTests.onTerminal(["let broken = (1 +", "\u{3}", "40 + 2\n", ":quit\n"], term: "dumb", home: "mlw-pty2")
        XCTAssertTrue(out.contains("42"), "the next input runs after Ctrl-C: \(out)")
        XCTAssertFalse(out.contains("error"), "the abandoned line is not evaluated: \(out)")
    }

    /// Runs `mlw repl` on a pseudo-terminal (script(1)) with TERM=`term`, writes `chunks`
    /// with a pause after each (as typed), and returns everything the terminal showed.
    static func onTerminal(_ chunks: [String], term: String, home: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no script(1)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", "\(binary.path) repl", "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = NSTemporaryDirectory() + "\(home)-\(getpid())"
        env["TERM"] = term
        p.environment = env
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = outPipe
        try p.run()
        for chunk in chunks {
            try? inPipe.fileHandleForWriting.write(contentsOf: Data(chunk.utf8))
            Thread.sleep(forTimeInterval: 0.4)
        }
        try? inPipe.fileHandleForWriting.close()
        let out = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return out
    }
}
