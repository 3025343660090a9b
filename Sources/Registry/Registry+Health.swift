import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `health(repair:)` (for `mlw registry check [--repair]`) found and did.
public struct HealthReport: Codable, Sendable, Equatable {
    /// Damage, never repaired automatically: integrity and foreign-key errors, artifact
    /// files missing or not matching their hash.
    public var problems: [String] = []
    /// Runs marked `killed` by this process (when it opened the registry or during this
    /// check) because their process is gone.
    public var killedRuns: [String] = []
    /// What crashes leave behind: temporary files of writers that are gone, artifact files
    /// no database row references. `repair` removes them.
    public var leftovers: [String] = []
    /// What `repair` removed.
    public var repaired: [String] = []

    /// No damage and nothing left to clean.
    public var isHealthy: Bool { problems.isEmpty && leftovers.isEmpty }
}

extension Registry {
    /// An artifact file without a row is left alone for this long: a writer renames the
    /// file into place just before it inserts the row.
    static let orphanGrace: TimeInterval = 60

    /// Runs SQLite's `integrity_check` and `foreign_key_check`, checks that every artifact
    /// row has its file with the right size and hash, marks runs whose process is gone as
    /// killed, and lists leftovers of crashes. Returns the problems and leftovers found;
    /// empty means healthy.
    ///
    ///     let problems = try registry.check()  // [] when all is well
    public func check(verifyHashes: Bool = true) throws -> [String] {
        let report = try health(verifyHashes: verifyHashes)
        return report.problems + report.leftovers
    }

    /// The full check; with `repair`, removes the leftovers (stale temporary files,
    /// unreferenced artifact files older than a minute).
    ///
    ///     let r = try registry.health(repair: true); print(r.repaired)
    public func health(verifyHashes: Bool = true, repair: Bool = false) throws -> HealthReport {
        if let postgres { return try pgHealth(postgres, verifyHashes: verifyHashes, repair: repair) }
        var report = HealthReport()
        let killed = killedAtOpen + (try Registry.markKilledRuns(dbQueue, path: databaseURL.path, wait: lockWait))
        report.killedRuns = killed.map(Registry.describeKilled)
        let (integrity, foreignKeys, artifacts) = try read { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
             try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"),
             try Artifact.fetchAll(db))
        }
        if integrity != ["ok"] { report.problems += integrity.map { "integrity: \($0)" } }
        for row in foreignKeys {
            report.problems.append("foreign key: table \(row[0] as String? ?? "?") row \(row[1] as Int64? ?? -1) references missing \(row[2] as String? ?? "?")")
        }
        for artifact in artifacts { checkArtifactFile(artifact, verifyHashes: verifyHashes, into: &report) }
        checkTemporaryFiles(repair: repair, into: &report)
        let known = Set(artifacts.map(\.sha256))
        let cutoff = Date().addingTimeInterval(-Registry.orphanGrace)
        for (sha, modified) in store.hashNamedFiles() where !known.contains(sha) && modified < cutoff {
            let path = store.url(for: sha).path
            if repair, try removeOrphan(sha) {
                report.repaired.append("removed unreferenced artifact file \(path)")
            } else if !repair {
                report.leftovers.append("artifact file \(path) is not referenced by the database (left by an interrupted write)")
            }
        }
        return report
    }

    /// An artifact's file in the store folder: present, of the recorded size, and (with
    /// `verifyHashes`) holding the bytes its hash names. Both stores check their files so.
    func checkArtifactFile(_ artifact: Artifact, verifyHashes: Bool, into report: inout HealthReport) {
        let url = store.url(for: artifact.sha256)
        guard let size = store.fileSize(url) else {
            report.problems.append("artifact \(artifact.sha256): file missing at \(url.path)")
            return
        }
        if size != artifact.size {
            report.problems.append("artifact \(artifact.sha256): size \(size) on disk, \(artifact.size) recorded")
        } else if verifyHashes, (try? SHA256.hex(fileAt: url)) != artifact.sha256 {
            report.problems.append("artifact \(artifact.sha256): content does not match its hash")
        }
    }

    /// Temporary files left in the store folder by interrupted writes: listed, or removed
    /// with `repair`.
    func checkTemporaryFiles(repair: Bool, into report: inout HealthReport) {
        for (name, why) in store.staleTemporaryFiles() {
            let path = store.directory.appendingPathComponent(name).path
            if repair, unlink(path) == 0 || errno == ENOENT {
                report.repaired.append("removed temporary file \(path) (\(why))")
            } else {
                report.leftovers.append("temporary file \(path): \(why)")
            }
        }
    }

    /// Deletes an artifact file no row references, inside a write transaction so that no
    /// writer can insert a row for it meanwhile (writers check the file inside theirs).
    private func removeOrphan(_ sha: String) throws -> Bool {
        try write { db in
            guard try !Artifact.exists(db, key: sha) else { return false }
            return unlink(store.url(for: sha).path) == 0 || errno == ENOENT
        }
    }

    /// Marks the `running` runs of this host whose process is gone as `killed`. Reads one
    /// indexed query; writes only when something is to be marked, waiting at most `wait`.
    static func markKilledRuns(_ dbQueue: DatabaseQueue, path: String, wait: TimeInterval) throws -> [Run] {
        let host = Processes.hostName
        // Plain rows, not records: every open asks, and nearly always nothing is running.
        let running = try transaction(dbQueue, path: path, .deferred, wait: wait) { db in
            try Row.fetchAll(db, sql: "SELECT id, pid, process_start FROM run WHERE status = 'running' AND host = ? AND pid IS NOT NULL",
                             arguments: [host]).map { (id: $0[0] as String, pid: $0[1] as Int?, start: $0[2] as Int64?) }
        }
        let gone = running.filter { run in
            guard let pid = run.pid.flatMap({ Int32(exactly: $0) }) else { return false }
            return Processes.isGone(pid: pid, startTime: run.start)
        }
        guard !gone.isEmpty else { return [] }
        return try transaction(dbQueue, path: path, .immediate, wait: wait) { db in
            var marked: [Run] = []
            for candidate in gone {
                guard var run = try Run.fetchOne(db, key: candidate.id), run.status == .running else { continue }
                run.status = .killed
                run.endedAt = Date()
                run.error = "its process \(run.pid.map(String.init) ?? "?") on \(host) ended without finishing the run "
                    + "(killed or crashed); found by process \(getpid())"
                try run.update(db)
                marked.append(run)
            }
            return marked
        }
    }

    static func describeKilled(_ run: Run) -> String {
        "run \(run.id) (\(run.script), started \(TextTable.format(run.startedAt))): its process \(run.pid.map(String.init) ?? "?") "
            + "on \(run.host) is gone; marked killed"
    }
}
