import Frames
import Foundation
import Lang

private let tx = "from_records([{user: \"a\", amount: 3}, {user: \"b\", amount: 5}, {user: \"a\", amount: nil}])"
private let users = "from_records([{user: \"a\", country: \"FR\"}, {user: \"c\", country: \"DE\"}])"

private func out(_ d: Dataset) -> Value { .native(DatasetValue(d)) }

/// Joins, row operations and inspection of datasets (`Frames/Join.swift`, `RowOps.swift`).
let wrangleFunctions: [NativeFunction] = [
    NativeFunction("join", [Param("left", .native("dataset")), Param("right", .native("dataset")),
                            Param("on", .optional(.list), .nil), Param("how", .string, .string("inner")),
                            Param("left_on", .optional(.list), .nil), Param("right_on", .optional(.list), .nil),
                            Param("suffixes", .list, .list([.string("_x"), .string("_y")]))],
                   doc: "Hash join on key columns (on:, or left_on:/right_on:); how: \"inner\", \"left\", \"outer\", \"semi\" or \"anti\". Null keys never match; rows follow the left side's order; clashing names get suffixes (\"_x\", \"_y\").",
                   example: "join(\(tx), \(users), on: [\"user\"], how: \"left\")[\"country\"]", result: "[\"FR\", nil, \"FR\"]") { a in
        guard let how = JoinKind(rawValue: try a.string("how")) else {
            throw a.invalid("how", "must be one of inner, left, outer, semi, anti")
        }
        let on = a.isNil("on") ? nil : try stringList(a, "on")
        let lo = a.isNil("left_on") ? nil : try stringList(a, "left_on")
        let ro = a.isNil("right_on") ? nil : try stringList(a, "right_on")
        guard (on != nil) != (lo != nil || ro != nil), on != nil || (lo != nil && ro != nil) else {
            throw a.invalid("on", "give either on: or both left_on: and right_on:")
        }
        let sfx = try stringList(a, "suffixes")
        guard sfx.count == 2, sfx[0] != sfx[1] else { throw a.invalid("suffixes", "must be two different strings") }
        return out(try ds(a, "left").join(try ds(a, "right"), leftOn: on ?? lo!, rightOn: on ?? ro!, how: how,
                                         suffixes: (sfx[0], sfx[1])))
    },
    NativeFunction("sort_by", [Param("data", .native("dataset")), Param("columns", .list), Param("descending", .oneOf([.bool, .list]), .bool(false))],
                   doc: "Rows ordered by columns (stable; missing cells last). descending: one bool, or one per column.",
                   example: "sort_by(\(tx), [\"amount\"], descending: true)[\"amount\"]", result: "[5, 3, nil]") { a in
        let cols = try stringList(a, "columns")
        var desc: [Bool]
        if case .bool(let b) = a["descending"] { desc = [Bool](repeating: b, count: cols.count) } else {
            desc = try a.list("descending").map { v in
                guard case .bool(let b) = v else { throw a.invalid("descending", "must be a list of bools") }
                return b
            }
        }
        return out(try ds(a).sortBy(cols, descending: desc))
    },
    NativeFunction("sample", [Param("data", .native("dataset")), Param("n", .optional(.int), .nil),
                              Param("frac", .optional(.number), .nil), Param("seed", .int, .int(0))],
                   doc: "n rows (or a fraction frac of them) drawn without replacement, seeded.",
                   example: "sample(\(tx), n: 2, seed: 1).rows", result: "2") { a in
        out(try ds(a).sample(n: a.isNil("n") ? nil : try a.int("n"), fraction: a.isNil("frac") ? nil : try a.finite("frac"),
                             seed: UInt64(bitPattern: Int64(try a.int("seed")))))
    },
    NativeFunction("drop_duplicates", [Param("data", .native("dataset")), Param("on", .optional(.list), .nil)],
                   doc: "The first row of each distinct tuple of the on: columns (default: all columns).",
                   example: "drop_duplicates(\(tx), on: [\"user\"]).rows", result: "2") { a in
        out(try ds(a).dropDuplicates(on: try optionalList(a, "on")))
    },
    NativeFunction("drop_nulls", [Param("data", .native("dataset")), Param("on", .optional(.list), .nil)],
                   doc: "Rows with no missing cell in the on: columns (default: all columns).",
                   example: "drop_nulls(\(tx)).rows", result: "2") { a in
        out(try ds(a).dropNulls(on: try optionalList(a, "on")))
    },
    NativeFunction("fill_null", [Param("data", .native("dataset")), Param("column", .string), Param("value", .oneOf([.number, .string]))],
                   doc: "Missing cells of a column set to value.",
                   example: "fill_null(\(tx), \"amount\", 0)[\"amount\"]", result: "[3, 5, 0]") { a in
        out(try ds(a).fillNull(try a.string("column"), try valueToData(a["value"], field: "value")))
    },
    NativeFunction("slice", [Param("data", .native("dataset")), Param("start", .int), Param("end", .optional(.int), .nil)],
                   doc: "Rows start..<end (clamped; negative counts from the end), like ds[start:end].",
                   example: "slice(\(tx), 1, 3)[\"user\"]", result: "[\"b\", \"a\"]") { a in
        out(try ds(a).slice(try a.int("start"), a.isNil("end") ? nil : try a.int("end")))
    },
    NativeFunction("hconcat", [Param("left", .native("dataset")), Param("right", .native("dataset"))],
                   doc: "Columns of right beside those of left (same row count, no shared names).",
                   example: "hconcat(\(tx), select(\(tx), [\"amount\"]) |> rename({amount: \"a2\"})).columns", result: "[\"user\", \"amount\", \"a2\"]") { a in
        out(try ds(a, "left").hconcat(try ds(a, "right")))
    },
    NativeFunction("value_counts", [Param("data", .native("dataset")), Param("column", .string)],
                   doc: "Distinct non-missing values of a column and their counts (columns: the column, count), most frequent first.",
                   example: "value_counts(\(tx), \"user\")[\"count\"]", result: "[2, 1]") { a in
        out(try ds(a).valueCounts(try a.string("column")))
    },
    NativeFunction("unique", [Param("data", .native("dataset")), Param("column", .string)],
                   doc: "The distinct non-missing values of a column, sorted, as a list.",
                   example: "unique(\(tx), \"user\")", result: "[\"a\", \"b\"]") { a in
        let u = try ds(a).unique(try a.string("column"))
        let c = u.columns[0]
        return .list((0..<c.count).map { dataToValue(c.value(at: $0)) })
    },
    NativeFunction("pivot", [Param("data", .native("dataset")), Param("index", .oneOf([.string, .list])), Param("columns", .string),
                             Param("values", .string), Param("agg", .string, .string("mean"))],
                   doc: "Long to wide: one row per index value (sorted), one column per distinct value of `columns` (sorted), cells the agg (\"sum\", \"mean\", \"count\", \"min\", \"max\", \"median\", \"first\", \"last\", \"n_unique\", \"std\") of `values`, as pandas.pivot_table.",
                   example: "pivot(from_records([{u: \"a\", m: \"x\", v: 1}, {u: \"a\", m: \"y\", v: 2}, {u: \"b\", m: \"x\", v: 3}]), index: \"u\", columns: \"m\", values: \"v\", agg: \"sum\")[\"y\"]",
                   result: "[2, nil]") { a in
        let index: [String]
        if case .string(let s) = a["index"] { index = [s] } else { index = try stringList(a, "index") }
        let values = try a.string("values")
        let agg: Aggregation
        switch try a.string("agg") {
        case "sum": agg = .sum(values)
        case "mean": agg = .mean(values)
        case "count": agg = .count(values)
        case "min": agg = .min(values)
        case "max": agg = .max(values)
        case "median": agg = .median(values)
        case "first": agg = .first(values)
        case "last": agg = .last(values)
        case "n_unique": agg = .nUnique(values)
        case "std": agg = .std(values)
        default: throw a.invalid("agg", "must be one of sum, mean, count, min, max, median, first, last, n_unique, std")
        }
        return out(try ds(a).pivot(index: index, columns: try a.string("columns"), values: values, agg: agg))
    },
    NativeFunction("melt", [Param("data", .native("dataset")), Param("id_vars", .list), Param("value_vars", .optional(.list), .nil),
                            Param("var_name", .string, .string("variable")), Param("value_name", .string, .string("value"))],
                   doc: "Wide to long: for each value column (default: all but id_vars) every row once, with the id columns, its name (var_name) and its cell (value_name), as pandas.melt.",
                   example: "melt(\(tx), id_vars: [\"user\"], value_vars: [\"amount\"]).columns", result: "[\"user\", \"variable\", \"value\"]") { a in
        out(try ds(a).melt(idVars: try stringList(a, "id_vars"), valueVars: try optionalList(a, "value_vars"),
                           varName: try a.string("var_name"), valueName: try a.string("value_name")))
    },
    NativeFunction("split_by_time", [Param("data", .native("dataset")), Param("column", .string), Param("test_from", .string),
                                     Param("val_from", .optional(.string), .nil)],
                   doc: "Split rows by a datetime column: {train: before val_from (or test_from), val: from val_from up to test_from, test: from test_from on}; rows keep their order, rows with a missing time are left out.",
                   example: "split_by_time(with_column(from_records([{t: \"2024-05-01\"}, {t: \"2024-06-02\"}]), \"t\", cast(col(\"t\"), \"datetime\")), \"t\", test_from: \"2024-06-01\").test.rows", result: "1") { a in
        let p = try splitByTime(try ds(a), try a.string("column"), testFrom: try a.string("test_from"),
                                valFrom: a.isNil("val_from") ? nil : try a.string("val_from"))
        return .record([("train", out(p.train)), ("val", out(p.val)), ("test", out(p.test))])
    },
    NativeFunction("n_unique", [Param("data", .native("dataset")), Param("column", .string)],
                   doc: "How many distinct non-missing values a column has. (n_unique(\"col\") alone is an aggregation for agg.)",
                   example: "n_unique(\(tx), \"user\")", result: "2") { a in
        .int(try ds(a).nUnique(try a.string("column")))
    },
]

/// `concat([ds1, ds2])`: the tensor `concat` hands a list of datasets here.
func concatDatasets(_ items: [Value]) throws -> Value {
    let parts: [Dataset] = try items.enumerated().map { i, v in
        guard case .native(let n) = v, let d = n as? DatasetValue else {
            throw NativeError("concat: item \(i) is \(v.typeName); a list of datasets (or of tensors) is needed")
        }
        return d.ds
    }
    return out(try concatRows(parts))
}

private func optionalList(_ a: Args, _ name: String) throws -> [String]? {
    a.isNil(name) ? nil : try stringList(a, name)
}
