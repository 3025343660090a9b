import Foundation
import Lang
import Registry
@testable import Serve
import ServeModels
import Train
import Workbench
import XCTest

/// Issue 23 end to end: lying model files behind a served alias, file artifacts, and the
/// `mlw` binary against a locked registry, a FIFO, and a run killed with SIGKILL.
final class ServeRegistryHardeningTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-h2-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let d = dir!
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    }

    /// A small model saved as `name`; returns its path.
    func modelFile(_ name: String, seed: UInt64 = 1) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try save(try sequential([dense(4, 8), relu(), dense(8, 3)], seed: seed), url.path)
        return url
    }

    func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(condition(), "never happened: \(what)")
    }

    /// The reproducer: bytes 16–23 of a registered `.mlwm` set to 0xff, then the served
    /// alias moved to it. The watcher's load fails with an error (no trap); the old version
    /// keeps answering, the failure is counted and shown by readiness. The same for a
    /// version registered as a plain file.
    func testServerSurvivesALyingModelBehindAnAlias() async throws {
        let reg = try Registry.open(root: dir.appendingPathComponent(".mlw"))
        _ = try reg.register(file: try modelFile("good.mlwm"), name: "iris", alias: "staging", kind: .model)
        var bytes = Array(try Data(contentsOf: try modelFile("lying.mlwm", seed: 2)))
        for i in 16..<24 { bytes[i] = 0xff }
        let lying = dir.appendingPathComponent("lying.mlwm")
        try Data(bytes).write(to: lying)
        _ = try reg.register(file: lying, name: "iris")   // the Swift API checks nothing: the server must
        let notes = dir.appendingPathComponent("notes.txt")
        try Data("weights".utf8).write(to: notes)
        _ = try reg.register(file: notes, name: "iris", kind: .file)

        var config = ServeConfig(); config.pollInterval = .milliseconds(20)
        let server = InferenceServer(config: config)
        try server.load(refs: ["iris@staging"], registry: reg, loader: MLWModelLoader())
        let watcher = Task { await server.watch(registry: reg, loader: MLWModelLoader()) }
        defer { watcher.cancel(); server.retireAll() }
        let slot = try XCTUnwrap(server.slot("iris"))

        _ = try reg.setAlias("iris", alias: "staging", version: 2)
        try await waitFor("the load of version 2 failing") { slot.current.error != nil }
        let error = try XCTUnwrap(slot.current.error)
        XCTAssertTrue(error.contains("loading iris:2 for iris@staging failed: model file: truncated or padded"), error)
        XCTAssertTrue(error.hasSuffix("still serving version 1"), error)
        XCTAssertEqual(slot.current.primary.model.version, 1)
        let y = try await slot.pick(requestID: nil).predict([1, 2, 3, 4], rows: 1)
        XCTAssertEqual(y.count, 3)
        // The failure is recorded for readiness a moment before it is counted.
        try await waitFor("the failure counted") {
            String(decoding: server.metrics.text(), as: UTF8.self).contains(#"mlw_model_load_failures_total{model="iris"} 1"#)
        }

        _ = try reg.setAlias("iris", alias: "staging", version: 3)
        try await waitFor("the load of version 3 failing") { slot.current.error?.contains("iris:3") == true }
        XCTAssertTrue(slot.current.error?.contains("'iris:3' is not an MLW model (it is a file artifact)") == true, slot.current.error ?? "")
        XCTAssertEqual(slot.current.primary.model.version, 1)

        // At start-up a file artifact is refused at once.
        XCTAssertThrowsError(try InferenceServer(config: config).load(refs: ["iris:3"], registry: reg, loader: MLWModelLoader())) {
            XCTAssertEqual("\($0)", "'iris:3' is not an MLW model (it is a file artifact)")
        }
    }

    /// `register` from a script: a file that says it is a model must load; any other file
    /// is registered as a plain file.
    func testRegisterChecksModelFilesAndMarksOtherFiles() throws {
        let interp = try Workbench.makeInterpreter()
        let root = dir.appendingPathComponent(".mlw")
        interp.useRegistry(root: root)
        interp.output = { _ in }
        let notes = dir.appendingPathComponent("notes.txt").path
        let model = try modelFile("m.mlwm").path
        var broken = Array(try Data(contentsOf: URL(fileURLWithPath: model)))
        broken[broken.count - 1] ^= 0xff
        let bad = dir.appendingPathComponent("bad.mlwm").path
        try Data(broken).write(to: URL(fileURLWithPath: bad))
        _ = try interp.evalREPL("write_text(\"\(notes)\", \"weights\"); register(\"\(notes)\", name: \"notes\")")
        _ = try interp.evalREPL("register(\"\(model)\", name: \"iris\")")
        _ = try interp.evalREPL("register(sequential([dense(4, 3)]), name: \"iris\")")
        do {
            _ = try interp.evalREPL("register(\"\(bad)\", name: \"iris\")")
            XCTFail("a corrupt model file was registered")
        } catch let e as MLWError {
            XCTAssertTrue(e.message.contains("bad argument 'artifact' to 'register': '\(bad)' is not a loadable model: model file: checksum mismatch"), e.message)
        }
        let reg = try Registry.open(root: root)
        XCTAssertEqual(try reg.resolve("notes:1").kind, .file)
        XCTAssertEqual(try reg.versions("iris").map(\.kind), [.model, .model])
    }

    // MARK: - the mlw binary

    struct Result { var code: Int32; var out: String; var err: String }

    /// Runs `mlw args...` with MLW_HOME=<dir>/home (and `env`); a child still running after
    /// `limit` seconds (a hang: the bug under test) is killed and reported.
    @discardableResult
    func mlw(_ args: [String], env extra: [String: String] = [:], limit: TimeInterval = 120) throws -> Result {
        guard let binary = RegistryCLITests.binary else { throw XCTSkip("the mlw binary was not found next to the test bundle") }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(["MLW_HOME": home.path].merging(extra) { $1 }) { $1 }
        let outURL = dir.appendingPathComponent(".out-\(UUID().uuidString)"), errURL = dir.appendingPathComponent(".err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out; p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(limit)
        while p.isRunning, Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("mlw \(args) hung") }
        p.waitUntilExit()
        try out.close(); try err.close()
        return Result(code: p.terminationStatus, out: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      err: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    var home: URL { dir.appendingPathComponent("home") }

    func script(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        return name
    }

    /// A FIFO where the database should be: every command fails at once with a clear error.
    func testFIFOAtTheDatabaseIsAClearError() throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let db = home.appendingPathComponent("registry.sqlite").path
        XCTAssertEqual(mkfifo(db, 0o644), 0)
        for args in [["registry", "models"], ["registry", "runs"], ["registry", "check"]] {
            let r = try mlw(args, limit: 60)
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.err, "error: '\(db)' is not a registry database (not an SQLite file: it is a FIFO, not a regular file)\n")
        }
    }

    /// Another process (Python's sqlite3) holds the write lock: reads answer, a write
    /// gives up after MLW_REGISTRY_LOCK_WAIT naming the holder's pid.
    func testLockedRegistryReadsAnswerAndWritesGiveUp() throws {
        guard let python = ServeHardeningPython.path else { throw XCTSkip("no Python (set MLW_PYTHON)") }
        XCTAssertEqual(try mlw(["run", try script("reg.mlw", "write_text(\"w.txt\", \"w\"); register(\"w.txt\", name: \"iris\", alias: \"staging\")\n")]).code, 0)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: python)
        let ready = dir.appendingPathComponent("locked").path
        holder.arguments = ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            open(sys.argv[2], "w").close()
            time.sleep(600)
            """, home.appendingPathComponent("registry.sqlite").path, ready]
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        for _ in 0..<3000 where !FileManager.default.fileExists(atPath: ready) { usleep(10_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: ready))

        let models = try mlw(["registry", "models"])
        XCTAssertEqual(models.code, 0, models.err)
        XCTAssertTrue(models.out.contains("iris"), models.out)
        XCTAssertEqual(try mlw(["registry", "versions", "iris"]).code, 0)
        let alias = try mlw(["registry", "alias", "iris", "production", "1"], env: ["MLW_REGISTRY_LOCK_WAIT": "1"])
        XCTAssertEqual(alias.code, 1)
        XCTAssertTrue(alias.err.hasPrefix("error: the registry '\(home.path)/registry.sqlite' is locked by pid \(holder.processIdentifier) ("), alias.err)
        XCTAssertTrue(alias.err.contains("gave up after 1 s"), alias.err)
        // A script that reads the registry runs; only its recording gives up, with a warning.
        let run = try mlw(["run", try script("read.mlw", "print(resolve(\"iris@staging\").version)\n")], env: ["MLW_REGISTRY_LOCK_WAIT": "1"])
        XCTAssertEqual(run.code, 0, run.err)
        XCTAssertEqual(run.out, "1\n")
        XCTAssertTrue(run.err.hasPrefix("warning: this run is not recorded: the registry "), run.err)
        XCTAssertTrue(run.err.contains("is locked by pid \(holder.processIdentifier) ("), run.err)
    }

    /// `mlw run` killed with SIGKILL after its first registry use (which writes the run):
    /// its run is marked killed by the next command, and `check` reports it.
    func testRunKilledWithSIGKILLIsMarkedKilled() throws {
        guard let binary = RegistryCLITests.binary else { throw XCTSkip("the mlw binary was not found next to the test bundle") }
        let p = Process()
        p.executableURL = binary
        p.arguments = ["run", try script("spin.mlw", "log_metric(\"step\", 0)\nwrite_text(\"started\", \"1\")\nvar i = 0\nwhile true { i = i + 1 }\n")]
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(["MLW_HOME": home.path]) { $1 }
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        let started = dir.appendingPathComponent("started").path
        for _ in 0..<6000 where !FileManager.default.fileExists(atPath: started) && p.isRunning { usleep(10_000) }
        XCTAssertTrue(try mlw(["registry", "runs", "--status", "running"]).out.contains("spin.mlw"))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()

        let check = try mlw(["registry", "check"])
        XCTAssertEqual(check.code, 0, check.err)
        XCTAssertTrue(check.out.contains("(spin.mlw, started "), check.out)
        XCTAssertTrue(check.out.contains("its process \(p.processIdentifier) on "), check.out)
        XCTAssertTrue(check.out.contains("is gone; marked killed\nregistry ok: "), check.out)
        let killed = try mlw(["registry", "runs", "--status", "killed"])
        XCTAssertTrue(killed.out.contains("killed    spin.mlw") || killed.out.contains("killed  spin.mlw"), killed.out)
        XCTAssertEqual(try mlw(["registry", "runs", "--status", "running"]).out.contains("spin.mlw"), false)
    }

    /// `check` reports leftovers (exit 1) and `check --repair` removes them.
    func testCheckRepairRemovesLeftovers() throws {
        XCTAssertEqual(try mlw(["run", try script("reg.mlw", "write_text(\"w.txt\", \"w\"); register(\"w.txt\", name: \"iris\")\n")]).code, 0)
        let artifacts = home.appendingPathComponent("artifacts")
        let tmp = artifacts.appendingPathComponent(".tmp-999999999-x").path   // no such pid
        FileManager.default.createFile(atPath: tmp, contents: Data("x".utf8))
        let check = try mlw(["registry", "check"])
        XCTAssertEqual(check.code, 1)
        XCTAssertTrue(check.out.contains("temporary file \(tmp): its writer, process 999999999, is gone"), check.out)
        XCTAssertTrue(check.out.hasSuffix("leftovers found (mlw registry check --repair removes them)\n"), check.out)
        let repair = try mlw(["registry", "check", "--repair"])
        XCTAssertEqual(repair.code, 0, repair.out)
        XCTAssertTrue(repair.out.contains("removed temporary file \(tmp)"), repair.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
        XCTAssertEqual(try mlw(["registry", "check"]).out, "registry ok: \(home.path)\n")
    }

    /// `mlw serve` of a version registered as a plain file stops at once with the reason.
    func testServeRefusesAFileArtifact() throws {
        XCTAssertEqual(try mlw(["run", try script("reg.mlw", "write_text(\"w.txt\", \"w\"); register(\"w.txt\", name: \"iris\")\n")]).code, 0)
        let r = try mlw(["serve", "iris:1", "--port", "0"], limit: 60)
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "error: 'iris:1' is not an MLW model (it is a file artifact)\n")
    }
}

enum ServeHardeningPython {
    static var path: String? {
        let env = ProcessInfo.processInfo.environment["MLW_PYTHON"]
        let local = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        return [env, local, "/usr/bin/python3"].compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
