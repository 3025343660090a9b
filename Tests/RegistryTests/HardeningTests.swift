import Foundation
import GRDB
import XCTest
@testable import Registry

#if canImport(Glibc)
import Glibc
#endif

/// Issue 23: a registry under another process's lock, special files where the database
/// should be, runs whose process was killed, leftovers of crashes.
final class HardeningTests: XCTestCase {
    /// A child of the test binary (see `ProcessTests.testChildProcessEntry`) that has
    /// written its marker file; killed and reaped at the end of the test.
    func child(_ mode: String, root: URL) throws -> (Process, String) {
        let marker = root.deletingLastPathComponent().appendingPathComponent("marker-\(UUID().uuidString)").path
        let process = try ProcessTests.launchChild(mode: mode, root: root, count: 0, marker: marker)
        addTeardownBlock {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(60)   // a bound for a broken child, not a timing check
        while !FileManager.default.fileExists(atPath: marker), process.isRunning, Date() < deadline { usleep(10_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "the child never got ready")
        return (process, String(decoding: FileManager.default.contents(atPath: marker) ?? Data(), as: UTF8.self))
    }

    /// Another process holds the write lock: opening and reading still work at once,
    /// a write gives up after the lock wait naming the holder's pid.
    func testReadsDoNotWaitAndWritesGiveUpNamingTheHolder() throws {
        let root = try temporaryDirectory().appendingPathComponent(".mlw")
        let setup = try Registry.open(root: root)
        let art = try setup.storeArtifact(bytes: Data("w".utf8))
        _ = try setup.register(art, name: "iris", alias: "production")
        let (holder, _) = try child("hold-write-lock", root: root)

        let registry = try Registry.open(root: root, lockWait: 1)
        XCTAssertEqual(try registry.models().map(\.name), ["iris"])
        XCTAssertEqual(try registry.resolve("iris@production").version, 1)
        XCTAssertEqual(try registry.runs(), [])
        XCTAssertThrowsError(try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash)) { error in
            guard case let RegistryError.locked(path, who, waited) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(path, registry.databaseURL.path)
            XCTAssertEqual(waited, 1)
            XCTAssertTrue(who?.hasPrefix("pid \(holder.processIdentifier) (") == true, "\(who ?? "nil")")
            XCTAssertTrue("\(error)".contains("gave up after 1 s"), "\(error)")
            XCTAssertTrue("\(error)".contains("MLW_REGISTRY_LOCK_WAIT"), "\(error)")
        }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        XCTAssertNoThrow(try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash))
    }

    func testLockWaitComesFromTheEnvironment() {
        XCTAssertEqual(Registry.lockWait(environment: [:]), Registry.defaultLockWait)
        XCTAssertEqual(Registry.lockWait(environment: ["MLW_REGISTRY_LOCK_WAIT": "0.5"]), 0.5)
        XCTAssertEqual(Registry.lockWait(environment: ["MLW_REGISTRY_LOCK_WAIT": "1e9"]), 3600)
        XCTAssertEqual(Registry.lockWait(environment: ["MLW_REGISTRY_LOCK_WAIT": "-1"]), Registry.defaultLockWait)
        XCTAssertEqual(Registry.lockWait(environment: ["MLW_REGISTRY_LOCK_WAIT": "nan"]), Registry.defaultLockWait)
    }

