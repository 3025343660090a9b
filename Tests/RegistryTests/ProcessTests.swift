import Foundation
import GRDB
import XCTest
@testable import Registry

#if canImport(Glibc)
import Glibc
#endif

/// Multi-process safety: the test binary re-runs itself in a helper mode (selected by
/// environment variables) so real processes contend for the database file.
final class ProcessTests: XCTestCase {
    static let modeVariable = "MLW_REGISTRY_CHILD_MODE"
    static let rootVariable = "MLW_REGISTRY_CHILD_ROOT"
    static let countVariable = "MLW_REGISTRY_CHILD_COUNT"
    static let markerVariable = "MLW_REGISTRY_CHILD_MARKER"

    /// The helper entry point. In a normal test run (no mode variable) it does nothing.
    func testChildProcessEntry() throws {
        let env = ProcessInfo.processInfo.environment
        guard let mode = env[Self.modeVariable], let rootPath = env[Self.rootVariable] else { return }
        let count = Int(env[Self.countVariable] ?? "") ?? 20
        let marker = env[Self.markerVariable] ?? "/dev/null"
        if mode == "hold-write-lock" {
            // Holds SQLite's write lock the way any client could (here GRDB directly), until killed.
            let queue = try DatabaseQueue(path: URL(fileURLWithPath: rootPath).appendingPathComponent(Registry.databaseFileName).path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                FileManager.default.createFile(atPath: marker, contents: Data("locked".utf8))
                while true { sleep(1) }
            }
        }
        let registry = try Registry.open(root: URL(fileURLWithPath: rootPath))
        switch mode {
        case "start-run-and-wait":
            let run = try registry.startRun(script: "doomed.mlw", scriptHash: fakeScriptHash)
            FileManager.default.createFile(atPath: marker, contents: Data(run.utf8))
            while true { sleep(1) } // ends by SIGKILL from the parent
        case "write":
            try ProcessTests.writeWorkload(registry, iterations: count, tag: "\(getpid())")
        case "register-forever":
            var i = 0
            while true { // ends by SIGKILL from the parent
                i += 1
                let run = try registry.startRun(script: "loop.mlw", scriptHash: fakeScriptHash, params: ["i": .int(i)])
                var bytes = Data(count: 256 * 1024)
                bytes.withUnsafeMutableBytes { raw in
                    for j in stride(from: 0, to: raw.count, by: 8) { raw[j] = UInt8(truncatingIfNeeded: i &* 131 &+ j) }
                }
                let art = try registry.storeArtifact(bytes: bytes, run: run)
                _ = try registry.register(art, name: "looped", run: run, metrics: ["i": Double(i)],
                                          alias: i % 2 == 0 ? "even" : "odd")
                try registry.finishRun(run)
            }
        default:
            XCTFail("unknown child mode \(mode)")
        }
    }

    static func writeWorkload(_ registry: Registry, iterations: Int, tag: String) throws {
        for i in 0..<iterations {
            let run = try registry.startRun(script: "w.mlw", scriptHash: fakeScriptHash, params: ["tag": .string(tag), "i": .int(i)])
            for step in 0..<5 { try registry.logMetric(run: run, key: "loss", value: Double(step), step: step) }
            let art = try registry.storeArtifact(bytes: Data("\(tag)-\(i)".utf8), run: run)
            _ = try registry.register(art, name: "shared", run: run, alias: "latest")
            try registry.finishRun(run)
        }
    }

    static func launchChild(mode: String, root: URL, count: Int, marker: String? = nil) throws -> Process {
        #if os(Linux)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["RegistryTests.ProcessTests/testChildProcessEntry"]
        var env = ProcessInfo.processInfo.environment
        env[Self.modeVariable] = mode
        env[Self.rootVariable] = root.path
        env[Self.countVariable] = String(count)
        env[Self.markerVariable] = marker
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
        #else
        throw XCTSkip("re-running the test binary is only wired up on Linux")
        #endif
    }

