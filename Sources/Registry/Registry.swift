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
/// root at once: writes are serialized by SQLite (WAL mode), readers never wait for a
/// writer, and a writer waits at most `lockWait` seconds for another one (then
/// `RegistryError.locked` names the holder when it can be found).
public final class Registry: Sendable {
    /// File name of the database inside the root folder.
    public static let databaseFileName = "registry.sqlite"
    /// Version string recorded in runs when the caller gives none.
    public static let defaultMLWVersion = "0.1.0-dev"
    /// How long a write waits for another process's write lock before giving up, in
    /// seconds; `MLW_REGISTRY_LOCK_WAIT` overrides it.
    public static let defaultLockWait: TimeInterval = 5
    /// SQLite's WAL write lock: byte 120 of the `-shm` file (where `/proc/locks` shows its holder).
    static let walWriteLockByte: Int64 = 120

    /// The folder holding the database and `artifacts/`.
    public let root: URL
    /// The database file.
    public let databaseURL: URL
    /// Where artifact files live, one file per SHA-256 (for a PostgreSQL registry keeping
    /// artifacts in the database: the local cache of the ones read).
    public var artifactsDirectory: URL { store.directory }
    /// Seconds a transaction waits for a lock held by another process.
    public let lockWait: TimeInterval

    /// The SQLite database; nil for a PostgreSQL registry (`postgres` is set instead).
    let dbQueue: DatabaseQueue!
    /// The PostgreSQL connection of a registry opened from a `postgres://` URL.
    let postgres: PostgresSession?
    /// PostgreSQL only: artifacts' bytes live in the database (`artifact_chunk`), not in a shared folder.
    let artifactsInDatabase: Bool
    let store: ArtifactStore
    /// Runs this instance marked `killed` when it opened (their process was gone).
    let killedAtOpen: [Run]

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

    /// The lock wait from `MLW_REGISTRY_LOCK_WAIT` (seconds, 0...3600), else the default.
    public static func lockWait(environment: [String: String] = ProcessInfo.processInfo.environment) -> TimeInterval {
        if let text = environment["MLW_REGISTRY_LOCK_WAIT"], let v = Double(text), v.isFinite, v >= 0 { return min(v, 3600) }
        return defaultLockWait
    }

    /// Opens (creating if needed) the registry stored in `root`.
    ///
    ///     let registry = try Registry.open(root: Registry.defaultRoot())
    public static func open(root: URL) throws -> Registry {
        try Registry(path: root.appendingPathComponent(databaseFileName).path, lockWait: nil)
    }

    /// Opens the registry in `root`, waiting at most `lockWait` seconds for locks.
    public static func open(root: URL, lockWait: TimeInterval?) throws -> Registry {
        try Registry(path: root.appendingPathComponent(databaseFileName).path, lockWait: lockWait)
    }

    /// Opens (creating if needed) the registry whose database file is `path`.
    public convenience init(path: String) throws {
        try self.init(path: path, lockWait: nil)
    }

    /// Opens (creating if needed) the registry whose database file is `path`; artifacts go
    /// to `artifacts/` beside it.
    ///
    /// Throws `RegistryError.notADatabase` / `.foreignDatabase` / `.newerSchema` for files
    /// that are not ours, instead of touching them, and `.locked` when another process holds
    /// a lock longer than `lockWait` (default `MLW_REGISTRY_LOCK_WAIT`, else 5 s).
    public init(path: String, lockWait: TimeInterval?) throws {
        let dbURL = URL(fileURLWithPath: path).standardizedFileURL
        databaseURL = dbURL
        postgres = nil
        artifactsInDatabase = false
        root = dbURL.deletingLastPathComponent()
        self.lockWait = lockWait ?? Registry.lockWait()
        // A FIFO, device or folder where a file should be would block or fail obscurely:
        // checked before anything opens it.
        for file in [dbURL.path, dbURL.path + "-wal", dbURL.path + "-shm", dbURL.path + ".lock"] {
            if let kind = Registry.nonRegularKind(file) {
                throw RegistryError.notADatabase(path: file, detail: "it is \(kind), not a regular file")
            }
        }
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw RegistryError.storage("cannot create folder '\(root.path)': \(error.localizedDescription)")
        }
        store = try ArtifactStore(directory: root.appendingPathComponent("artifacts", isDirectory: true))

