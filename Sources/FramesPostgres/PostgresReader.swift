import Foundation
import Frames
import Logging
import NIOCore
import PostgresNIO

/// `read_sql` against PostgreSQL (`postgres://user:password@host:port/database`), through
/// postgres-nio. A target of its own so Frames stays free of SwiftNIO; the caller (the
/// interpreter's own thread) blocks until the query's rows are in.
///
///     let ds = try readPostgres("postgres://mlw@127.0.0.1:5432/shop", "SELECT * FROM users WHERE country = $1",
///                               params: [.string("FR")])
///
/// Parameters are bound (`$1`, `$2`, ...), never spliced into the text. Types: int2/4/8 ->
/// int; float4/8 and numeric -> float; bool -> int (0/1); text, varchar, char, name, json,
/// uuid -> string; date, timestamp, timestamptz -> datetime (UTC). Other types are refused
/// by name. A result with no rows still has the query's columns, typed from the row
/// description (an unsupported type there reads as an empty float column).
public func readPostgres(_ url: String, _ query: String, params: [DataValue] = [], maxCells: Int = 1 << 28) throws -> Dataset {
    let shown = redacted(url)
    guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
        throw DataError(.badArgument, "not a PostgreSQL URL (postgres://user:password@host:port/database)", file: shown)
    }
    let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
    let config = PostgresClient.Configuration(host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
                                              password: c.password, database: database.isEmpty ? nil : database, tls: .disable)
    var binds = PostgresBindings()
    for p in params {
        switch p {
        case .null: binds.appendNull()
        case .bool(let b): binds.append(b)
        case .int(let v): binds.append(v)
        case .double(let v): binds.append(v)
        case .string(let s): binds.append(s)
        }
    }
    let box = ResultBox()
    let done = DispatchSemaphore(value: 0)
    let queryBinds = binds
    Task.detached {
        do { box.set(.success(try await run(config, PostgresQuery(unsafeSQL: query, binds: queryBinds), maxCells: maxCells))) }
        catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    var cells: Cells
    switch box.get()! {
    case .success(let c): cells = c
    case .failure(let e as DataError): var e = e; e.file = shown; throw e
    case .failure(let e as PSQLError):
        let m = e.serverInfo?[.message] ?? "\(e.code)"
        throw DataError(.io, "PostgreSQL: \(m)", file: shown)
    case .failure(let e): throw DataError(.io, "PostgreSQL: \(e)", file: shown)
    }
    var columns: [Column] = []
    for (j, name) in cells.names.enumerated() {
        let values = cells.values[j]
        if cells.rows == 0 {
            columns.append(emptyColumn(name, cells.types[j]))
        } else if cells.datetime[j] {
            columns.append(.datetime(name: name, micros: values.map { if case .int(let v) = $0 { return v }; return 0 }, missing: values.map(\.isNull)))
        } else {
            columns.append(postgresColumn(name, values))
        }
    }
    cells.values = []
    let lineageParams = "query=\(query) params=[" + params.map { if case .string(let s) = $0 { return "\"\(s)\"" }; return $0.description }.joined(separator: ",") + "]"
    // The database is not a file: lineage keys on the URL (without password) and the query.
    var h = SHA256()
    h.update(shown)
    return Dataset(columns: columns, sourceLines: [Int](repeating: 0, count: cells.rows),
                   lineage: Lineage(source: "read_sql", contentHash: h.finalizeHex(), params: lineageParams))
}

struct Cells: Sendable {
    var names: [String] = []
    var values: [[DataValue]] = []
    var datetime: [Bool] = []
    /// Each column's type, from the row description (sent before any row).
    var types: [PostgresDataType] = []
    var rows = 0
}

