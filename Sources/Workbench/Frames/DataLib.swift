import Frames
import Foundation
import Lang

/// The data library: readers, reports, validation, splits and transforms.
let dataLibrary = Library("data", doc: "Datasets: read CSV/JSONL, describe, validate, split, transform; lineage hashes.", [
    NativeFunction("read_csv", [Param("path", .string), Param("label", .optional(.string), .nil),
                                Param("features", .optional(.list), .nil), Param("delimiter", .string, .string(",")),
                                Param("header", .bool, .bool(true)), Param("schema", .optional(.record), .nil),
                                Param("missing", .optional(.list), .nil), Param("shard", .optional(.record), .nil)],
                   doc: "Read a CSV file (RFC 4180) into a dataset; column types are inferred unless schema gives them ({col: \"int\"|\"float\"|\"string\"|\"category\"}). shard: {rank: r, size: n} reads only part r of n (the records whose first byte lies in the r-th n-th of the data bytes; every part reads the header; quoted newlines never split a record); give a schema so every part infers the same types.",
                   example: "[read_csv(\"Scripts/data/iris.csv\", label: \"species\").rows, read_csv(\"Scripts/data/iris.csv\", shard: {rank: 1, size: 3}).rows]", result: "[150, 48]") { a in
        let delim = try a.string("delimiter")
        guard delim.count == 1, let d = delim.first else { throw a.invalid("delimiter", "must be one character") }
        var opts = CSVOptions(delimiter: d, hasHeader: try a.bool("header"),
                              label: a.isNil("label") ? nil : try a.string("label"),
                              features: a.isNil("features") ? nil : try stringList(a, "features"))
        if !a.isNil("schema") {
            for (k, v) in zip(try a.record("schema").keys, try a.record("schema").values) {
                guard case .string(let t) = v, let ct = ColumnType(rawValue: t) else {
                    throw a.invalid("schema", "type of '\(k)' must be one of int, float, string, category")
                }
                opts.types[k] = ct
            }
        }
        if !a.isNil("missing") { opts.missingValues = Set(try stringList(a, "missing")) }
        opts.shard = try shardArg(a)
        // Re-reading an unchanged file reuses its content hash (keyed by path, size, mtime).
        opts.fileHashCache = FileHashCache(root: cacheRoot() + "/files")
        let ds = try readCSV(try a.string("path"), options: opts)
        a.interpreter.noteDatasetRead(path: try a.string("path"), ds)
        return .native(DatasetValue(ds))
    },
    NativeFunction("read_jsonl", [Param("path", .string), Param("label", .optional(.string), .nil),
                                  Param("features", .optional(.list), .nil)],
                   doc: "Read JSON Lines (one object per line) into a dataset.",
                   example: "write_text(\"/tmp/mlw-ex.jsonl\", \"\\{\\\"x\\\": 1\\}\\n\"); read_jsonl(\"/tmp/mlw-ex.jsonl\").rows", result: "1") { a in
        let ds = try readJSONL(try a.string("path"), label: a.isNil("label") ? nil : try a.string("label"),
                               features: a.isNil("features") ? nil : try stringList(a, "features"))
        a.interpreter.noteDatasetRead(path: try a.string("path"), ds)
        return .native(DatasetValue(ds))
    },
    NativeFunction("describe", [Param("data", .native("dataset"))],
                   doc: "Print a data-quality report: rows, and per column its type, missing count, min/max/mean/std, distinct values, top categories.",
                   example: "describe(read_csv(\"Scripts/data/iris.csv\"))") { a in
        a.interpreter.output(describe(try ds(a)).description + "\n")
        return .nil
    },
    NativeFunction("validate", [Param("data", .native("dataset")), Param("schema", .record), Param("mode", .string, .string("fail"))],
                   doc: "Check types, ranges (min/max), allowed values, nullability and uniqueness per column; mode \"fail\" stops with every violation (column and CSV line), \"drop\" removes bad rows and records how many.",
                   example: "validate(read_csv(\"Scripts/data/iris.csv\"), schema: {sepal_length: {min: 0, max: 10}}).rows", result: "150") { a in
        guard let mode = ValidationMode(rawValue: try a.string("mode")) else { throw a.invalid("mode", "must be \"fail\" or \"drop\"") }
        let json = try Value.record(try a.record("schema")).json()
        let schema = try Schema(json: Data(json.utf8))
        let result = try validate(try ds(a), schema: schema, mode: mode)
        if mode == .drop && result.report.droppedRows > 0 {
            FileHandle.standardError.write(Data("validate: dropped \(result.report.droppedRows) of \(result.report.rowsChecked) rows\n".utf8))
        }
        return .native(DatasetValue(result.dataset))
    },
    NativeFunction("split", [Param("data", .native("dataset")), Param("train", .number), Param("val", .number, .float(0)),
                             Param("test", .optional(.number), .nil), Param("stratify", .bool, .bool(false)), Param("seed", .int, .int(0))],
                   doc: "Split rows into {train, val, test} by fractions, seeded, optionally stratified by the label.",
                   example: "split(read_csv(\"Scripts/data/iris.csv\", label: \"species\"), train: 0.8, stratify: true, seed: 1).train.rows", result: "120") { a in
        let parts = try Frames.split(try ds(a), train: try a.finite("train"), val: try a.finite("val"),
                                   test: a.isNil("test") ? nil : try a.finite("test"),
                                   stratify: try a.bool("stratify"), seed: UInt64(bitPattern: Int64(try a.int("seed"))))
        return .record([("train", .native(DatasetValue(parts.train))), ("val", .native(DatasetValue(parts.val))),
                        ("test", .native(DatasetValue(parts.test)))])
    },
    NativeFunction("shuffle", [Param("data", .native("dataset")), Param("seed", .int, .int(0))],
                   doc: "Rows in a seeded random order.", example: "shuffle(read_csv(\"Scripts/data/iris.csv\"), seed: 3).rows", result: "150") { a in
        .native(DatasetValue(try ds(a).shuffled(seed: UInt64(bitPattern: Int64(try a.int("seed"))))))
    },
    NativeFunction("select", [Param("data", .native("dataset")), Param("columns", .list)], doc: "Keep only these columns.",
                   example: "select(read_csv(\"Scripts/data/iris.csv\"), [\"species\"]).columns", result: "[\"species\"]") { a in
        return .native(DatasetValue(try ds(a).select(try stringList(a, "columns"))))
    },
    NativeFunction("drop", [Param("data", .native("dataset")), Param("columns", .list)], doc: "Remove these columns.",
                   example: "len(drop(read_csv(\"Scripts/data/iris.csv\"), [\"species\"]).columns)", result: "4") { a in
        return .native(DatasetValue(try ds(a).drop(try stringList(a, "columns"))))
    },
    NativeFunction("rename", [Param("data", .native("dataset")), Param("names", .record)], doc: "Rename columns: {old: \"new\"}.",
                   example: "rename(read_csv(\"Scripts/data/iris.csv\"), {species: \"y\"}).columns[-1]", result: "\"y\"") { a in
        var m: [String: String] = [:]
        let r = try a.record("names")
        for (k, v) in zip(r.keys, r.values) {
            guard case .string(let s) = v else { throw a.invalid("names", "new name of '\(k)' must be a string") }
            m[k] = s
        }
        return .native(DatasetValue(try ds(a).rename(m)))
    },
    NativeFunction("with_label", [Param("data", .native("dataset")), Param("label", .optional(.string)), Param("features", .optional(.list), .nil)],
                   doc: "Set the label column (and optionally the feature columns).",
                   example: "with_label(read_csv(\"Scripts/data/iris.csv\"), \"species\").label", result: "\"species\"") { a in
        return .native(DatasetValue(try ds(a).withRoles(label: a.isNil("label") ? nil : try a.string("label"),
                                                        features: a.isNil("features") ? nil : try stringList(a, "features"))))
    },
    NativeFunction("filter_rows", [Param("data", .native("dataset")), Param("keep", .function)],
                   doc: "Rows for which keep(row record) is true.",
                   example: "filter_rows(read_csv(\"Scripts/data/iris.csv\"), |r| r.sepal_length > 7).rows", result: "12") { a in
        let f = a["keep"]
        let src = try ds(a)
        let code = (try? a.function("keep")).flatMap { if case .function(let fn) = $0 { return fn.sourceText } else { return nil } } ?? ""
        return .native(DatasetValue(try src.filter(code) { row in
            let rec = Value.record(src.columnNames.map { ($0, dataToValue(row[$0] ?? .null)) })
            guard case .bool(let keep) = try a.call(f, [rec]) else { throw a.invalid("keep", "must return a bool") }
            return keep
        }))
    },
    NativeFunction("map_column", [Param("data", .native("dataset")), Param("column", .string), Param("f", .function),
                                  Param("to", .optional(.string), .nil)],
                   doc: "Replace a column (or add column `to`) with f(value) for each row.",
                   example: "map_column(read_csv(\"Scripts/data/iris.csv\"), \"sepal_length\", |x| x * 10)[\"sepal_length\"][0]", result: "51.0") { a in
        let f = a["f"]
        let code = (try? a.function("f")).flatMap { if case .function(let fn) = $0 { return fn.sourceText } else { return nil } } ?? ""
        return .native(DatasetValue(try ds(a).map(try a.string("column"), to: a.isNil("to") ? nil : try a.string("to"), name: code) { v in
            try valueToData(try a.call(f, [dataToValue(v)]), field: try a.string("column"))
        }))
    },
] + datasetShapeFunctions + transformFunctions + dataTensorFunctions + writeFunctions + ioFunctions + groupFunctions + wrangleFunctions + exprFunctions)

