import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifier of a run: 12 lowercase hex characters.
public typealias RunID = String

/// The MLW registry: one SQLite database (`registry.sqlite`) plus a content-addressed
/// artifact folder (`artifacts/`) under a root folder, `.mlw/` of a project by default.
///
///     let registry = try Registry.open(root: URL(fileURLWithPath: ".mlw"))
///     let run = try registry.startRun(script: "train.mlw", scriptHash: hash, params: ["epochs": 20], seed: 42)
///
/// A `Registry` is safe to share between threads, and several processes may use the same
/// root at once: writes are serialized by SQLite (WAL mode, busy timeout, retries).
public final class Registry: Sendable {
    /// File name of the database inside the root folder.
    public static let databaseFileName = "registry.sqlite"
    /// Version string recorded in runs when the caller gives none.
    public static let defaultMLWVersion = "0.1.0-dev"

    /// The folder holding the database and `artifacts/`.
    public let root: URL
    /// The database file.
    public let databaseURL: URL
    /// Where artifact files live, one file per SHA-256.
    public var artifactsDirectory: URL { root.appendingPathComponent("artifacts", isDirectory: true) }

    let dbQueue: DatabaseQueue
    let store: ArtifactStore

    /// The default root for a project: `$MLW_HOME` when set, else `<project>/.mlw`.
    public static func defaultRoot(
        projectDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let home = environment["MLW_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home, isDirectory: true)
        }
        return projectDirectory.appendingPathComponent(".mlw", isDirectory: true)
    }

    /// Opens (creating if needed) the registry stored in `root`.
    ///
    ///     let registry = try Registry.open(root: Registry.defaultRoot())
    public static func open(root: URL) throws -> Registry {
        try Registry(path: root.appendingPathComponent(databaseFileName).path)
    }

    /// Opens (creating if needed) the registry whose database file is `path`; artifacts go
    /// to `artifacts/` beside it.
    ///
    /// Throws `RegistryError.notADatabase` / `.foreignDatabase` / `.newerSchema` for files
    /// that are not ours, instead of touching them.
    public init(path: String) throws {
        let dbURL = URL(fileURLWithPath: path).standardizedFileURL
        databaseURL = dbURL
        root = dbURL.deletingLastPathComponent()
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw RegistryError.storage("cannot create folder '\(root.path)': \(error.localizedDescription)")
        }
        store = try ArtifactStore(directory: root.appendingPathComponent("artifacts", isDirectory: true))

        // Creation and migration happen under a file lock, so two processes opening a fresh
        // root at once cannot both try to create the tables.
        let lock = try FileLock(path: dbURL.path + ".lock")
        defer { lock.unlock() }
        try DatabaseProbe.check(path: dbURL.path)
        dbQueue = try Registry.mapErrors {
            try Registry.withBusyRetry { try DatabaseQueue(path: dbURL.path, configuration: Registry.configuration()) }
        }
        try Registry.migrate(dbQueue, path: dbURL.path)
        store.removeStaleTemporaryFiles()
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.label = "mlw.registry"
        config.prepareDatabase { db in
            // NORMAL in WAL mode survives process crashes; only a power loss may drop the
            // last commits, and never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    private static func migrate(_ dbQueue: DatabaseQueue, path: String) throws {
        try mapErrors {
            let migrator = RegistrySchema.migrator
            let applied = try dbQueue.read { try migrator.appliedIdentifiers($0) }
            let unknown = applied.subtracting(RegistrySchema.migrationIdentifiers)
            if !unknown.isEmpty {
                throw RegistryError.newerSchema(path: path, unknownMigrations: unknown.sorted())
            }
            try withBusyRetry { try migrator.migrate(dbQueue) }
        }
    }

    // MARK: - Transactions

    /// Runs `body` in one IMMEDIATE write transaction, retrying when another process holds
    /// the lock longer than the busy timeout.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try Registry.mapErrors { try Registry.withBusyRetry { try dbQueue.write(body) } }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try Registry.mapErrors { try Registry.withBusyRetry { try dbQueue.read(body) } }
    }

    static func withBusyRetry<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && attempt < 50
            {
                attempt += 1
                usleep(UInt32.random(in: 5_000...50_000))
            }
        }
    }

    /// Turns SQLite errors into `RegistryError.storage` with SQLite's own message.
    static func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw RegistryError.storage("\(error.message ?? "SQLite error") (\(error.resultCode))")
        }
    }

    // MARK: - Health

    /// Runs SQLite's `integrity_check` and `foreign_key_check`, and checks that every
    /// artifact row has its file with the right size and hash. Returns the problems found;
    /// empty means healthy.
    ///
    ///     let problems = try registry.check()  // [] when all is well
    public func check(verifyHashes: Bool = true) throws -> [String] {
        var problems: [String] = []
        let (integrity, foreignKeys, artifacts) = try read { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
             try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"),
             try Artifact.fetchAll(db))
        }
        if integrity != ["ok"] { problems += integrity.map { "integrity: \($0)" } }
        for row in foreignKeys {
            problems.append("foreign key: table \(row[0] as String? ?? "?") row \(row[1] as Int64? ?? -1) references missing \(row[2] as String? ?? "?")")
        }
        for artifact in artifacts {
            let url = store.url(for: artifact.sha256)
            guard let size = store.fileSize(url) else {
                problems.append("artifact \(artifact.sha256): file missing at \(url.path)")
                continue
            }
            if size != artifact.size {
                problems.append("artifact \(artifact.sha256): size \(size) on disk, \(artifact.size) recorded")
            } else if verifyHashes, (try? SHA256.hex(fileAt: url)) != artifact.sha256 {
                problems.append("artifact \(artifact.sha256): content does not match its hash")
            }
        }
        return problems
    }
}

/// An exclusive advisory lock on a file (flock), released by `unlock()` or process exit.
struct FileLock {
    private let fd: Int32

    init(path: String) throws {
        fd = posixOpen(path)
        guard fd >= 0 else { throw RegistryError.storage("cannot open lock file '\(path)': errno \(errno)") }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                close(fd)
                throw RegistryError.storage("cannot lock '\(path)': errno \(errno)")
            }
        }
    }

    func unlock() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}

/// `open(2)` with O_CREAT, spelled once so the lock and the artifact store agree.
func posixOpen(_ path: String, flags: Int32 = O_RDWR | O_CREAT, mode: mode_t = 0o644) -> Int32 {
    open(path, flags | O_CLOEXEC, mode)
}
