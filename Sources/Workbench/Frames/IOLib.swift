import FileIO
import Frames
import FramesPostgres
import Foundation
import Lang

/// Parquet and SQL sources and sinks, and records out: `read_parquet`, `write_parquet`,
/// `read_sql`, `to_records`. Part of the data library (Docs/io.md).
let ioFunctions: [NativeFunction] = [
    NativeFunction("read_parquet", [Param("path", .string), Param("columns", .optional(.list), .nil),
                                    Param("label", .optional(.string), .nil), Param("features", .optional(.list), .nil),
                                    Param("filter", .optional(.native("expr")), .nil), Param("shard", .optional(.record), .nil)],
                   doc: "Read a Parquet file, or every file a glob matches (in name order, same columns), into a dataset; `columns` reads only those. Flat schemas; ints, floats, decimals (as float), strings, dates and timestamps (as datetime); PLAIN, dictionary, RLE, DELTA_* and BYTE_STREAM_SPLIT encodings; snappy, gzip and zstd. filter: a column expression; only rows where it is true are kept, and row groups whose min/max statistics rule it out (col vs literal comparisons, and/or of them) are not read. shard: {rank: r, size: n} reads only part r of n (the row groups whose first row lies in the r-th n-th of all rows).",
                   example: "write_parquet(read_csv(\"Scripts/data/iris.csv\"), \"/tmp/mlw-ex.parquet\"); read_parquet(\"/tmp/mlw-ex.parquet\", columns: [\"species\"]).shape",
                   result: "[150, 1]") { a in
        let path = try a.string("path")
        var ds = try readParquet(path, columns: a.isNil("columns") ? nil : try stringList(a, "columns"),
                                 filter: a.isNil("filter") ? nil : try a.native("filter", as: ExprValue.self, "expr").expr, shard: try shardArg(a),
                                 fileHashCache: FileHashCache(root: cacheRoot() + "/files"))
        try setRoles(&ds, a)
        a.interpreter.noteDatasetRead(path: path, ds)
        return .native(DatasetValue(ds))
    },
    NativeFunction("write_parquet", [Param("data", .native("dataset")), Param("path", .string), Param("compression", .string, .string("zstd"))],
                   doc: "Write a dataset as Parquet (nullable columns; int64, double, dictionary-encoded strings, timestamps in microseconds UTC; min/max/null statistics) that pyarrow, pandas, DuckDB and Spark read. compression: \"zstd\", \"snappy\", \"gzip\" or \"none\". The file is replaced atomically.",
                   example: "write_parquet(read_csv(\"Scripts/data/iris.csv\"), \"/tmp/mlw-ex2.parquet\", compression: \"snappy\"); read_parquet(\"/tmp/mlw-ex2.parquet\").rows",
                   result: "150") { a in
        let data = try ds(a)
        guard ["zstd", "snappy", "gzip", "none"].contains(try a.string("compression")) else {
            throw a.invalid("compression", "must be \"zstd\", \"snappy\", \"gzip\" or \"none\"")
        }
        do { try data.writeParquet(to: try a.string("path"), compression: try a.string("compression")) }
        catch let e as SafeWriteError { throw a.invalid("path", e.description) }
        return .nil
    },
    NativeFunction("read_sql", [Param("db", .string), Param("query", .string), Param("params", .list, .list([])),
                                Param("label", .optional(.string), .nil), Param("features", .optional(.list), .nil)],
                   doc: "Run one SQL query and read its rows into a dataset. db: a SQLite file (opened read-only; \":memory:\" for an empty one) or a PostgreSQL URL (postgres://user:pass@host:port/db). Parameters (`?` in SQLite, `$1` in PostgreSQL) are bound, never spliced into the text; column types follow the database's (integers, floats, numerics as float, text, dates and timestamps as datetime).",
                   example: "read_sql(\":memory:\", \"SELECT 2 * ? AS twice, ? AS name\", params: [21, \"ok\"])[0]",
                   result: "{twice: 42, name: \"ok\"}") { a in
        let db = try a.string("db")
        let params = try a.list("params").enumerated().map { i, v -> DataValue in
            do { return try valueToData(v, field: "params") }
            catch { throw a.invalid("params", "item \(i) must be a number, string, bool or nil, got \(v.typeName)") }
        }
        var ds: Dataset
        if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") {
            ds = try readPostgres(db, try a.string("query"), params: params)
        } else {
            ds = try readSQLite(db, try a.string("query"), params: params)
        }
        try setRoles(&ds, a)
        a.interpreter.noteDatasetRead(path: redactURL(db), ds)
        return .native(DatasetValue(ds))
    },
    NativeFunction("to_records", [Param("data", .native("dataset"))],
                   doc: "The dataset's rows as a list of records (missing cells nil, datetimes as ISO-8601 text).",
                   example: "to_records(read_csv(\"Scripts/data/iris.csv\")[0:2])[1].species", result: "\"setosa\"") { a in
        let d = try ds(a)
        guard d.rowCount.multipliedReportingOverflow(by: max(d.columns.count, 1)).partialValue <= 50_000_000 else {
            throw a.invalid("data", "has \(d.rowCount) rows x \(d.columns.count) columns, more than 50 million cells to turn into records")
        }
        let names = d.columnNames
        return .list((0..<d.rowCount).map { r in
            .record(zip(names, d.columns).map { name, c -> (String, Value) in
                let v = c.value(at: r)
                if c.isDatetime, case .int(let t) = v { return (name, .string(Datetime.format(t))) }
                return (name, dataToValue(v))
            })
        })
    },
]

/// `label:` and `features:` as read_csv takes them.
private func setRoles(_ ds: inout Dataset, _ a: Args) throws {
    if !a.isNil("label") {
        let label = try a.string("label")
        _ = try ds.column(label)
        ds.label = label
    }
    if !a.isNil("features") {
        let f = try stringList(a, "features")
        for name in f { _ = try ds.column(name) }
        ds.explicitFeatures = f
    }
}

/// A database URL without its password, for run records and messages.
func redactURL(_ s: String) -> String {
    guard var c = URLComponents(string: s), c.password != nil else { return s }
    c.password = "***"
    return c.string ?? s
}
