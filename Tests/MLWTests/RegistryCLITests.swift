import Foundation
import XCTest

/// The `mlw` binary end to end: `mlw run` recording, `mlw registry ...`, `mlw reproduce`.
/// Each test gets its own folder (the child's working directory) and `MLW_HOME`, passed in
/// the child's environment only.
final class RegistryCLITests: XCTestCase {
    /// The `mlw` built next to this test bundle (any scratch path: `.build`, `.build-x`).
    static let binary: URL? = {
        let fm = FileManager.default
        var dirs = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        #if os(Linux)
        dirs.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        #endif
        for b in Bundle.allBundles where b.bundleURL.pathExtension == "xctest" { dirs.append(b.bundleURL.deletingLastPathComponent()) }
        return dirs.map { $0.appendingPathComponent("mlw") }.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    static let exampleScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scripts/examples/register.mlw")

    struct Result {
        var code: Int32
        var out: String
        var err: String
    }

    var dir: URL!

    override func setUpWithError() throws {
        guard Self.binary != nil else { throw XCTSkip("the mlw binary was not found next to the test bundle") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let d = dir!
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        try FileManager.default.copyItem(at: Self.exampleScript, to: dir.appendingPathComponent("register.mlw"))
    }

    /// Runs `mlw args...` in the test folder with MLW_HOME=<folder>/home.
    @discardableResult
    func mlw(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = args
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = dir.appendingPathComponent("home").path
        process.environment = env
        // Files, not pipes: no deadlock however much a child prints.
        let outURL = dir.appendingPathComponent(".out-\(UUID().uuidString)"), errURL = dir.appendingPathComponent(".err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close(); try err.close()
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        return Result(code: process.terminationStatus,
                      out: try String(contentsOf: outURL, encoding: .utf8), err: try String(contentsOf: errURL, encoding: .utf8))
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    func runsJSON() throws -> [[String: Any]] {
        let r = try mlw("registry", "runs", "--json")
        XCTAssertEqual(r.code, 0, r.err)
        return try XCTUnwrap(try json(r.out) as? [[String: Any]])
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
    }

    // MARK: -

    func testRunRecordsParametersAndRunsJSON() throws {
        let r = try mlw("run", "register.mlw", "--set", "seed=5", "--set", "name=digits")
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, "registered digits:1 as digits@production\n")
        let runs = try runsJSON()
        XCTAssertEqual(runs.count, 1)
        let run = runs[0]
        XCTAssertEqual(run["status"] as? String, "finished")
        XCTAssertEqual(run["script"] as? String, "register.mlw")
        XCTAssertEqual(run["seed"] as? Int, 5)
        let params = try XCTUnwrap(run["params"] as? [String: Any])
        XCTAssertEqual(params["seed"] as? Int, 5)
        XCTAssertEqual(params["name"] as? String, "digits")
        XCTAssertEqual(params["path"] as? String, "notes.txt", "defaults are recorded too")
        XCTAssertEqual((run["script_sha256"] as? String)?.count, 64)
        XCTAssertEqual(run["mlw_version"] as? String, "0.1.0")

        let text = try mlw("registry", "runs")
        XCTAssertTrue(text.out.hasPrefix("run "), text.out)
        XCTAssertTrue(text.out.contains("finished  register.mlw"), text.out)
        let id = try XCTUnwrap(run["id"] as? String)
        let show = try mlw("registry", "show", String(id.prefix(6)))
        XCTAssertEqual(show.code, 0, show.err)
        XCTAssertTrue(show.out.contains("script_sha256"), show.out)
        XCTAssertTrue(show.out.contains("digits"), show.out)
        let shown = try XCTUnwrap(try json(try mlw("registry", "show", id, "--json").out) as? [String: Any])
        XCTAssertEqual((shown["final_metrics"] as? [String: Double])?["acc"], 0.9)
        XCTAssertEqual(try mlw("registry", "check").out, "registry ok: \(dir.appendingPathComponent("home").path)\n")
    }

    func testFailedAndUnrecordedRuns() throws {
        try write("bad.mlw", "param seed = 1\nlog_metric(\"loss\", 1)\nerror(\"boom\")\n")
        let bad = try mlw("run", "bad.mlw")
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.contains("error: boom"), bad.err)
        try write("quiet.mlw", "log_metric(\"loss\", 1)\nprint(\"ok\")\n")
        XCTAssertEqual(try mlw("run", "--no-record", "quiet.mlw").out, "ok\n")
        let runs = try runsJSON()
        XCTAssertEqual(runs.count, 1, "--no-record leaves no run")
        XCTAssertEqual(runs[0]["status"] as? String, "failed")
        XCTAssertTrue((runs[0]["error"] as? String)?.contains("boom") ?? false)
        let failed = try mlw("registry", "runs", "--status", "failed", "--limit", "5")
        XCTAssertTrue(failed.out.contains("bad.mlw"), failed.out)
        XCTAssertEqual(try mlw("registry", "runs", "--status", "finished").out, "no runs\n")
    }

    func testAliasRollbackAndErrors() throws {
        XCTAssertEqual(try mlw("registry", "models").out, "no models registered\n", "no registry yet: empty, nothing created")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("home").path))
        XCTAssertEqual(try mlw("run", "register.mlw").code, 0)
        XCTAssertEqual(try mlw("run", "register.mlw", "--set", "seed=1").code, 0)
        let alias = try mlw("registry", "alias", "notes", "production", "1")
        XCTAssertEqual(alias.code, 0, alias.err)
        XCTAssertTrue(alias.out.hasPrefix("notes@production -> 1 (was 2, set)\n"), alias.out)
        let back = try mlw("registry", "rollback", "notes", "production", "--json")
        XCTAssertEqual(back.code, 0, back.err)
        let event = try XCTUnwrap(try json(back.out) as? [String: Any])
        XCTAssertEqual(event["old_version"] as? Int, 1)
        XCTAssertEqual(event["new_version"] as? Int, 2)
        XCTAssertEqual(event["reason"] as? String, "rollback")
        XCTAssertEqual(try mlw("registry", "rollback", "notes", "production").code, 0) // undoes run 2's move: back to 1
        let none = try mlw("registry", "rollback", "notes", "production")
        XCTAssertEqual(none.code, 1)
        XCTAssertEqual(none.err, "error: cannot roll back 'notes@production': it has no earlier version in its history\n")

        let models = try XCTUnwrap(try json(try mlw("registry", "models", "--json").out) as? [[String: Any]])
        XCTAssertEqual((models.first?["aliases"] as? [String: Int])?["production"], 1)
        let versions = try mlw("registry", "versions", "notes")
        XCTAssertTrue(versions.out.contains("production"), versions.out)
        XCTAssertEqual(try XCTUnwrap(try json(try mlw("registry", "versions", "notes", "--json").out) as? [Any]).count, 2)

        let unknown = try mlw("registry", "versions", "nope")
        XCTAssertEqual(unknown.code, 1)
        XCTAssertEqual(unknown.err, "error: unknown model 'nope'\n")
        XCTAssertEqual(try mlw("registry", "versions", "bad name").code, 2)
        XCTAssertEqual(try mlw("registry", "alias", "notes", "production", "7").err, "error: model 'notes' has no version 7\n")
        let status = try mlw("registry", "runs", "--status", "done")
        XCTAssertEqual(status.code, 2)
        XCTAssertEqual(status.err, "error: unknown status 'done' (expected running, finished, failed or killed)\n")
        XCTAssertEqual(try mlw("registry", "show", "ffffffffffff").code, 1)
        XCTAssertEqual(try mlw("registry", "alias", "notes").code, 2, "missing arguments are usage errors")

        let ids = try runsJSON().compactMap { $0["id"] as? String }
        let diff = try mlw("registry", "diff", ids[1], ids[0])
        XCTAssertEqual(diff.code, 0, diff.err)
        XCTAssertTrue(diff.out.contains("*  seed"), diff.out)
    }

