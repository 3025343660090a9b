import Frames
import Foundation
import Lang

/// `group_by(ds, keys)`: a dataset waiting for `agg`.
final class GroupedValue: NativeValue {
    let ds: Dataset
    let keys: [String]
    init(_ ds: Dataset, _ keys: [String]) { self.ds = ds; self.keys = keys }
    var typeName: String { "grouped" }
    var description: String { "<\(ds.rowCount) rows grouped by \(keys.joined(separator: ", "))>" }
    var fieldNames: [String] { ["keys", "data"] }
    func field(_ name: String) throws -> Value? {
        switch name {
        case "keys": return .strings(keys)
        case "data": return .native(DatasetValue(ds))
        default: return nil
        }
    }
}

/// One aggregation (`sum("amount")`), used as a value of `agg`'s record.
final class AggregationValue: NativeValue {
    let agg: Aggregation
    init(_ agg: Aggregation) { self.agg = agg }
    var typeName: String { "aggregation" }
    var description: String { "<aggregation \(agg)>" }
    func isEqual(to other: any NativeValue) -> Bool { (other as? AggregationValue)?.agg == agg }
}

private let tx = "from_records([{user: \"a\", amount: 3}, {user: \"b\", amount: 5}, {user: \"a\", amount: 4}])"

/// An aggregation constructor of one string parameter, e.g. `mean("amount")`.
private func aggregation(_ name: String, _ doc: String, result: String, _ make: @escaping (String) -> Aggregation) -> NativeFunction {
    NativeFunction(name, [Param("column", .string)], doc: doc + " An aggregation for agg(group_by(...), {...}).",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({v: \(name)(\"amount\")}))[\"v\"]", result: result) { a in
        .native(AggregationValue(make(try a.string("column"))))
    }
}

/// `min("col")` / `max("col")` are aggregations; with more arguments they stay the core
/// `min(a, b, ...)` of strings, which this overload shadows for a string first argument.
private func extremeAggregation(_ name: String, _ make: @escaping (String) -> Aggregation) -> NativeFunction {
    let core = coreLibraries.flatMap(\.functions).first { $0.name == name }!
    return NativeFunction(name, [Param("a", .string), Param("b", .any, .undefined)], variadic: true,
                          doc: "With one column name: the \(name == "min" ? "smallest" : "largest") non-missing value per group (an aggregation for agg); with more arguments, the core \(name)(a, b, ...).",
                          example: "(\(tx) |> group_by([\"user\"]) |> agg({v: \(name)(\"amount\")}))[\"v\"]",
                          result: name == "min" ? "[3, 5]" : "[4, 5]") { a in
        if case .undefined = a["b"] { return .native(AggregationValue(make(try a.string("a")))) }
        return try core.impl(a)
    }
}

let groupFunctions: [NativeFunction] = [
    NativeFunction("from_records", [Param("records", .list)],
                   doc: "A dataset from a list of records: one column per field in order of first appearance; a field a record lacks is missing.",
                   example: "from_records([{a: 1, b: \"x\"}, {a: 2}]).shape", result: "[2, 2]") { a in
        var names: [String] = [], index: [String: Int] = [:], cells: [[DataValue]] = []
        let items = try a.list("records")
        for (row, item) in items.enumerated() {
            guard case .record(let r) = item else { throw a.invalid("records", "item \(row) is \(item.typeName), not a record") }
            for (k, v) in zip(r.keys, r.values) {
                if index[k] == nil {
                    index[k] = names.count; names.append(k)
                    cells.append([DataValue](repeating: .null, count: items.count))
                }
                cells[index[k]!][row] = try valueToData(v, field: k)
            }
        }
        return .native(DatasetValue(Dataset(columns: zip(names, cells).map { inferColumn(from: $1, name: $0) })))
    },
    NativeFunction("group_by", [Param("data", .native("dataset")), Param("keys", .list)],
                   doc: "Group rows by key columns; follow with agg(...). Rows with a missing key are left out (pandas' dropna=True).",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({n: count()})).rows", result: "2") { a in
        let keys = try stringList(a, "keys")
        guard !keys.isEmpty else { throw a.invalid("keys", "must name at least one column") }
        let d = try ds(a)
        for k in keys { _ = try d.column(k) }
        return .native(GroupedValue(d, keys))
    },
    NativeFunction("agg", [Param("grouped", .native("grouped")), Param("aggregations", .record)],
                   doc: "One row per group, sorted by key: the key columns, then one column per named aggregation ({n: count(), total: sum(\"amount\")}). Aggregations skip missing cells.",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({total: sum(\"amount\")}))[\"total\"]", result: "[7, 5]") { a in
        let g = try a.native("grouped", as: GroupedValue.self, "grouped")
        let r = try a.record("aggregations")
        let aggs: [(String, Aggregation)] = try zip(r.keys, r.values).map { k, v in
            guard case .native(let n) = v, let agg = n as? AggregationValue else {
                throw a.invalid("aggregations", "'\(k)' must be an aggregation such as count() or sum(\"col\"), found \(v.typeName)")
            }
            return (k, agg.agg)
        }
        return .native(DatasetValue(try g.ds.groupBy(g.keys, aggs)))
    },
    NativeFunction("count", [Param("column", .optional(.string), .nil)],
                   doc: "Rows per group, or with a column its non-missing cells. An aggregation for agg(group_by(...), {...}).",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({n: count()}))[\"n\"]", result: "[2, 1]") { a in
        .native(AggregationValue(.count(a.isNil("column") ? nil : try a.string("column"))))
    },
    aggregation("sum", "Sum of the non-missing values per group (0 when none).", result: "[7, 5]") { .sum($0) },
    aggregation("mean", "Mean of the non-missing values per group.", result: "[3.5, 5.0]") { .mean($0) },
    aggregation("std", "Sample standard deviation (ddof 1, as pandas) per group; missing under two values.", result: "[0.7071067811865476, nil]") { .std($0) },
    aggregation("variance", "Sample variance (ddof 1, as pandas) per group; missing under two values. (`var` is a keyword.)", result: "[0.5, nil]") { .variance($0) },
    aggregation("median", "Median of the non-missing values per group.", result: "[3.5, 5.0]") { .median($0) },
    // `first` / `last` are the prelude's list functions, so the aggregations say what they take.
    aggregation("first_value", "First non-missing value per group, in row order.", result: "[3, 5]") { .first($0) },
    aggregation("last_value", "Last non-missing value per group, in row order.", result: "[4, 5]") { .last($0) },
    NativeFunction("n_unique", [Param("column", .string)],
                   doc: "Distinct non-missing values per group. An aggregation for agg(group_by(...), {...}).",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({k: n_unique(\"amount\")}))[\"k\"]", result: "[2, 1]") { a in
        .native(AggregationValue(.nUnique(try a.string("column"))))
    },
    NativeFunction("quantile", [Param("column", .string), Param("q", .number)],
                   doc: "The q-quantile (0..1, linear interpolation as pandas) of the non-missing values per group. An aggregation for agg.",
                   example: "(\(tx) |> group_by([\"user\"]) |> agg({p: quantile(\"amount\", 0.9)}))[\"p\"]", result: "[3.9, 5.0]") { a in
        let q = try a.finite("q")
        guard q >= 0 && q <= 1 else { throw a.invalid("q", "must be between 0 and 1, got \(q)") }
        return .native(AggregationValue(.quantile(try a.string("column"), q)))
    },
    extremeAggregation("min") { .min($0) },
    extremeAggregation("max") { .max($0) },
]
