import Foundation
import GRDB

/// Looks at an existing database file before the registry opens it for real, so that a
/// corrupt or foreign file is reported clearly and never modified (opening for real would
/// switch it to WAL mode and create our tables in someone else's database).
enum DatabaseProbe {
    private static let magic = Array("SQLite format 3\u{0}".utf8)

    /// Returns normally when `path` is missing, empty, an empty SQLite database, or one of
    /// ours; throws `RegistryError.notADatabase` or `.foreignDatabase` otherwise.
    static func check(path: String, lockWait: TimeInterval) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return } // missing: created fresh
        let header: Data
        do {
            header = try handle.read(upToCount: 100) ?? Data()
            try handle.close()
        } catch {
            throw RegistryError.notADatabase(path: path, detail: "cannot read it: \(error.localizedDescription)")
        }
        if header.isEmpty { return } // a zero-byte file is what SQLite itself creates first
        guard header.count == 100, Array(header.prefix(16)) == magic else {
            throw RegistryError.notADatabase(path: path, detail: "the SQLite header is missing")
        }
        // application_id sits at offset 68 (big-endian). Set by the first migration and never
        // changed, it can only be stale as 0 (tables still in the WAL), so ours is final: the
        // common case opens no connection here.
        let headerID = header[68..<72].reduce(0) { ($0 << 8) | UInt32($1) }
        if Int32(bitPattern: headerID) == RegistrySchema.applicationID { return }
        // The header may be stale while a WAL file holds newer pages, so ask SQLite itself.
        let (appID, tables): (Int32, [String])
        do {
            // Read-only: the probe never writes, and closing a read-only connection never
            // checkpoints (a checkpoint on close syncs the file: most of an empty run's time).
            var config = Configuration()
            config.readonly = true
            let queue = try Registry.withLockWait(lockWait, path: path) { _ in try DatabaseQueue(path: path, configuration: config) }
            (appID, tables) = try Registry.withLockWait(lockWait, path: path) { ms in
                try queue.inDatabase { db in try db.execute(sql: "PRAGMA busy_timeout = \(ms)") }
                return try queue.read { db in
                    (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                     try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
                }
            }
            try queue.close()
        } catch let error as DatabaseError {
            throw RegistryError.notADatabase(path: path, detail: error.message ?? "\(error.resultCode)")
        }
        if appID == RegistrySchema.applicationID { return }
        if appID != 0 {
            throw RegistryError.foreignDatabase(
                path: path,
                detail: "its application_id is \(appID), a registry's is \(RegistrySchema.applicationID)")
        }
        // Only GRDB's bookkeeping: a creation interrupted before the first migration.
        if tables == ["grdb_migrations"] { return }
        if !tables.isEmpty {
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", ..." : "")
            throw RegistryError.foreignDatabase(path: path, detail: "it holds tables \(shown) and no registry mark")
        }
    }
}