    func testReproduceBitForBit() throws {
        XCTAssertEqual(try mlw("run", "register.mlw", "--set", "seed=9").code, 0)
        let id = try XCTUnwrap(try runsJSON().first?["id"] as? String)
        let r = try mlw("reproduce", id)
        XCTAssertEqual(r.code, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("reproducing run \(id): register.mlw with --set name=notes --set path=notes.txt --set seed=9"), r.out)
        // The script sees its own registration and alias move, numbered as the first time.
        XCTAssertTrue(r.out.contains("registered notes:1 as notes@production"), r.out)
        XCTAssertTrue(r.out.contains("notes:1: same (sha256 "), r.out)
        XCTAssertTrue(r.out.contains("reproduced bit for bit: 1 registered artifact identical"), r.out)
        let runs = try runsJSON()
        XCTAssertEqual(runs.count, 2, "the reproduction is a recorded run")
        XCTAssertEqual((runs[0]["params"] as? [String: Any])?["seed"] as? Int, 9)
        XCTAssertEqual(runs[0]["reproduces"] as? String, id, "linked to the original")
        XCTAssertNil(runs[1]["reproduces"])
        let newID = try XCTUnwrap(runs[0]["id"] as? String)
        // Checking a run creates no version and never moves an alias for everybody else.
        let models = try XCTUnwrap(try json(try mlw("registry", "models", "--json").out) as? [[String: Any]])
        XCTAssertEqual((models.first?["aliases"] as? [String: Int])?["production"], 1)
        XCTAssertEqual(models.first?["latest_version"] as? Int, 1)
        XCTAssertEqual(try XCTUnwrap(try json(try mlw("registry", "versions", "notes", "--json").out) as? [Any]).count, 1)

        // The link shows in the listings: a reproduces column, and both runs' details.
        let text = try mlw("registry", "runs").out
        let header = try XCTUnwrap(text.split(separator: "\n").first)
        XCTAssertTrue(header.contains("reproduces"), text)
        let row = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(newID) })
        XCTAssertTrue(row.contains(id), text)
        let shown = try mlw("registry", "show", newID).out
        XCTAssertTrue(shown.contains("reproduces     \(id)"), shown)
        XCTAssertTrue(shown.contains("register (not versioned)"), shown)
        XCTAssertTrue(try mlw("registry", "show", id).out.contains("reproduced_by  \(newID)"))
        let details = try XCTUnwrap(try json(try mlw("registry", "show", newID, "--json").out) as? [String: Any])
        XCTAssertEqual((details["run"] as? [String: Any])?["reproduces"] as? String, id)
        XCTAssertEqual((details["model_versions"] as? [Any])?.count, 0, "a reproduce run registers no versions")

        // A reproduction of the reproduction compares with its stored artifacts.
        let again = try mlw("reproduce", newID)
        XCTAssertEqual(again.code, 0, again.out + again.err)
        XCTAssertTrue(again.out.contains("notes #1: same"), again.out)
        XCTAssertEqual(try runsJSON()[0]["reproduces"] as? String, newID)
    }

    func testReproduceKeepsExtraRegistrationsOutOfTheRegistry() throws {
        // A script that registers twice and resolves its own latest version.
        try write("two.mlw", """
            param seed = 1
            write_text("a.txt", "a"); write_text("b.txt", "b")
            let first = register("a.txt", name: "pair", alias: "staging")
            let second = register("b.txt", name: "pair")
            set_alias("pair", "staging", second.version)
            print(first.reference, second.reference, resolve("pair@staging").reference, read_text(resolve("pair").path))
            """)
        let run = try mlw("run", "two.mlw")
        XCTAssertEqual(run.out, "pair:1 pair:2 pair:2 b\n", run.err)
        let id = try XCTUnwrap(try runsJSON().first?["id"] as? String)
        let r = try mlw("reproduce", id)
        XCTAssertEqual(r.code, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("pair:1 pair:2 pair:2 b\n"), "the same answers inside the re-run: " + r.out)
        XCTAssertTrue(r.out.contains("pair:1: same") && r.out.contains("pair:2: same"), r.out)
        XCTAssertTrue(r.out.contains("reproduced bit for bit: 2 registered artifacts identical"), r.out)
        let versions = try XCTUnwrap(try json(try mlw("registry", "versions", "pair", "--json").out) as? [[String: Any]])
        XCTAssertEqual(versions.count, 2)
        let models = try XCTUnwrap(try json(try mlw("registry", "models", "--json").out) as? [[String: Any]])
        XCTAssertEqual((models.first?["aliases"] as? [String: Int])?["staging"], 2)
    }

    func testReproduceAfterTheScriptChanged() throws {
        XCTAssertEqual(try mlw("run", "register.mlw").code, 0)
        let id = try XCTUnwrap(try runsJSON().first?["id"] as? String)
        let edited = try String(contentsOf: dir.appendingPathComponent("register.mlw"), encoding: .utf8)
            .replacingOccurrences(of: "i * seed + 7", with: "i * seed + 8")
        try write("register.mlw", edited)
        let r = try mlw("reproduce", String(id.prefix(8)))
        XCTAssertEqual(r.code, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("register.mlw changed since run \(id)"), r.out)
        XCTAssertTrue(r.out.contains("running the recorded copy"), r.out)
        XCTAssertTrue(r.out.contains("reproduced bit for bit"), r.out)

        // With the file gone, the stored copy still reproduces the run.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("register.mlw"))
        let missing = try mlw("reproduce", id)
        XCTAssertTrue(missing.out.contains("register.mlw is missing; running the recorded copy"), missing.out)
        XCTAssertEqual(missing.code, 0)
    }

    func testReproduceReportsADifference() throws {
        // Not deterministic: the registered file holds the clock.
        try write("clock.mlw", "param seed = 1\nwrite_text(\"t.txt\", str(clock()))\nregister(\"t.txt\", name: \"t\")\n")
        XCTAssertEqual(try mlw("run", "clock.mlw").code, 0)
        let id = try XCTUnwrap(try runsJSON().first?["id"] as? String)
        let r = try mlw("reproduce", id)
        XCTAssertEqual(r.code, 1, r.out + r.err)
        XCTAssertTrue(r.out.contains("t:1: different (sha256 "), r.out)
        XCTAssertEqual(try XCTUnwrap(try json(try mlw("registry", "versions", "t", "--json").out) as? [Any]).count, 1,
                       "a failed reproduction registers nothing either")
        XCTAssertTrue(r.out.contains("not reproduced: 1 difference in registered artifacts"), r.out)

        try write("boom.mlw", "param fail = false\nif fail { error(\"boom\") }\n")
        XCTAssertEqual(try mlw("run", "boom.mlw", "--set", "fail=true").code, 1)
        let failed = try XCTUnwrap(try runsJSON().first?["id"] as? String)
        let again = try mlw("reproduce", failed)
        XCTAssertEqual(again.code, 1)
        XCTAssertTrue(again.out.contains("--set fail=true"), again.out)
        XCTAssertTrue(again.out.contains("not reproduced: the script stopped with an error"), again.out)
        XCTAssertEqual(try mlw("reproduce", "abcdef").err, "error: unknown run 'abcdef'\n")
    }

    func testNoBenchmarkSubcommands() throws {
        // Benchmarks are executables under Scripts/bench/swift, not hidden product subcommands.
        XCTAssertTrue(try mlw("--help").out.contains("reproduce"))
        for name in ["bench-registry", "bench-data"] {
            let r = try mlw(name)
            XCTAssertNotEqual(r.code, 0, name)
            XCTAssertTrue(r.err.contains("Unexpected argument") || r.err.contains(name), r.err)
        }
    }
}
