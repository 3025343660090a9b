import Foundation
import Lang
import Registry
@testable import Workbench
import XCTest

/// `mlw run` writes its run lazily (first registry use, else at the end) and reads the git
/// commit from `.git` without a process: what keeps an empty recorded run cheap.
final class RunStartupTests: XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-startup-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func write(_ url: URL, _ text: String) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testAPlainScriptIsWrittenOnlyAtTheEnd() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let script = dir.appendingPathComponent("plain.mlw")
        try write(script, "param n = 3\nprint(n * 2)\n")
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        var out = ""
        interp.output = { out += $0 }
        let before = Date()
        let recorder = try XCTUnwrap(RunRecorder.start(interp, scriptPath: script.path, warn: { XCTFail($0) }))
        _ = try interp.runFile(script.path)
        XCTAssertFalse(interp.registrySession.isOpen, "the script never used the registry: nothing opened yet")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path))
        recorder.finish(nil)
        let id = try XCTUnwrap(recorder.runID)
        let run = try Registry.open(root: root).run(id)
        XCTAssertEqual(out, "6\n")
        XCTAssertEqual(run.status, .finished)
        XCTAssertEqual(run.params, ["n": 3])
        XCTAssertGreaterThanOrEqual(run.startedAt.timeIntervalSince1970 + 0.001, before.timeIntervalSince1970,
                                    "the start time is taken before the script ran")
        XCTAssertLessThanOrEqual(run.startedAt, try XCTUnwrap(run.endedAt))
    }

    func testTheFirstRegistryUseWritesTheRun() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let script = dir.appendingPathComponent("train.mlw")
        // The script sees its own run while it runs, and its metric lands in that run.
        try write(script, "log_metric(\"loss\", 0.5)\nprint(runs(status: \"running\")[0].script)\n")
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: root)
        var out = ""
        interp.output = { out += $0 }
        let recorder = try XCTUnwrap(RunRecorder.start(interp, scriptPath: script.path, warn: { XCTFail($0) }))
        _ = try interp.runFile(script.path)
        let id = try XCTUnwrap(recorder.runID, "written at the first log_metric")
        recorder.finish(nil)
        XCTAssertEqual(out, script.path + "\n")
        let registry = try Registry.open(root: root)
        XCTAssertEqual(try registry.finalMetrics(run: id), ["loss": 0.5])
        XCTAssertEqual(try registry.runs().map(\.id), [id], "one run, not a second <repl> run")
    }

    func testGitHeadFromFiles() throws {
        let dir = try temporaryDirectory()
        let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40), c = String(repeating: "c", count: 40)
        let git = dir.appendingPathComponent("repo/.git")
        try write(git.appendingPathComponent("HEAD"), "ref: refs/heads/main\n")
        try write(git.appendingPathComponent("refs/heads/main"), a + "\n")
        try write(dir.appendingPathComponent("repo/sub/train.mlw"), "")
        XCTAssertEqual(GitHead.commit(near: dir.appendingPathComponent("repo/sub/train.mlw").path), a, "found from a subfolder")

        // Packed refs (after `git gc`), then a detached HEAD.
        try FileManager.default.removeItem(at: git.appendingPathComponent("refs/heads/main"))
        try write(git.appendingPathComponent("packed-refs"), "# pack-refs with: peeled fully-peeled sorted\n\(b) refs/heads/main\n^\(c)\n")
        XCTAssertEqual(GitHead.fromFiles(gitPath: git.path), b)
        try write(git.appendingPathComponent("HEAD"), c + "\n")
        XCTAssertEqual(GitHead.fromFiles(gitPath: git.path), c)

        // A linked work tree: `.git` is a file naming the real folder.
        let linked = dir.appendingPathComponent("linked")
        try write(linked.appendingPathComponent(".git"), "gitdir: ../repo/.git\n")
        XCTAssertEqual(GitHead.fromFiles(gitPath: linked.appendingPathComponent(".git").path), c)

        // An unborn branch has no commit; outside any work tree there is none either.
        try write(git.appendingPathComponent("HEAD"), "ref: refs/heads/new\n")
        XCTAssertNil(GitHead.fromFiles(gitPath: git.path))
        XCTAssertNil(GitHead.commit(near: "/proc/self/status"))
    }

    func testRunInThisCheckoutRecordsTheSameCommitAsGit() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: repo.appendingPathComponent(".git").path) else {
            throw XCTSkip("not a git checkout")
        }
        let fromFiles = GitHead.fromFiles(gitPath: repo.appendingPathComponent(".git").path)
        XCTAssertEqual(fromFiles, GitHead.fromProcess(in: repo))
    }

    /// A finished run keeps its environment: kernel threads, the CPU features the kernels
    /// use, and each stage's outcome (ran, then a cache hit on the second run).
    func testARunRecordsThreadsCPUFeaturesAndStageOutcomes() throws {
        let dir = try temporaryDirectory(), root = dir.appendingPathComponent(".mlw")
        let script = dir.appendingPathComponent("stages.mlw")
        try write(script, "let x = stage(\"prepare\") { 6 * 7 }\nprint(x)\n")
        setenv("MLW_HOME", dir.path, 1)
        defer { unsetenv("MLW_HOME") }
        var envs: [RunEnvironment] = []
        for _ in 0..<2 {
            let interp = try Workbench.makeInterpreter()
            interp.useRegistry(root: root)
            interp.output = { _ in }
            let recorder = try XCTUnwrap(RunRecorder.start(interp, scriptPath: script.path, warn: { XCTFail($0) }))
            _ = try interp.runFile(script.path)
            recorder.finish(nil)
            let registry = try Registry.open(root: root)
            let d = try registry.runDetails(try XCTUnwrap(recorder.runID))
            let link = try XCTUnwrap(d.links.first { $0.label == RunRecorder.environmentLabel })
            let data = try Data(contentsOf: registry.artifactURL(sha256: link.artifactSha256))
            envs.append(try RegistryJSON.decoder().decode(RunEnvironment.self, from: data))
        }
        XCTAssertGreaterThanOrEqual(envs[0].threads, 1)
        XCTAssertEqual(envs.map { $0.stages.map(\.outcome) }, [["ran"], ["cache hit"]])
        XCTAssertEqual(envs[0].stages[0].key, envs[1].stages[0].key)
        if FileManager.default.fileExists(atPath: "/proc/cpuinfo") {
            XCTAssertFalse(envs[0].system.isEmpty)
            XCTAssertTrue(envs[0].cpuFeatures.allSatisfy(RunEnvironment.kernelFeatures.contains))
        }
    }
}