        let wait = self.lockWait
        let lockPath = dbURL.path + ".lock"
        // Creation and migration happen under an exclusive file lock, so two processes
        // opening a fresh root at once cannot both try to create the tables; every other
        // open probes and checks the file under a shared one, so it never sees a database
        // half created (tables that GRDB's bookkeeping made but no registry mark yet, or an
        // empty file whose tables still live only in the WAL). Neither lock is held while
        // SQLite is used afterwards, and an up-to-date registry opens without writing, so
        // opening never waits for a writer.
        let fresh = (Registry.fileSize(dbURL.path) ?? 0) == 0
        var lock: FileLock? = try FileLock(path: lockPath, exclusive: fresh, wait: wait)
        defer { lock?.unlock() }
        try DatabaseProbe.check(path: dbURL.path, lockWait: wait)
        dbQueue = try Registry.mapErrors {
            try Registry.withLockWait(wait, path: dbURL.path) { _ in try DatabaseQueue(path: dbURL.path, configuration: Registry.configuration()) }
        }
        if try Registry.needsSetUp(dbQueue, path: dbURL.path, lockWait: wait) {
            if !fresh {
                lock?.unlock()
                lock = nil
                lock = try FileLock(path: lockPath, exclusive: true, wait: wait)
            }
            if try Registry.needsSetUp(dbQueue, path: dbURL.path, lockWait: wait) {
                try Registry.setUp(dbQueue, path: dbURL.path, lockWait: wait)
            }
        }
        lock?.unlock()
        lock = nil
        store.removeStaleTemporaryFiles()
        // Cheap (one indexed query) and never waiting: a busy registry is left for later.
        killedAtOpen = (try? Registry.markKilledRuns(dbQueue, path: dbURL.path, wait: 0)) ?? []
    }

    /// A PostgreSQL registry: the schema is migrated already; artifacts in `artifacts`.
    init(session: PostgresSession, artifacts: URL, inDatabase: Bool, lockWait: TimeInterval?) throws {
        postgres = session
        artifactsInDatabase = inDatabase
        dbQueue = nil
        root = artifacts.standardizedFileURL
        databaseURL = URL(string: session.location.description) ?? artifacts
        self.lockWait = lockWait ?? Registry.lockWait()
        store = try ArtifactStore(directory: artifacts)
        store.removeStaleTemporaryFiles()
        killedAtOpen = []
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        // WAL is set once, when the file is created (it is persistent); setting it on every
        // open makes GRDB write when the WAL file is empty, which waits for any writer.
        config.foreignKeysEnabled = true
        config.label = "mlw.registry"
        config.prepareDatabase { db in
            // NORMAL in WAL mode survives process crashes; only a power loss may drop the
            // last commits, and never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// What is at `path` when it exists and is not a regular file ("a FIFO", ...); nil otherwise.
    static func nonRegularKind(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK:
            var target = stat()
            guard stat(path, &target) == 0 else { return "a dangling symbolic link" }
            return (target.st_mode & S_IFMT) == S_IFREG ? nil : "a symbolic link to something that is not a file"
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a folder"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "not a file"
        }
    }

    /// Whether the database lacks WAL mode or a migration.
    private static func needsSetUp(_ dbQueue: DatabaseQueue, path: String, lockWait: TimeInterval) throws -> Bool {
        try mapErrors {
            let (journal, applied) = try withLockWait(lockWait, path: path) { _ in
                try dbQueue.read { db in
                    (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try RegistrySchema.migrator.appliedIdentifiers(db))
                }
            }
            let unknown = applied.subtracting(RegistrySchema.migrationIdentifiers)
            if !unknown.isEmpty {
                throw RegistryError.newerSchema(path: path, unknownMigrations: unknown.sorted())
            }
            return journal != "wal" || applied != Set(RegistrySchema.migrationIdentifiers)
        }
    }

    private static func setUp(_ dbQueue: DatabaseQueue, path: String, lockWait: TimeInterval) throws {
        try mapErrors {
            try withLockWait(lockWait, path: path) { ms in
                try dbQueue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA busy_timeout = \(ms)")
                    let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                    guard mode == "wal" else { throw RegistryError.storage("cannot switch '\(path)' to WAL mode (got \(mode ?? "nothing"))") }
                }
                try RegistrySchema.migrator.migrate(dbQueue)
                // Pages into the database file, so the next opener sees a non-empty file.
                _ = try dbQueue.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
    }

    // MARK: - Transactions

    /// Runs `body` in one IMMEDIATE write transaction, waiting at most `lockWait` seconds
    /// for another process's write lock.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(.immediate, wait: lockWait, body)
    }

    /// Runs `body` in a read transaction (a consistent snapshot). In WAL mode readers do not
    /// wait for writers; the wait only covers a checkpoint or recovery in progress.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(.deferred, wait: lockWait) { db in try db.readOnly { try body(db) } }
    }

    /// `body` in a transaction of `kind`, with SQLite's busy timeout set to what is left of
    /// `wait`, retried on SQLITE_BUSY (which SQLite also returns without waiting, e.g. to
    /// avoid a deadlock) until `wait` has passed.
    func transaction<T>(_ kind: Database.TransactionKind, wait: TimeInterval, _ body: (Database) throws -> T) throws -> T {
        try Registry.transaction(dbQueue, path: databaseURL.path, kind, wait: wait, body)
    }

    static func transaction<T>(_ dbQueue: DatabaseQueue?, path: String, _ kind: Database.TransactionKind, wait: TimeInterval,
                               _ body: (Database) throws -> T) throws -> T {
        guard let dbQueue else { throw RegistryError.storage("this operation needs a SQLite registry, not PostgreSQL") }
        return try Registry.mapErrors {
            try Registry.withLockWait(wait, path: path) { ms in
                try dbQueue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA busy_timeout = \(ms)")
                    var result: T?
                    try db.inTransaction(kind) {
                        result = try body(db)
                        return .commit
                    }
                    guard let result else { throw RegistryError.storage("transaction ended without a result") }
                    return result
                }
            }
        }
    }

    /// Calls `body` with the milliseconds left until `wait` seconds have passed; retries it
    /// on SQLITE_BUSY / SQLITE_LOCKED until then, then throws `RegistryError.locked` naming
    /// the process holding the database's write lock when `/proc/locks` tells.
    static func withLockWait<T>(_ wait: TimeInterval, path: String, _ body: (Int) throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let left = max(0, Int(deadline.timeIntervalSinceNow * 1000))
            do {
                return try body(left)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                if Date() >= deadline { throw lockedError(path: path, waited: wait) }
                usleep(UInt32.random(in: 2_000...20_000))
            }
        }
    }

    static func lockedError(path: String, waited: TimeInterval) -> RegistryError {
        let holder = Processes.lockHolder(path: path + "-shm", byte: walWriteLockByte).map(Processes.describe)
        return .locked(path: path, holder: holder, waited: waited)
    }

    /// Turns SQLite errors into `RegistryError.storage` with SQLite's own message.
    static func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw RegistryError.storage("\(error.message ?? "SQLite error") (\(error.resultCode))")
        }
    }
}

/// An advisory lock on a file (flock), exclusive or shared, released by `unlock()` or
/// process exit. Waits at most `wait` seconds, then throws `RegistryError.locked` naming
/// the holder.
struct FileLock {
    private let fd: Int32

    init(path: String, exclusive: Bool = true, wait: TimeInterval) throws {
        fd = posixOpen(path)
        guard fd >= 0 else { throw RegistryError.storage("cannot open lock file '\(path)': errno \(errno)") }
        let deadline = Date().addingTimeInterval(wait)
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw RegistryError.storage("cannot lock '\(path)': errno \(code)")
            }
            if Date() >= deadline {
                close(fd)
                throw RegistryError.locked(path: path, holder: Processes.lockHolder(path: path).map(Processes.describe), waited: wait)
            }
            usleep(10_000)
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