/// A column of no rows with the type its PostgreSQL type maps to.
private func emptyColumn(_ name: String, _ type: PostgresDataType) -> Column {
    switch type {
    case .int2, .int4, .int8, .bool: return Column(name: name, data: .int([]))
    case .text, .varchar, .bpchar, .name, .json, .jsonb, .uuid: return Column(name: name, data: .string([]))
    case .date, .timestamp, .timestamptz: return .datetime(name: name, micros: [], missing: [])
    default: return Column(name: name, data: .float([]))
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Cells, Error>?
    func set(_ v: Result<Cells, Error>) { lock.lock(); value = v; lock.unlock() }
    func get() -> Result<Cells, Error>? { lock.lock(); defer { lock.unlock() }; return value }
}

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
let postgresEpochMicros = 946_684_800_000_000

private func run(_ config: PostgresClient.Configuration, _ query: PostgresQuery, maxCells: Int) async throws -> Cells {
    let client = PostgresClient(configuration: config, backgroundLogger: Logger(label: "mlw.read_sql", factory: { _ in SwiftLogNoOpLogHandler() }))
    return try await withThrowingTaskGroup(of: Cells?.self) { group in
        group.addTask { await client.run(); return nil }
        let rows = try await client.query(query)
        var out = Cells()
        // Names and types from the row description, so a query with no rows keeps its columns.
        for column in rows.columns {
            out.names.append(column.name); out.values.append([]); out.datetime.append(false); out.types.append(column.dataType)
        }
        for try await row in rows {
            out.rows += 1
            guard out.rows * max(out.names.count, 1) <= maxCells else {
                throw DataError(.tooLarge, "the result has more than \(maxCells / max(out.names.count, 1)) rows (the limit for \(out.names.count) columns)")
            }
            for (j, cell) in row.enumerated() {
                let (v, isTime) = try decode(cell, row: out.rows)
                out.values[j].append(v)
                if isTime { out.datetime[j] = true }
            }
        }
        group.cancelAll()
        return out
    }
}

private func decode(_ cell: PostgresCell, row: Int) throws -> (DataValue, Bool) {
    guard var bytes = cell.bytes else { return (.null, [.date, .timestamp, .timestamptz].contains(cell.dataType)) }
    switch cell.dataType {
    case .int2, .int4, .int8: return (.int(try cell.decode(Int.self)), false)
    case .float4, .float8: return (.double(try cell.decode(Double.self)), false)
    case .numeric: return (.double(NSDecimalNumber(decimal: try cell.decode(Decimal.self)).doubleValue), false)
    case .bool: return (.int(try cell.decode(Bool.self) ? 1 : 0), false)
    case .text, .varchar, .bpchar, .name, .json, .jsonb, .uuid:
        return (.string(try cell.decode(String.self)), false)
    case .date:
        guard cell.format == .binary, let days = bytes.readInteger(as: Int32.self) else { break }
        return (.int(Int(days) * 86_400_000_000 + postgresEpochMicros), true)
    case .timestamp, .timestamptz:
        guard cell.format == .binary, let micros = bytes.readInteger(as: Int64.self) else { break }
        return (.int(Int(micros) + postgresEpochMicros), true)
    default: break
    }
    throw DataError(.typeConflict, "row \(row): PostgreSQL type \(cell.dataType) is not supported (cast it in the query, e.g. ::text or ::float8)",
                    column: cell.columnName)
}

/// Text columns stay text; numbers by their kind (a column of nulls reads as float).
private func postgresColumn(_ name: String, _ values: [DataValue]) -> Column {
    let missing = values.map(\.isNull)
    if values.contains(where: { if case .string = $0 { return true }; return false }) {
        return Column(name: name, data: .string(values.map { $0.isNull ? "" : $0.description }), missing: missing)
    }
    if values.allSatisfy({ if case .int = $0 { return true }; return $0.isNull }) && !values.allSatisfy(\.isNull) {
        return Column(name: name, data: .int(values.map { if case .int(let i) = $0 { return i }; return 0 }), missing: missing)
    }
    return Column(name: name, data: .float(values.map { $0.number ?? .nan }), missing: missing)
}

/// The URL without its password.
func redacted(_ s: String) -> String {
    guard var c = URLComponents(string: s), c.password != nil else { return s }
    c.password = "***"
    return c.string ?? s
}
