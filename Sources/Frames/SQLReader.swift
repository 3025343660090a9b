import CSQLite
import Foundation

/// Reads the result of one SQL query against a SQLite file into a dataset, with the
/// parameters bound (`?` or `?NNN` placeholders), never spliced into the text.
///
///     let users = try readSQLite("data/shop.db", "SELECT user_id, country FROM users WHERE signup_ts >= ?",
///                                params: [.string("2024-01-01")])
///
/// Column types follow the declared SQL types (SQLite's affinity rules): INT -> int;
/// REAL, FLOA, DOUB, NUMERIC, DECIMAL -> float; DATE, TIME (DATETIME, TIMESTAMP) ->
/// datetime (ISO-8601 text, or Unix seconds when numbers); other text -> string.
/// Expressions without a declared type are inferred from their values. The database is
/// opened read-only; `":memory:"` is an empty in-memory database (for computed queries).
///
/// Uses the system libsqlite3 through a small system-library target (CSQLite) rather
/// than GRDB: a read-only query needs a handful of C calls, and Frames stays free of
/// GRDB (the registry's dependency).
public func readSQLite(_ path: String, _ query: String, params: [DataValue] = [], maxCells: Int? = nil) throws -> Dataset {
    let maxCells = maxCells ?? physicalMemoryBytes / 64
    if path != ":memory:" { try InputFile.requireRegular(path) }
    var db: OpaquePointer?
    let flags = SQLITE_OPEN_READONLY | (path == ":memory:" ? SQLITE_OPEN_MEMORY : 0)
    guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
        let m = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
        sqlite3_close(db)
        throw DataError(.io, "cannot open SQLite database: \(m)", file: path)
    }
    defer { sqlite3_close(db) }
    sqlite3_busy_timeout(db, 5000)
    func fail(_ m: String) -> DataError { DataError(.io, "\(m): \(String(cString: sqlite3_errmsg(db)))", file: path) }
    var stmt: OpaquePointer?
    guard sqlite3_prepare_v2(db, query, -1, &stmt, nil) == SQLITE_OK, let stmt else { throw fail("cannot prepare the query") }
    defer { sqlite3_finalize(stmt) }
    let want = Int(sqlite3_bind_parameter_count(stmt))
    guard want == params.count else {
        throw DataError(.badArgument, "the query has \(want) parameter\(want == 1 ? "" : "s"), \(params.count) given", file: path)
    }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    for (i, p) in params.enumerated() {
        let k = Int32(i + 1)
        let rc: Int32
        switch p {
        case .null: rc = sqlite3_bind_null(stmt, k)
        case .bool(let b): rc = sqlite3_bind_int64(stmt, k, b ? 1 : 0)
        case .int(let v): rc = sqlite3_bind_int64(stmt, k, Int64(v))
        case .double(let v): rc = sqlite3_bind_double(stmt, k, v)
        case .string(let s): rc = sqlite3_bind_text(stmt, k, s, -1, transient)
        }
        guard rc == SQLITE_OK else { throw fail("cannot bind parameter \(i + 1)") }
    }
    let n = Int(sqlite3_column_count(stmt))
    let names = (0..<n).map { String(cString: sqlite3_column_name(stmt, Int32($0))) }
    let declared = (0..<n).map { sqlite3_column_decltype(stmt, Int32($0)).map { String(cString: $0) } }
    var cells = [[DataValue]](repeating: [], count: n)
    var rows = 0
    while true {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_DONE { break }
        guard rc == SQLITE_ROW else { throw fail("query failed at row \(rows + 1)") }
        rows += 1
        guard rows * max(n, 1) <= maxCells else {
            throw DataError(.tooLarge, "the result has more than \(maxCells / max(n, 1)) rows (the limit for \(n) columns)", file: path)
        }
        for j in 0..<n {
            let c = Int32(j)
            switch sqlite3_column_type(stmt, c) {
            case SQLITE_NULL: cells[j].append(.null)
            case SQLITE_INTEGER: cells[j].append(.int(Int(sqlite3_column_int64(stmt, c))))
            case SQLITE_FLOAT: cells[j].append(.double(sqlite3_column_double(stmt, c)))
            default:
                let len = Int(sqlite3_column_bytes(stmt, c))
                if let t = sqlite3_column_text(stmt, c) {
                    let bytes = UnsafeBufferPointer(start: t, count: len)
                    guard let s = String(validating: bytes, as: UTF8.self) else {
                        throw DataError(.invalidUTF8, "row \(rows): not valid UTF-8 text", file: path, column: names[j])
                    }
                    cells[j].append(.string(s))
                } else {
                    cells[j].append(.string(""))
                }
            }
        }
    }
    var columns: [Column] = []
    for j in 0..<n {
        columns.append(try sqlColumn(names[j], declared: declared[j], cells[j], file: path))
    }
    guard Set(names).count == names.count else {
        throw DataError(.badArgument, "the query returns a column name twice (\(names.joined(separator: ", "))): name them with AS", file: path)
    }
    var h = SHA256()
    h.update(path == ":memory:" ? "memory" : try SHA256.hexOfFile(path))
    return Dataset(columns: columns, sourceLines: [Int](repeating: 0, count: rows),
                   lineage: Lineage(source: "read_sql", contentHash: h.finalizeHex(), params: sqlLineageParams(query, params)))
}

/// The query and its parameters, as lineage records them.
func sqlLineageParams(_ query: String, _ params: [DataValue]) -> String {
    "query=\(query) params=[" + params.map { v -> String in
        if case .string(let s) = v { return "\"\(s)\"" }
        return v.description
    }.joined(separator: ",") + "]"
}

/// A column from database cells: the declared type (SQLite affinity rules) when there is one.
func sqlColumn(_ name: String, declared: String?, _ values: [DataValue], file: String) throws -> Column {
    let missing = values.map(\.isNull)
    let t = (declared ?? "").uppercased()
    func conflict(_ r: Int, _ type: String) -> DataError {
        DataError(.typeConflict, "row \(r + 1): value '\(values[r])' is not \(type) (declared \(declared ?? ""))", file: file, column: name)
    }
    if t.contains("DATE") || t.contains("TIME") {
        var out = [Int](repeating: 0, count: values.count)
        for (r, v) in values.enumerated() {
            switch v {
            case .null: break
            case .string(let s): guard let m = Datetime.parse(s) else { throw conflict(r, "an ISO-8601 date or timestamp") }; out[r] = m
            case .int(let s): out[r] = s.multipliedReportingOverflow(by: 1_000_000).partialValue
            case .double(let s): out[r] = Int((s * 1e6).rounded())
            case .bool: throw conflict(r, "a date")
            }
        }
        return .datetime(name: name, micros: out, missing: missing)
    }
    if t.contains("INT") {
        if values.allSatisfy({ if case .int = $0 { return true }; return $0.isNull }) {
            return Column(name: name, data: .int(values.map { if case .int(let i) = $0 { return i }; return 0 }), missing: missing)
        }
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("NUMERIC") || t.contains("DECIMAL") {
        if values.allSatisfy({ $0.number != nil || $0.isNull }) {
            return Column(name: name, data: .float(values.map { $0.number ?? .nan }), missing: missing)
        }
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        return Column(name: name, data: .string(values.map { $0.isNull ? "" : $0.description }), missing: missing)
    }
    // No declared type (an expression) or values that do not fit it (SQLite stores any value
    // in any column): inferred from the values, text kept as text.
    let c = inferColumn(from: values, name: name, maxCategoryLevels: 0)
    return c
}