    func testTwoProcessesWritingAtOnceBothSucceed() throws {
        let root = try temporaryDirectory().appendingPathComponent(".mlw")
        let perChild = 25
        // Both children open a root that does not exist yet: creation and migration race too.
        let children = try [Self.launchChild(mode: "write", root: root, count: perChild),
                            Self.launchChild(mode: "write", root: root, count: perChild)]
        for child in children {
            waitOrKill(child)
            XCTAssertEqual(child.terminationStatus, 0, "a writer process failed")
        }
        let registry = try Registry.open(root: root)
        XCTAssertEqual(try registry.versions("shared").map(\.version), Array(1...(2 * perChild)))
        let runs = try registry.runs(limit: 1000)
        XCTAssertEqual(runs.count, 2 * perChild)
        XCTAssertTrue(runs.allSatisfy { $0.status == .finished })
        XCTAssertEqual(Set(runs.compactMap { $0.params["tag"] }).count, 2)
        XCTAssertEqual(try registry.aliasHistory("shared").count, 2 * perChild)
        XCTAssertEqual(try registry.check(), [])
    }

    /// Waits for a child; a hung child (a bug) is killed after `seconds` so the suite ends.
    private func waitOrKill(_ child: Process, seconds: TimeInterval = 300) {
        let deadline = Date().addingTimeInterval(seconds)
        while child.isRunning && Date() < deadline { usleep(10_000) }
        if child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            XCTFail("child process hung and was killed")
        }
        child.waitUntilExit()
    }

    func testTwoRegistriesOnThreadsBothSucceed() throws {
        let root = try temporaryDirectory().appendingPathComponent(".mlw")
        let failures = LockedList()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                let registry = try Registry.open(root: root)
                try ProcessTests.writeWorkload(registry, iterations: 15, tag: "thread\(index)")
            } catch {
                failures.append("\(error)")
            }
        }
        XCTAssertEqual(failures.items, [])
        let registry = try Registry.open(root: root)
        XCTAssertEqual(try registry.versions("shared").count, 30)
        XCTAssertEqual(try registry.check(), [])
    }

    func testKillDuringRegisterLeavesAConsistentRegistry() throws {
        let root = try temporaryDirectory().appendingPathComponent(".mlw")
        let observer = try Registry.open(root: root)
        // Three rounds: each child is killed wherever it happens to be (a file write, a
        // rename, a transaction) after a random extra delay, then the next one carries on.
        for round in 1...3 {
            let before = (try? observer.versions("looped"))?.count ?? 0
            let child = try Self.launchChild(mode: "register-forever", root: root, count: 0)
            let deadline = Date().addingTimeInterval(120) // generous bound, not a timing check
            while Date() < deadline, child.isRunning, ((try? observer.versions("looped"))?.count ?? 0) < before + 4 {
                usleep(10_000)
            }
            usleep(UInt32.random(in: 0...40_000))
            XCTAssertTrue(child.isRunning, "round \(round): the child stopped on its own")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal)
            // No damage; what the kill left (a temporary file, an unreferenced file) is a leftover.
            XCTAssertEqual(try observer.health(verifyHashes: false).problems, [], "round \(round)")
        }

        let registry = try Registry.open(root: root)
        let report = try registry.health(verifyHashes: true, repair: true)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.leftovers, [])
        XCTAssertEqual(try registry.check(verifyHashes: true), [])
        // Each child's last run was open when it was killed: marked killed, none left running.
        XCTAssertEqual(try registry.runs(filter: RunFilter(status: .running), limit: 100), [])
        XCTAssertLessThanOrEqual(try registry.runs(filter: RunFilter(status: .killed), limit: 100).count, 3)
        let versions = try registry.versions("looped")
        XCTAssertGreaterThanOrEqual(versions.count, 12)
        XCTAssertEqual(versions.map(\.version), Array(1...versions.count), "no gaps, no half-registered version")
        for version in versions {
            let path = try XCTUnwrap(version.artifactPath)
            XCTAssertEqual(try SHA256.hex(fileAt: URL(fileURLWithPath: path)), version.artifactSha256)
        }
        // Any file under a hash name is complete, referenced or not.
        for name in try FileManager.default.contentsOfDirectory(atPath: registry.artifactsDirectory.path)
        where !name.hasPrefix(ArtifactStore.temporaryPrefix) {
            XCTAssertEqual(try SHA256.hex(fileAt: registry.artifactsDirectory.appendingPathComponent(name)), name)
        }
        // The registry keeps working after the crash.
        let art = try registry.storeArtifact(bytes: Data("after".utf8))
        XCTAssertEqual(try registry.register(art, name: "looped").version, versions.count + 1)
    }
}

/// A thread-safe list of strings for collecting failures from concurrent work.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ s: String) { lock.lock(); storage.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}
