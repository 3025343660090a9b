import Frames
import Foundation
import Lang

/// A column expression (`col("a") * 2`): operators build a bigger expression; `with_column`
/// and `filter` evaluate it over whole columns in native code.
final class ExprValue: NativeValue {
    let expr: ColumnExpr
    init(_ e: ColumnExpr) { expr = e }
    var typeName: String { "expr" }
    var description: String { "<expr \(expr)>" }
    func isEqual(to other: any NativeValue) -> Bool { (other as? ExprValue)?.expr == expr }

    func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
        guard ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"].contains(op) else { return nil }
        let o = try exprOperand(other)
        return .native(ExprValue(.binary(op, reversed ? o : expr, reversed ? expr : o)))
    }

    func unary(_ op: String) throws -> Value? {
        switch op {
        case "-": return .native(ExprValue(.call("neg", expr, [])))
        case "not": return .native(ExprValue(.call("not", expr, [])))
        default: return nil
        }
    }
}

/// An operand of an expression operator: another expression or a constant.
func exprOperand(_ v: Value) throws -> ColumnExpr {
    if case .native(let n) = v, let e = n as? ExprValue { return e.expr }
    switch v {
    case .nil, .bool, .int, .float, .string: return .literal(try valueToData(v, field: "operand"))
    default: throw NativeError("a column expression cannot combine with \(v.typeName)")
    }
}

private func ex(_ a: Args, _ name: String = "x") throws -> ColumnExpr {
    try a.native(name, as: ExprValue.self, "expr").expr
}

private func make(_ e: ColumnExpr) -> Value { .native(ExprValue(e)) }

private let tx = "from_records([{user: \"Ann\", amount: 3}, {user: \"bob\", amount: 120}, {user: \"ann\", amount: nil}])"

/// `f(col("x"))` for a function of one expression and no parameters; `core` names the
/// plain function it overloads (on numbers or strings).
private func unaryExpr(_ name: String, _ doc: String, example: String, result: String) -> NativeFunction {
    NativeFunction(name, [Param("x", .native("expr"))], doc: doc + " (On a column expression; evaluated in native code.)",
                   example: example, result: result) { a in make(.call(name, try ex(a), [])) }
}

private func evalList(_ ds: String, _ name: String, _ e: String) -> String {
    "with_column(\(ds), \"\(name)\", \(e))[\"\(name)\"]"
}

