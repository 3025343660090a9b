import Foundation
import Logging
import NIOCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// One value bound to a `$n` parameter.
enum PGArg: Sendable {
    case text(String?), int(Int?), double(Double?), date(Date?), bytes([UInt8])
}

/// One connection to the server, used by one `Registry` from any thread (a lock serializes
/// it). The registry's API is synchronous, so each statement waits for NIO's future on the
/// calling thread (never an event-loop thread).
final class PostgresSession: @unchecked Sendable {
    let location: PostgresLocation
    private let lock = NSLock()
    private var connection: PostgresConnection?
    static let logger = Logger(label: "mlw.registry.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Serialization failures and deadlocks are retried this many times (with a random
    /// back-off) before the error reaches the caller.
    static let maxRetries = 60

    init(_ location: PostgresLocation) { self.location = location }

    deinit { if let connection { _ = try? connection.close().wait() } }

    static func connect(_ location: PostgresLocation) throws -> PostgresConnection {
        let config = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                      password: location.password, database: location.database, tls: .disable)
        do {
            let connection = try PostgresConnection.connect(on: PostgresConnection.defaultEventLoopGroup.any(), configuration: config,
                                                            id: 1, logger: logger).wait()
            if let schema = location.schema {
                // Two sessions creating the same schema at once may race; the loser's error is harmless.
                _ = try? connection.simpleQuery("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"").wait()
                _ = try connection.simpleQuery("SET search_path TO \"\(schema)\"").wait()
            }
            return connection
        } catch {
            throw RegistryError.storage("cannot connect to \(location): \(PostgresSession.message(error))")
        }
    }

    private func current() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let made = try PostgresSession.connect(location)
        connection = made
        return made
    }

    /// `body` in one transaction: SERIALIZABLE for writes (retried on serialization
    /// failures and deadlocks, so concurrent writers never lose an update), REPEATABLE READ
    /// READ ONLY for reads (a consistent snapshot that never fails to serialize).
    func transaction<T>(write: Bool, _ body: (PGTx) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        var attempt = 0
        while true {
            let connection = try current()
            let tx = PGTx(connection: connection)
            do {
                try tx.execute(write ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                let result = try body(tx)
                try tx.execute("COMMIT")
                return result
            } catch {
                _ = try? tx.execute("ROLLBACK")
                if PostgresSession.isRetryable(error), attempt < PostgresSession.maxRetries {
                    attempt += 1
                    usleep(UInt32.random(in: 1_000...(5_000 * UInt32(min(attempt, 20)))))
                    continue
                }
                throw PostgresSession.mapped(error)
            }
        }
    }

    /// Statements outside any transaction (schema set-up takes its own lock).
    func withConnection<T>(_ body: (PGTx) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do { return try body(PGTx(connection: try current())) } catch { throw PostgresSession.mapped(error) }
    }

    static func sqlState(_ error: Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// 40001 serialization_failure, 40P01 deadlock_detected.
    static func isRetryable(_ error: Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state == "40001" || state == "40P01"
    }

    static func message(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let m = e.serverInfo?[.message] { return m + (e.serverInfo?[.detail].map { " (\($0))" } ?? "") }
            return "\(e.code)"
        }
        return "\(error)"
    }

    static func mapped(_ error: Error) -> Error {
        if error is RegistryError { return error }
        return RegistryError.storage("PostgreSQL: \(message(error))")
    }
}

/// The statements of one transaction.
struct PGTx {
    let connection: PostgresConnection

    private func query(_ sql: String, _ args: [PGArg]) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: args.count)
        for arg in args {
            switch arg {
            case let .text(v): if let v { try binds.append(v) } else { binds.appendNull() }
            case let .int(v): if let v { try binds.append(v) } else { binds.appendNull() }
            case let .double(v): if let v { try binds.append(v) } else { binds.appendNull() }
            case let .date(v): if let v { try binds.append(v) } else { binds.appendNull() }
            case let .bytes(v): try binds.append(ByteBuffer(bytes: v))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ args: [PGArg] = []) throws -> Int {
        try connection.query(try query(sql, args), logger: PostgresSession.logger).wait().metadata.rows ?? 0
    }

    func rows(_ sql: String, _ args: [PGArg] = []) throws -> [PostgresRandomAccessRow] {
        try connection.query(try query(sql, args), logger: PostgresSession.logger).wait().rows.map { $0.makeRandomAccess() }
    }

    /// Several statements separated by `;` at line ends (the migrations; no parameters).
    /// Each goes on its own: the extended protocol takes one statement per message.
    func script(_ sql: String) throws {
        for statement in sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try execute(statement.trimmingCharacters(in: CharacterSet(charactersIn: "; \n")))
        }
    }

    func row(_ sql: String, _ args: [PGArg] = []) throws -> PostgresRandomAccessRow? { try rows(sql, args).first }
}

extension PostgresRandomAccessRow {
    /// The column's value; dates come back cut to milliseconds, as the SQLite store keeps them.
    func get<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T {
        let value = try self[column].decode(T.self)
        if let date = value as? Date, let cut = Registry.ms(date) as? T { return cut }
        if let date = value as? Date?, let some = date, let cut = Optional(Registry.ms(some)) as? T { return cut }
        return value
    }
}