/// Size and ends of a dataset: `len(ds)`, `head(ds, n)`, `tail(ds, n)` (also `ds.head(n)`).
let datasetShapeFunctions: [NativeFunction] = [
    NativeFunction("len", [Param("data", .native("dataset"))], doc: "Number of rows of a dataset (ds.rows).",
                   example: "len(read_csv(\"Scripts/data/iris.csv\"))", result: "150") { a in
        .int(try ds(a).rowCount)
    },
    NativeFunction("head", [Param("data", .native("dataset")), Param("n", .int, .int(5))],
                   doc: "The first n rows (all when there are fewer), as a dataset.",
                   example: "read_csv(\"Scripts/data/iris.csv\").head(3).rows", result: "3") { a in
        .native(DatasetValue(try ds(a).head(try a.count("n", max: Int.max))))
    },
    NativeFunction("tail", [Param("data", .native("dataset")), Param("n", .int, .int(5))],
                   doc: "The last n rows (all when there are fewer), as a dataset.",
                   example: "read_csv(\"Scripts/data/iris.csv\").tail(2)[\"species\"]", result: "[\"virginica\", \"virginica\"]") { a in
        .native(DatasetValue(try ds(a).tail(try a.count("n", max: Int.max))))
    },
]

func ds(_ a: Args, _ name: String = "data") throws -> Dataset {
    try a.native(name, as: DatasetValue.self, "dataset").ds
}

func stringList(_ a: Args, _ name: String) throws -> [String] {
    try a.list(name).map { v in
        guard case .string(let s) = v else { throw a.invalid(name, "must be a list of strings, found \(v.typeName)") }
        return s
    }
}

extension Interpreter {
    /// Datasets a script read, for the run record (the registry binding reads this).
    public var datasetsRead: [(path: String, hash: String, rows: Int, columns: [String])] {
        (extensions["data.read"] as? DatasetLog)?.entries ?? []
    }

    func noteDatasetRead(path: String, _ ds: Dataset) {
        let log = (extensions["data.read"] as? DatasetLog) ?? DatasetLog()
        extensions["data.read"] = log
        log.entries.append((path, ds.lineage.hash, ds.rowCount, ds.columnNames))
    }
}

final class DatasetLog {
    var entries: [(path: String, hash: String, rows: Int, columns: [String])] = []
}