let exprFunctions: [NativeFunction] = [
    NativeFunction("col", [Param("name", .string)],
                   doc: "A column as an expression: combine with + - * / // % **, comparisons, and/or/not, and functions (is_null, lower, contains, len, cast, clip, log, bucketize, year, ...); evaluate with with_column or filter.",
                   example: evalList(tx, "double", "col(\"amount\") * 2"), result: "[6, 240, nil]") { a in
        make(.column(try a.string("name")))
    },
    NativeFunction("with_column", [Param("data", .native("dataset")), Param("name", .string), Param("value", .oneOf([.native("expr"), .function]))],
                   doc: "The dataset with column name set to an expression's values (vectorised), or to f(row record) for each row. Bool results are stored as 0/1 ints.",
                   example: evalList(tx, "big", "col(\"amount\") > 100"), result: "[0, 1, 0]") { a in
        let d = try ds(a)
        let name = try a.string("name")
        if case .native = a["value"] { return .native(DatasetValue(try d.withColumn(name, try ex(a, "value")))) }
        let f = a["value"]
        let code = (try? a.function("value")).flatMap { if case .function(let fn) = $0 { return fn.sourceText } else { return nil } } ?? ""
        var cells: [DataValue] = []
        cells.reserveCapacity(d.rowCount)
        for r in 0..<d.rowCount {
            let rec = d.record(at: r)
            let v = try a.call(f, [.record(d.columnNames.map { ($0, dataToValue(rec[$0] ?? .null)) })])
            cells.append(try valueToData(v, field: name))
        }
        return .native(DatasetValue(try d.addingColumns([inferColumn(from: cells, name: name)], op: "with_column \(name)=\(code)")))
    },
    NativeFunction("filter", [Param("data", .native("dataset")), Param("keep", .oneOf([.native("expr"), .function]))],
                   doc: "Rows where a bool expression is true (vectorised; missing counts as false), or where keep(row record) is true.",
                   example: "filter(\(tx), col(\"amount\") > 100 or lower(col(\"user\")) == \"ann\")[\"user\"]", result: "[\"Ann\", \"bob\", \"ann\"]") { a in
        let d = try ds(a)
        if case .native = a["keep"] { return .native(DatasetValue(try d.filter(try ex(a, "keep")))) }
        let f = a["keep"]
        let code = (try? a.function("keep")).flatMap { if case .function(let fn) = $0 { return fn.sourceText } else { return nil } } ?? ""
        return .native(DatasetValue(try d.filter(code) { row in
            let rec = Value.record(d.columnNames.map { ($0, dataToValue(row[$0] ?? .null)) })
            guard case .bool(let keep) = try a.call(f, [rec]) else { throw a.invalid("keep", "must return a bool") }
            return keep
        }))
    },
    unaryExpr("is_null", "True where the cell is missing.", example: evalList(tx, "m", "is_null(col(\"amount\"))"), result: "[0, 0, 1]"),
    unaryExpr("lower", "Lower-case text.", example: evalList(tx, "u", "lower(col(\"user\"))"), result: "[\"ann\", \"bob\", \"ann\"]"),
    unaryExpr("upper", "Upper-case text.", example: evalList(tx, "u", "upper(col(\"user\"))"), result: "[\"ANN\", \"BOB\", \"ANN\"]"),
    unaryExpr("len", "Length of text in characters (Unicode scalars).", example: evalList(tx, "n", "len(col(\"user\"))"), result: "[3, 3, 3]"),
    unaryExpr("log", "Natural logarithm; zero and negative values give a missing cell.", example: evalList(tx, "l", "log(col(\"amount\"))") + "[0]", result: "1.0986122886681098"),
    unaryExpr("exp", "e raised to each value.", example: evalList(tx, "e", "exp(col(\"amount\") * 0)"), result: "[1.0, 1.0, nil]"),
    unaryExpr("abs", "Absolute value; ints stay ints.", example: evalList(tx, "a", "abs(-col(\"amount\"))"), result: "[3, 120, nil]"),
    unaryExpr("year", "Year of a datetime.", example: "year(cast(col(\"ts\"), \"datetime\"))", result: "<expr year(cast(col(\"ts\"), \"datetime\"))>"),
    unaryExpr("month", "Month (1-12) of a datetime.", example: "month(col(\"ts\"))", result: "<expr month(col(\"ts\"))>"),
    unaryExpr("day", "Day of the month of a datetime.", example: "day(col(\"ts\"))", result: "<expr day(col(\"ts\"))>"),
    unaryExpr("weekday", "Day of the week of a datetime, Monday = 0 (as pandas).", example: "weekday(col(\"ts\"))", result: "<expr weekday(col(\"ts\"))>"),
    unaryExpr("days", "Days in a number of seconds, as a float: days(col(\"b\") - col(\"a\")) for two datetime columns (their difference is seconds).",
              example: "with_column(from_records([{a: \"2024-05-01\", b: \"2024-05-03T12:00:00Z\"}]), \"d\", days(cast(col(\"b\"), \"datetime\") - cast(col(\"a\"), \"datetime\")))[\"d\"]",
              result: "[2.5]"),
    unaryExpr("hour", "Hour (0-23, UTC) of a datetime.", example: "hour(col(\"ts\"))", result: "<expr hour(col(\"ts\"))>"),
    NativeFunction("contains", [Param("x", .native("expr")), Param("text", .string)],
                   doc: "True where the text contains the given text (missing: false). (On a column expression.)",
                   example: evalList(tx, "c", "contains(col(\"user\"), \"nn\")"), result: "[1, 0, 1]") { a in
        make(.call("contains", try ex(a), [.string(try a.string("text"))]))
    },
    NativeFunction("cast", [Param("x", .native("expr")), Param("type", .string)],
                   doc: "Convert a column expression to \"float\", \"int\" (floats truncate), \"string\" or \"datetime\" (ISO-8601 text); text that does not convert is an error naming the row.",
                   example: evalList(tx, "f", "cast(col(\"amount\"), \"float\")"), result: "[3.0, 120.0, nil]") { a in
        let t = try a.string("type")
        guard ["float", "int", "string", "datetime"].contains(t) else { throw a.invalid("type", "must be float, int, string or datetime") }
        return make(.call("cast", try ex(a), [.string(t)]))
    },
    NativeFunction("clip", [Param("x", .native("expr")), Param("min", .optional(.number), .nil), Param("max", .optional(.number), .nil)],
                   doc: "Values limited to [min, max] (either may be left out). (On a column expression.)",
                   example: evalList(tx, "c", "clip(col(\"amount\"), max: 100)"), result: "[3, 100, nil]") { a in
        make(.call("clip", try ex(a), [a.isNil("min") ? .null : .double(try a.finite("min")), a.isNil("max") ? .null : .double(try a.finite("max"))]))
    },
    NativeFunction("bucketize", [Param("x", .native("expr")), Param("edges", .list)],
                   doc: "Bucket index of each value: how many of the increasing edges are <= it (numpy's searchsorted, side right).",
                   example: evalList(tx, "b", "bucketize(col(\"amount\"), [10, 100])"), result: "[0, 2, nil]") { a in
        let edges: [DataValue] = try a.list("edges").map { v in
            guard let d = v.asDouble, d.isFinite else { throw a.invalid("edges", "must be a list of finite numbers") }
            return .double(d)
        }
        return make(.call("bucketize", try ex(a), edges))
    },
    NativeFunction("rolling_mean", [Param("x", .native("expr")), Param("window", .int), Param("by", .optional(.oneOf([.string, .list])), .nil)],
                   doc: "Mean of the last `window` values (this row included) within each group of `by`, in row order (sort first); missing until a full window of non-missing values, as pandas.",
                   example: evalList(tx, "r", "rolling_mean(col(\"amount\"), window: 2)"), result: "[nil, 61.5, nil]") { a in
        make(.call("rolling_mean", try ex(a), [.int(try a.count("window", min: 1))] + (try byColumns(a))))
    },
    NativeFunction("lag", [Param("x", .native("expr")), Param("n", .int, .int(1)), Param("by", .optional(.oneOf([.string, .list])), .nil)],
                   doc: "The value n rows earlier within each group of `by`, in row order (sort first); missing where there is none.",
                   example: evalList(tx, "prev", "lag(col(\"amount\"), 1)"), result: "[nil, 3, 120]") { a in
        make(.call("lag", try ex(a), [.int(try a.count("n"))] + (try byColumns(a))))
    },
]

private func byColumns(_ a: Args) throws -> [DataValue] {
    switch a["by"] {
    case .nil: return []
    case .string(let s): return [.string(s)]
    default: return try stringList(a, "by").map { .string($0) }
    }
}