    /// A FIFO (or folder, or a symlink to one) where the database or its side files
    /// should be is refused before anything opens it (opening a FIFO blocks forever).
    func testSpecialFilesAreRefusedWithoutBlocking() throws {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let dir = try temporaryDirectory()
            let db = dir.appendingPathComponent("registry.sqlite").path
            XCTAssertEqual(mkfifo(db + suffix, 0o644), 0)
            XCTAssertThrowsError(try Registry(path: db)) { error in
                XCTAssertEqual("\(error)", "'\(db + suffix)' is not a registry database (not an SQLite file: it is a FIFO, not a regular file)")
            }
        }
        let dir = try temporaryDirectory()
        let db = dir.appendingPathComponent("registry.sqlite").path
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Registry(path: db)) { XCTAssertTrue("\($0)".contains("it is a folder"), "\($0)") }
        let other = try temporaryDirectory()
        let fifo = other.appendingPathComponent("pipe").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let link = other.appendingPathComponent("registry.sqlite").path
        XCTAssertEqual(symlink(fifo, link), 0)
        XCTAssertThrowsError(try Registry(path: link)) { XCTAssertTrue("\($0)".contains("a symbolic link to something that is not a file"), "\($0)") }
    }

    /// The reproducer: a process starts a run and is killed with SIGKILL. The next process
    /// that opens the registry marks the run `killed` (and `health` reports it).
    func testRunOfAKilledProcessIsMarkedKilled() throws {
        let root = try temporaryDirectory().appendingPathComponent(".mlw")
        _ = try Registry.open(root: root)
        let (process, runID) = try child("start-run-and-wait", root: root)
        let observer = try Registry.open(root: root)
        XCTAssertEqual(try observer.run(runID).status, .running, "alive: left alone")
        XCTAssertEqual(try observer.run(runID).pid, Int(process.processIdentifier))
        XCTAssertNotNil(try observer.run(runID).processStart)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let registry = try Registry.open(root: root)
        let run = try registry.run(runID)
        XCTAssertEqual(run.status, .killed)
        XCTAssertNotNil(run.endedAt)
        XCTAssertTrue(run.error?.contains("its process \(process.processIdentifier) on ") == true, run.error ?? "nil")
        let report = try registry.health()
        XCTAssertEqual(report.killedRuns.count, 1)
        XCTAssertTrue(report.killedRuns[0].hasPrefix("run \(runID) (doomed.mlw, started "), report.killedRuns[0])
        XCTAssertTrue(report.isHealthy)
        // The observer opened before the kill: its check marks nothing more and says so.
        XCTAssertEqual(try observer.health().killedRuns, [])
        XCTAssertThrowsError(try registry.finishRun(runID)) { XCTAssertEqual($0 as? RegistryError, .runAlreadyFinished(runID)) }
    }

    /// A row written with a pid that no longer exists (or a reused pid that started at
    /// another time) is marked by `check`; runs of other hosts are left alone.
    func testCheckMarksRunsWhoseProcessIsGone() throws {
        let registry = try makeRegistry()
        let gone = try finishedProcessID()
        let here = Processes.hostName
        let mine = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash)
        let dead = try registry.startRun(script: "b.mlw", scriptHash: fakeScriptHash)
        let reused = try registry.startRun(script: "c.mlw", scriptHash: fakeScriptHash)
        let remote = try registry.startRun(script: "d.mlw", scriptHash: fakeScriptHash, host: "elsewhere-\(here)")
        try registry.dbQueue.write { db in
            try db.execute(sql: "UPDATE run SET pid = ? WHERE id IN (?, ?)", arguments: [gone, dead, remote])
            // Our own pid, but a start time that is not ours: the pid was reused.
            try db.execute(sql: "UPDATE run SET process_start = process_start + 1 WHERE id = ?", arguments: [reused])
        }
        XCTAssertEqual(try registry.check(), [])
        XCTAssertEqual(try registry.run(mine).status, .running)
        XCTAssertEqual(try registry.run(dead).status, .killed)
        XCTAssertEqual(try registry.run(reused).status, .killed)
        XCTAssertEqual(try registry.run(remote).status, .running, "another host's processes cannot be seen")
        XCTAssertEqual(try registry.runs(filter: RunFilter(status: .killed)).map(\.id).sorted(), [dead, reused].sorted())
    }

    /// The pid of a process that has exited and been reaped.
    func finishedProcessID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    /// Temporary files of writers that are gone and artifact files without a row are
    /// reported, and removed by repair; young ones (a writer may be mid-write) are not.
    func testRepairRemovesLeftovers() throws {
        let registry = try makeRegistry()
        let kept = try registry.storeArtifact(bytes: Data("kept".utf8))
        let dir = registry.artifactsDirectory
        let tmp = dir.appendingPathComponent(".tmp-\(try finishedProcessID())-\(UUID().uuidString)").path
        let liveTmp = dir.appendingPathComponent(".tmp-\(getpid())-\(UUID().uuidString)").path
        let orphan = dir.appendingPathComponent(SHA256.hex(Data("orphan".utf8))).path
        let youngOrphan = dir.appendingPathComponent(SHA256.hex(Data("young".utf8))).path
        for path in [tmp, liveTmp, orphan, youngOrphan] { FileManager.default.createFile(atPath: path, contents: Data("x".utf8)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3 * Registry.orphanGrace)], ofItemAtPath: orphan)

        let found = try registry.health()
        XCTAssertEqual(found.problems, [])
        XCTAssertEqual(found.leftovers.count, 2, "\(found.leftovers)")
        XCTAssertTrue(found.leftovers.contains { $0.hasPrefix("temporary file \(tmp): its writer, process ") })
        XCTAssertTrue(found.leftovers.contains("artifact file \(orphan) is not referenced by the database (left by an interrupted write)"))
        XCTAssertFalse(found.isHealthy)
        XCTAssertEqual(try registry.check().count, 2)

        let repaired = try registry.health(repair: true)
        XCTAssertEqual(repaired.leftovers, [])
        XCTAssertEqual(repaired.repaired.count, 2, "\(repaired.repaired)")
        XCTAssertTrue(repaired.isHealthy)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
        XCTAssertFalse(FileManager.default.fileExists(atPath: orphan))
        for path in [liveTmp, youngOrphan, kept.path!] { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        XCTAssertEqual(try registry.check(), [])
    }

    /// A registry written before runs recorded their process: migration v2 rebuilds the
    /// run table, keeping every row and the rows that reference them.
    func testMigrationFromV1KeepsRunsAndTheirReferences() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("registry.sqlite").path
        let old = try DatabaseQueue(path: path)
        try old.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
        try RegistrySchema.migrator.migrate(old, upTo: "v1-initial")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO run (id, script, script_sha256, params, started_at, status, host, mlw_version)
                VALUES ('0123456789ab', 'old.mlw', ?, '{"k": 1}', '2025-01-01 00:00:00.000', 'running', 'box', '0.0.1');
                INSERT INTO metric (run_id, key, step, value, logged_at) VALUES ('0123456789ab', 'loss', 0, 0.5, '2025-01-01 00:00:00.000');
                """, arguments: [fakeScriptHash])
        }
        try old.close()
        let registry = try Registry(path: path)
        let run = try registry.run("0123456789ab")
        XCTAssertEqual(run.status, .running)
        XCTAssertNil(run.pid)
        XCTAssertEqual(run.params, ["k": 1])
        XCTAssertEqual(try registry.finalMetrics(run: run.id), ["loss": 0.5])
        XCTAssertEqual(try registry.check(), [])
        XCTAssertEqual(try registry.dbQueue.read { try Int.fetchOne($0, sql: "PRAGMA user_version") }, RegistrySchema.migrationIdentifiers.count)
        try registry.finishRun(run.id, status: .killed, error: "by hand")
        XCTAssertEqual(try registry.run(run.id).status, .killed)
    }
}
