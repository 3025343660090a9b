import Foundation
import Lang
import Registry
import Workbench
import XCTest

/// The registry functions through the interpreter, each test with its own registry folder
/// (`interp.useRegistry(root:)`, so tests can run in parallel without touching MLW_HOME).
final class RegistryLibTests: XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-reglib-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// An interpreter whose registry lives in a fresh folder; printed text goes to `out`.
    func makeInterpreter(root: URL? = nil) throws -> (Interpreter, URL) {
        let interp = try Workbench.makeInterpreter()
        let dir = try root ?? temporaryDirectory().appendingPathComponent(".mlw")
        interp.useRegistry(root: dir)
        interp.output = { _ in }
        return (interp, dir)
    }

    func eval(_ interp: Interpreter, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Value {
        try interp.evalREPL(text)
    }

    /// The runtime error message of `text`, or a failure when it does not fail.
    func errorMessage(_ interp: Interpreter, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let v = try interp.evalREPL(text)
            XCTFail("expected an error from \(text), got \(v.repr)", file: file, line: line)
            return ""
        } catch let e as MLWError {
            XCTAssertEqual(e.kind, .runtime, file: file, line: line)
            return e.message
        } catch {
            XCTFail("non-MLW error \(error)", file: file, line: line)
            return ""
        }
    }

    func writeFile(_ dir: URL, _ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    // MARK: - the table

    func testEveryFunctionHasDocAndARunnableExample() throws {
        XCTAssertTrue(Workbench.libraries.contains { $0.name == "registry" })
        let (interp, _) = try makeInterpreter()
        // In table order against one fresh registry: later examples use what earlier ones made.
        for f in registryLibrary.functions {
            XCTAssertFalse(f.doc.isEmpty, "\(f.name) has no doc")
            XCTAssertFalse(f.example.isEmpty, "\(f.name) has no example")
            XCTAssertFalse(f.example.contains("\n"), "\(f.name): the example should be one line")
            do {
                let v = try interp.evalREPL(f.example)
                if let expected = f.result { XCTAssertEqual(v.repr, expected, "example of \(f.name): \(f.example)") }
            } catch let e as MLWError {
                XCTFail("example of \(f.name) failed: \(e.render())")
            }
        }
        let names = Set(registryLibrary.functions.map(\.name))
        XCTAssertEqual(names, ["register", "resolve", "versions", "models", "set_alias", "rollback", "log_metric", "runs", "compare_runs"])
    }

    // MARK: - models

    func testRegisterResolveVersionsModels() throws {
        let (interp, root) = try makeInterpreter()
        let dir = root.deletingLastPathComponent()
        let a = try writeFile(dir, "a.bin", "first"), b = try writeFile(dir, "b.bin", "second")
        guard case .record(let v1) = try eval(interp, "register(\"\(a)\", name: \"iris\", metrics: {acc: 0.9, loss: 1}, alias: \"staging\")") else {
            return XCTFail("register returns a record")
        }
        XCTAssertEqual(v1["name"]?.repr, "\"iris\"")
        XCTAssertEqual(v1["version"]?.repr, "1")
        XCTAssertEqual(v1["reference"]?.repr, "\"iris:1\"")
        XCTAssertEqual(v1["artifact"]?.repr, "\"\(SHA256.hex(Data("first".utf8)))\"")
        XCTAssertEqual(v1["metrics"]?.repr, "{acc: 0.9, loss: 1.0}")
        XCTAssertEqual(v1["run"]?.repr, "nil", "no run outside mlw run until log_metric starts one")
        guard case .string(let path)? = v1["path"] else { return XCTFail("path is text") }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first")
        XCTAssertTrue(path.hasPrefix(root.path), "artifacts live in the registry")
        guard case .string(let created)? = v1["created"] else { return XCTFail("created is text") }
        XCTAssertNotNil(ISO8601DateFormatter.date(created), created)

        _ = try eval(interp, "register(\"\(b)\", name: \"iris\")")
        XCTAssertEqual(try eval(interp, "resolve(\"iris\").version").repr, "2")
        XCTAssertEqual(try eval(interp, "resolve(\"iris:1\").version").repr, "1")
        XCTAssertEqual(try eval(interp, "resolve(\" iris@staging \").version").repr, "1")
        XCTAssertEqual(try eval(interp, "read_text(resolve(\"iris:2\").path)").repr, "\"second\"")
        XCTAssertEqual(try eval(interp, "map(versions(\"iris\"), |v| v.version)").repr, "[1, 2]")
        XCTAssertEqual(try eval(interp, "let m = models(); [len(m), m[0].name, m[0].latest, m[0].versions, m[0].aliases]").repr,
                       "[1, \"iris\", 2, 2, {staging: 1}]")
    }

    func testAliasMovesAndRollback() throws {
        let (interp, root) = try makeInterpreter()
        let path = try writeFile(root.deletingLastPathComponent(), "m.bin", "m")
        for _ in 0..<3 { _ = try eval(interp, "register(\"\(path)\", name: \"iris\")") }
        XCTAssertEqual(try eval(interp, "set_alias(\"iris\", \"production\", 1)").repr,
                       "{name: \"iris\", alias: \"production\", from: nil, to: 1, reason: \"set\"}")
        XCTAssertEqual(try eval(interp, "set_alias(\"iris\", \"production\", 3).to").repr, "3")
        XCTAssertEqual(try eval(interp, "rollback(\"iris\", \"production\")").repr,
                       "{name: \"iris\", alias: \"production\", from: 3, to: 1, reason: \"rollback\"}")
        XCTAssertEqual(try eval(interp, "resolve(\"iris@production\").version").repr, "1")
        XCTAssertEqual(errorMessage(interp, "rollback(\"iris\", \"production\")"),
                       "cannot roll back 'iris@production': it has no earlier version in its history")
        XCTAssertEqual(errorMessage(interp, "set_alias(\"iris\", \"production\", 9)"), "model 'iris' has no version 9")
        XCTAssertEqual(errorMessage(interp, "rollback(\"iris\", \"nope\")"), "model 'iris' has no alias 'nope'")
    }

    func testErrorsAreCleanRuntimeErrors() throws {
        let (interp, root) = try makeInterpreter()
        let path = try writeFile(root.deletingLastPathComponent(), "m.bin", "m")
        XCTAssertEqual(errorMessage(interp, "resolve(\"nope\")"), "unknown model 'nope'")
        XCTAssertEqual(errorMessage(interp, "resolve(\"iris:x\")"),
                       "invalid model reference 'iris:x': version 'x' is not a positive integer (expected 'name', 'name:VERSION' or 'name@ALIAS')")
        XCTAssertEqual(errorMessage(interp, "register(\"/no/such/file\", name: \"iris\")"),
                       "bad argument 'artifact' to 'register': no file '/no/such/file'")
        XCTAssertEqual(errorMessage(interp, "register(\"\(path)\", name: \"iris\", metrics: {acc: \"high\"})"),
                       "bad argument 'metrics' to 'register': metric 'acc' must be a number, got string")
        XCTAssertTrue(errorMessage(interp, "register(\"\(path)\", name: \"9lives\")").hasPrefix("invalid model name '9lives'"))
        XCTAssertEqual(errorMessage(interp, "register(\"\(path)\")"), "missing argument 'name' to 'register'")
        XCTAssertEqual(errorMessage(interp, "log_metric(\"loss\", \"low\")"),
                       "bad argument 'value' to 'log_metric': expected number, got string")
        XCTAssertEqual(errorMessage(interp, "log_metric(\"loss\", 1, step: -1)"), "bad argument 'step' to 'log_metric': must be >= 0, got -1")
        XCTAssertTrue(errorMessage(interp, "log_metric(\"bad key\", 1)").hasPrefix("invalid metric name 'bad key'"))
        XCTAssertEqual(errorMessage(interp, "runs(status: \"done\")"),
                       "bad argument 'status' to 'runs': must be running, finished, failed or killed, got 'done'")
        XCTAssertEqual(errorMessage(interp, "compare_runs(\"abcd\", {x: 1})"),
                       "bad argument 'b' to 'compare_runs': a run record needs a string field 'id'")
        XCTAssertEqual(errorMessage(interp, "compare_runs(\"abcdef\", \"abcdef\")"), "unknown run 'abcdef'")
    }

    func testRegistryThatCannotOpenIsARuntimeError() throws {
        let dir = try temporaryDirectory()
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("not sqlite at all, just text that is long enough".utf8).write(to: root.appendingPathComponent("registry.sqlite"))
        let (interp, _) = try makeInterpreter(root: root)
        XCTAssertTrue(errorMessage(interp, "models()").hasPrefix("cannot open the registry at '\(root.path)': "))
    }

    // MARK: - runs and metrics

    func testLogMetricOutsideARunStartsAReplRun() throws {
        let (interp, root) = try makeInterpreter()
        XCTAssertEqual(try eval(interp, "log_metric(\"loss\", 0.5)").repr, "nil")
        _ = try eval(interp, "log_metric(\"loss\", 0.25)")
        _ = try eval(interp, "log_metric(\"acc\", 0.75, step: 10)")
        XCTAssertEqual(try eval(interp, "let r = runs(); [len(r), r[0].script, r[0].status]").repr, "[1, \"<repl>\", \"running\"]")
        let registry = try Registry.open(root: root)
        let run = try XCTUnwrap(interp.registrySession.runID)
        XCTAssertEqual(try registry.finalMetrics(run: run), ["loss": 0.25, "acc": 0.75])
        XCTAssertEqual(try registry.metrics(run: run).filter { $0.key == "loss" }.map(\.step), [0, 1])
        // Registrations now link to that run.
        let path = try writeFile(root.deletingLastPathComponent(), "m.bin", "m")
        XCTAssertEqual(try eval(interp, "register(\"\(path)\", name: \"iris\").run").repr, "\"\(run)\"")
        interp.registrySession.finishLazyRun()
        XCTAssertEqual(try registry.run(run).status, .finished)
        XCTAssertEqual(try eval(interp, "len(runs(status: \"finished\"))").repr, "1")
        XCTAssertEqual(try eval(interp, "len(runs(status: \"running\"))").repr, "0")
    }

    func testPlainScriptsNeverOpenTheRegistry() throws {
        let (interp, root) = try makeInterpreter()
        _ = try interp.runMain(SourceFile(name: "plain.mlw", text: "param n = 3\nprint(n * 2)"))
        XCTAssertFalse(interp.registrySession.isOpen)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path))
    }

    func testCompareRuns() throws {
        let (interp, root) = try makeInterpreter()
        let dir = root.deletingLastPathComponent()
        let script = try writeFile(dir, "train.mlw", "param lr = 0.1\nparam seed = 1\nlog_metric(\"loss\", lr * 2)\n")
        let a = try recordedRun(script, overrides: [:], root: root)
        let b = try recordedRun(script, overrides: ["lr": "0.2"], root: root)
        _ = try eval(interp, "let d = compare_runs(\"\(a)\", runs()[0])")
        XCTAssertEqual(try eval(interp, "[d.a, d.b, d.identical]").repr, "[\"\(a)\", \"\(b)\", false]")
        XCTAssertEqual(try eval(interp, "filter(d.params, |p| p.changed)").repr,
                       "[{key: \"lr\", a: \"0.1\", b: \"0.2\", changed: true}]")
        XCTAssertEqual(try eval(interp, "d.metrics[0].key").repr, "\"loss\"")
        XCTAssertEqual(try eval(interp, "round(d.metrics[0].delta * 10)").repr, "2")
        XCTAssertTrue(try eval(interp, "d.text").text.contains("*  lr"))
        XCTAssertEqual(try eval(interp, "compare_runs(\"\(a)\", \"\(a)\").identical").repr, "true")
    }

    // MARK: - run recording

    /// Runs `script` as `mlw run` does, recorded in `root`; returns the run id.
    func recordedRun(_ script: String, overrides: [String: String], args: [String] = [], root: URL,
                     expectFailure: Bool = false) throws -> RunID {
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        interp.output = { _ in }
        interp.paramOverrides = overrides
        interp.scriptArgs = args
        let recorder = try XCTUnwrap(RunRecorder.start(interp, scriptPath: script, warn: { XCTFail($0) }))
        do {
            _ = try interp.runFile(script)
            recorder.finish(nil)
            XCTAssertFalse(expectFailure, "the script should have failed")
        } catch {
            recorder.finish(error)
            XCTAssertTrue(expectFailure, "unexpected failure: \(error)")
        }
        return try XCTUnwrap(recorder.runID)
    }

    func testRunRecorderRecordsParametersMetricsArtifactsAndModels() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let text = """
            param epochs = 2
            param lr = 0.1
            param seed = 7
            param layers = [4, 2]
            for e in range(epochs) { log_metric("loss", 1 / (e + 1)) }
            write_text("\(dir.path)/model.txt", "lr=" + str(lr))
            register("\(dir.path)/model.txt", name: "tiny", metrics: {acc: 0.5})
            """
        let script = try writeFile(dir, "train.mlw", text)
        let id = try recordedRun(script, overrides: ["epochs": "3"], args: ["x"], root: root)
        let registry = try Registry.open(root: root)
        let details = try registry.runDetails(id)
        let run = details.run
        XCTAssertEqual(run.status, .finished)
        XCTAssertEqual(run.script, script)
        XCTAssertEqual(run.scriptSha256, SHA256.hex(Data(text.utf8)))
        XCTAssertEqual(run.params, ["epochs": 3, "lr": 0.1, "seed": 7, "layers": "[4,2]"])
        XCTAssertEqual(run.seed, 7)
        XCTAssertEqual(run.mlwVersion, Workbench.version)
        XCTAssertFalse(run.host.isEmpty)
        XCTAssertEqual(details.metricPointCounts, ["loss": 3])
        XCTAssertEqual(details.modelVersions.map(\.reference), ["tiny:1"])
        XCTAssertEqual(details.modelVersions.first?.runId, id)
        let links = try registry.artifactLinks(run: id)
        XCTAssertEqual(links.first { $0.label == RunRecorder.scriptLabel }?.artifactSha256, run.scriptSha256)
        let invocation = try XCTUnwrap(links.first { $0.label == RunRecorder.invocationLabel })
        let stored = try Data(contentsOf: registry.artifactURL(sha256: invocation.artifactSha256))
        XCTAssertEqual(try RegistryJSON.decoder().decode(Invocation.self, from: stored), Invocation(set: ["epochs": "3"], args: ["x"]))
        XCTAssertEqual(links.filter { $0.label == "model" }.count, 1)
    }

    func testFailedRunRecordsTheRenderedError() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let script = try writeFile(dir, "bad.mlw", "param seed = 3\nlog_metric(\"loss\", 1)\nlet x = 1 + \"a\"\n")
        let id = try recordedRun(script, overrides: [:], root: root, expectFailure: true)
        let run = try Registry.open(root: root).run(id)
        XCTAssertEqual(run.status, .failed)
        XCTAssertEqual(run.seed, 3)
        let error = try XCTUnwrap(run.error)
        XCTAssertTrue(error.hasPrefix("\(script):3:"), error)
        XCTAssertTrue(error.contains("let x = 1 + \"a\""), "the rendered error keeps the source line: \(error)")
    }

    func testNoRecordDropsMetricsButStillRegisters() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let script = try writeFile(dir, "s.mlw", "log_metric(\"loss\", 1)\nwrite_text(\"\(dir.path)/m.txt\", \"m\")\nregister(\"\(dir.path)/m.txt\", name: \"m\")\n")
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        XCTAssertNil(RunRecorder.start(interp, scriptPath: script, enabled: false))
        _ = try interp.runFile(script)
        let registry = try Registry.open(root: root)
        XCTAssertEqual(try registry.runs(), [])
        XCTAssertEqual(try registry.versions("m").map(\.runId), [nil])
    }

    func testBrokenRegistryWarnsAndTheScriptStillRuns() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 200).write(to: root.appendingPathComponent("registry.sqlite"))
        let script = try writeFile(dir, "s.mlw", "print(1)\n")
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        var warnings = ""
        // Nothing is opened before the script runs; the warning comes when the run is written.
        let recorder = try XCTUnwrap(RunRecorder.start(interp, scriptPath: script, warn: { warnings += $0 }))
        XCTAssertFalse(interp.registrySession.isOpen)
        _ = try interp.runFile(script)
        recorder.finish(nil)
        XCTAssertTrue(warnings.hasPrefix("warning: this run is not recorded: "), warnings)
        XCTAssertNil(recorder.runID)
    }

    func testRegisterExampleScript() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/examples/register.mlw").path
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        var out = ""
        interp.output = { out += $0 }
        interp.paramOverrides = ["path": dir.appendingPathComponent("notes.txt").path]
        _ = try interp.runFile(example)
        XCTAssertEqual(out, "registered notes:1 as notes@production\n")
        _ = try interp.runFile(example)
        XCTAssertEqual(try Registry.open(root: root).resolve("notes@production").version, 2)
    }
}

extension ISO8601DateFormatter {
    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
