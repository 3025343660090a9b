import Foundation

/// A column expression, evaluated over whole columns at once (no per-row interpreter
/// calls): `col("a") * 2 + col("b")`, `col("amount") > 100 and col("country") == "FR"`.
/// Its `description` is the MLW spelling, which goes into the lineage.
///
///     let e = ColumnExpr.binary(">", .column("amount"), .literal(.int(100)))
///     let big = try ds.filter(e)
public indirect enum ColumnExpr: Equatable, Sendable, CustomStringConvertible {
    case column(String)
    case literal(DataValue)
    /// `+ - * / // % **`, comparisons `== != < <= > >=`, and `and` / `or` on bools.
    case binary(String, ColumnExpr, ColumnExpr)
    /// A function of one expression and constant parameters: `neg`, `not`, `is_null`,
    /// `lower`, `upper`, `len`, `contains(s)`, `cast(type)`, `clip(lo, hi)`, `log`, `exp`,
    /// `abs`, `sqrt`, `bucketize(edges...)`, `year`, `month`, `day`, `weekday`, `hour`, `days`,
    /// `rolling_mean(window, by...)`, `lag(n, by...)`.
    case call(String, ColumnExpr, [DataValue])

    public var description: String {
        switch self {
        case .column(let n): return "col(\(quoted(n)))"
        case .literal(let v):
            if case .string(let s) = v { return quoted(s) }
            return v.description
        case .binary(let op, let a, let b): return "(\(a) \(op) \(b))"
        case .call("neg", let a, _): return "-\(a)"
        case .call(let f, let a, let ps):
            return "\(f)(" + ([a.description] + ps.map { p in if case .string(let s) = p { return quoted(s) }; return p.description }).joined(separator: ", ") + ")"
        }
    }

    /// Columns the expression reads.
    public var columns: [String] {
        switch self {
        case .column(let n): return [n]
        case .literal: return []
        case .binary(_, let a, let b): return a.columns + b.columns.filter { !a.columns.contains($0) }
        case .call(_, let a, _): return a.columns
        }
    }
}

private func quoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

extension Dataset {
    /// The dataset with column `name` set to `expr`'s values (added at the end, or replaced
    /// in place). Bool results are stored as an int column of 0/1.
    ///
    ///     let ds2 = try ds.withColumn("total", .binary("*", .column("price"), .column("qty")))
    public func withColumn(_ name: String, _ expr: ColumnExpr) throws -> Dataset {
        var c = try expr.evaluate(self).column(name)
        c.name = name
        var out = self
        if let i = index(of: name) { out.columns[i] = c } else { out.columns.append(c) }
        return withLineage(out, "with_column", "\(name)=\(expr)")
    }

    /// The rows where `expr` (a bool expression) is true; missing counts as false.
    public func filter(_ expr: ColumnExpr) throws -> Dataset {
        let v = try expr.evaluate(self)
        guard case .bool(let b) = v.data else {
            throw DataError(.typeConflict, "filter needs a true/false expression, got \(v.typeName): \(expr)")
        }
        let keep = (0..<rowCount).filter { b[$0] && !v.missing[$0] }
        return withLineage(gather(keep), "filter", expr.description)
    }
}

/// A column being computed: typed values, a missing mask, and whether ints are datetimes.
struct Vec {
    enum Data { case num([Double]), int([Int]), text([String]), bool([Bool]) }
    var data: Data
    var missing: [Bool]
    var datetime = false

    var count: Int { missing.count }
    var typeName: String {
        switch data {
        case .num: return "float"
        case .int: return datetime ? "datetime" : "int"
        case .text: return "text"
        case .bool: return "bool"
        }
    }

    init(_ data: Data, _ missing: [Bool], datetime: Bool = false) {
        self.data = data; self.missing = missing; self.datetime = datetime
    }

    init(_ c: Column) {
        switch c.data {
        case .float(let v):
            data = .num(v)
            missing = (0..<v.count).map { c.missing[$0] || v[$0].isNaN }
        case .int(let v): data = .int(v); missing = c.missing; datetime = c.isDatetime
        case .string(let v): data = .text(v); missing = c.missing
        case .category(let codes, let levels):
            data = .text(codes.map { $0 < 0 ? "" : levels[Int($0)] }); missing = c.missing
        }
    }

    init(broadcast v: DataValue, _ n: Int) {
        let none = [Bool](repeating: false, count: n)
        switch v {
        case .null: data = .num([Double](repeating: .nan, count: n)); missing = [Bool](repeating: true, count: n)
        case .bool(let b): data = .bool([Bool](repeating: b, count: n)); missing = none
        case .int(let i): data = .int([Int](repeating: i, count: n)); missing = none
        case .double(let d): data = .num([Double](repeating: d, count: n)); missing = none
        case .string(let s): data = .text([String](repeating: s, count: n)); missing = none
        }
    }

    /// Numbers as doubles (nil for text and bools).
    var doubles: [Double]? {
        switch data {
        case .num(let v): return v
        case .int(let v) where !datetime: return v.map(Double.init)
        default: return nil
        }
    }

    func column(_ name: String) -> Column {
        switch data {
        case .num(let v): return Column(name: name, data: .float(v), missing: missing)
        case .int(let v):
            var c = Column(name: name, data: .int(v), missing: missing)
            c.isDatetime = datetime
            return c
        case .text(let v): return Column(name: name, data: .string(v), missing: missing)
        case .bool(let v): return Column(name: name, data: .int(v.map { $0 ? 1 : 0 }), missing: missing)
        }
    }
}

extension ColumnExpr {
    /// Evaluates over every row of `ds`.
    func evaluate(_ ds: Dataset) throws -> Vec {
        switch self {
        case .column(let n): return Vec(try ds.column(n))
        case .literal(let v): return Vec(broadcast: v, ds.rowCount)
        case .binary(let op, let a, let b):
            // A text literal compared with a datetime column is read as a date.
            var x = try a.evaluate(ds), y = try b.evaluate(ds)
            if x.datetime, case .literal(.string(let s)) = b { y = try datetimeLiteral(s, ds.rowCount) }
            if y.datetime, case .literal(.string(let s)) = a { x = try datetimeLiteral(s, ds.rowCount) }
            return try binaryOp(op, x, y, self)
        case .call(let f, let a, let ps):
            if f == "rolling_mean" || f == "lag" { return try window(f, try a.evaluate(ds), ps, ds) }
            return try callOp(f, try a.evaluate(ds), ps, self)
        }
    }
}

private func datetimeLiteral(_ s: String, _ n: Int) throws -> Vec {
    guard let us = Datetime.parse(s) else {
        throw DataError(.badArgument, "'\(s)' is not an ISO-8601 date or timestamp (compared with a datetime column)")
    }
    return Vec(.int([Int](repeating: us, count: n)), [Bool](repeating: false, count: n), datetime: true)
}

private func exprError(_ e: ColumnExpr, _ why: String) -> DataError {
    DataError(.typeConflict, "\(e): \(why)")
}

private func binaryOp(_ op: String, _ x: Vec, _ y: Vec, _ e: ColumnExpr) throws -> Vec {
    let n = x.count
    var missing = [Bool](repeating: false, count: n)
    for i in 0..<n where x.missing[i] || y.missing[i] { missing[i] = true }
    switch op {
    case "and", "or":
        guard case .bool(let a) = x.data, case .bool(let b) = y.data else {
            throw exprError(e, "'\(op)' needs true/false on both sides, got \(x.typeName) and \(y.typeName)")
        }
        // Missing counts as false, as in pandas' boolean masks.
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let p = a[i] && !x.missing[i], q = b[i] && !y.missing[i]
            out[i] = op == "and" ? p && q : p || q
        }
        return Vec(.bool(out), [Bool](repeating: false, count: n))
    case "==", "!=", "<", "<=", ">", ">=":
        return Vec(.bool(try compare(op, x, y, missing, e)), [Bool](repeating: false, count: n))
    default: break
    }
    switch (x.data, y.data) {
    case (.int(let a), .int(let b)) where x.datetime && y.datetime && op == "-":
        // Difference of two datetimes: seconds, as a float.
        return Vec(.num((0..<n).map { Double(a[$0] - b[$0]) / 1e6 }), missing)
    case (.int(let a), .int(let b)) where !x.datetime && !y.datetime && ["+", "-", "*", "//", "%"].contains(op):
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n where !missing[i] {
            let (p, q) = (a[i], b[i])
            switch op {
            case "+": let r = p.addingReportingOverflow(q); if r.overflow { throw exprError(e, "integer overflow at row \(i)") }; out[i] = r.partialValue
            case "-": let r = p.subtractingReportingOverflow(q); if r.overflow { throw exprError(e, "integer overflow at row \(i)") }; out[i] = r.partialValue
            case "*": let r = p.multipliedReportingOverflow(by: q); if r.overflow { throw exprError(e, "integer overflow at row \(i)") }; out[i] = r.partialValue
            default:
                if q == 0 || (p == .min && q == -1) { missing[i] = true; continue }
                var d = p / q, m = p % q
                if m != 0 && ((m < 0) != (q < 0)) { d -= 1; m += q }
                out[i] = op == "//" ? d : m
            }
        }
        return Vec(.int(out), missing)
    case (.text(let a), .text(let b)) where op == "+":
        return Vec(.text((0..<n).map { missing[$0] ? "" : a[$0] + b[$0] }), missing)
    default: break
    }
    guard let a = x.doubles, let b = y.doubles else {
        throw exprError(e, "'\(op)' needs numbers, got \(x.typeName) and \(y.typeName)")
    }
    var out = [Double](repeating: .nan, count: n)
    for i in 0..<n where !missing[i] {
        let (p, q) = (a[i], b[i])
        switch op {
        case "+": out[i] = p + q
        case "-": out[i] = p - q
        case "*": out[i] = p * q
        case "/": out[i] = p / q
        case "//": out[i] = (p / q).rounded(.down)
        case "%": let r = p.truncatingRemainder(dividingBy: q); out[i] = r != 0 && ((r < 0) != (q < 0)) ? r + q : r
        case "**": out[i] = pow(p, q)
        default: throw exprError(e, "unknown operator '\(op)'")
        }
        // Division by zero and the like give a missing cell, not inf/NaN.
        if !out[i].isFinite { missing[i] = true; out[i] = .nan }
    }
    return Vec(.num(out), missing)
}

private func compare(_ op: String, _ x: Vec, _ y: Vec, _ missing: [Bool], _ e: ColumnExpr) throws -> [Bool] {
    let n = x.count
    var c = [Int](repeating: 0, count: n)
    switch (x.data, y.data) {
    case (.int(let a), .int(let b)) where x.datetime == y.datetime:
        for i in 0..<n { c[i] = a[i] < b[i] ? -1 : (a[i] > b[i] ? 1 : 0) }
    case (.text(let a), .text(let b)):
        for i in 0..<n where !missing[i] { c[i] = op == "==" || op == "!=" ? (a[i] == b[i] ? 0 : 1) : compareText(a[i], b[i]) }
    case (.bool(let a), .bool(let b)) where op == "==" || op == "!=":
        for i in 0..<n { c[i] = a[i] == b[i] ? 0 : 1 }
    default:
        guard let a = x.doubles, let b = y.doubles else {
            throw exprError(e, "cannot compare \(x.typeName) with \(y.typeName)")
        }
        for i in 0..<n { c[i] = a[i] < b[i] ? -1 : (a[i] > b[i] ? 1 : 0) }
    }
    // A missing side makes every comparison false except '!=' (pandas' NaN rules).
    return (0..<n).map { i in
        if missing[i] { return op == "!=" }
        switch op {
        case "==": return c[i] == 0
        case "!=": return c[i] != 0
        case "<": return c[i] < 0
        case "<=": return c[i] <= 0
        case ">": return c[i] > 0
        default: return c[i] >= 0
        }
    }
}

private func callOp(_ f: String, _ x: Vec, _ ps: [DataValue], _ e: ColumnExpr) throws -> Vec {
    let n = x.count
    func text() throws -> [String] {
        guard case .text(let v) = x.data else { throw exprError(e, "\(f) needs a text column, got \(x.typeName)") }
        return v
    }
    func numbers() throws -> [Double] {
        guard let v = x.doubles else { throw exprError(e, "\(f) needs a numeric column, got \(x.typeName)") }
        return v
    }
    func parts(_ get: (TimeParts) -> Int) throws -> Vec {
        guard x.datetime, case .int(let v) = x.data else { throw exprError(e, "\(f) needs a datetime column, got \(x.typeName)") }
        return Vec(.int((0..<n).map { x.missing[$0] ? 0 : get(TimeParts(micros: v[$0])) }), x.missing)
    }
    func mapNumbers(_ g: (Double) -> Double) throws -> Vec {
        let v = try numbers()
        var missing = x.missing
        var out = [Double](repeating: .nan, count: n)
        for i in 0..<n where !missing[i] {
            out[i] = g(v[i])
            if !out[i].isFinite { out[i] = .nan; missing[i] = true }
        }
        return Vec(.num(out), missing)
    }
    switch f {
    case "neg":
        if case .int(let v) = x.data, !x.datetime {
            if let i = (0..<n).first(where: { !x.missing[$0] && v[$0] == .min }) { throw exprError(e, "integer overflow at row \(i)") }
            return Vec(.int(v.map { $0 == .min ? 0 : -$0 }), x.missing)
        }
        return try mapNumbers { -$0 }
    case "not":
        guard case .bool(let v) = x.data else { throw exprError(e, "'not' needs true/false, got \(x.typeName)") }
        return Vec(.bool((0..<n).map { !(v[$0] && !x.missing[$0]) }), [Bool](repeating: false, count: n))
    case "is_null": return Vec(.bool(x.missing), [Bool](repeating: false, count: n))
    case "lower": return Vec(.text(try text().map { $0.lowercased() }), x.missing)
    case "upper": return Vec(.text(try text().map { $0.uppercased() }), x.missing)
    case "len": return Vec(.int(try text().map { $0.unicodeScalars.count }), x.missing)
    case "contains":
        guard case .string(let s)? = ps.first else { throw exprError(e, "contains needs a text to look for") }
        let v = try text()
        return Vec(.bool((0..<n).map { !x.missing[$0] && v[$0].contains(s) }), [Bool](repeating: false, count: n))
    case "log": return try mapNumbers { $0 > 0 ? Foundation.log($0) : .nan }
    case "exp": return try mapNumbers { Foundation.exp($0) }
    case "sqrt": return try mapNumbers { $0 >= 0 ? $0.squareRoot() : .nan }
    case "abs":
        if case .int(let v) = x.data, !x.datetime, !v.contains(.min) { return Vec(.int(v.map { Swift.abs($0) }), x.missing) }
        return try mapNumbers { Swift.abs($0) }
    case "clip":
        let lo = ps.count > 0 ? ps[0].number : nil, hi = ps.count > 1 ? ps[1].number : nil
        if case .int(let v) = x.data, !x.datetime, [lo, hi].allSatisfy({ $0 == nil || $0! == $0!.rounded() && Swift.abs($0!) < 9e18 }) {
            return Vec(.int(v.map { var y = $0; if let l = lo { y = Swift.max(y, Int(l)) }; if let h = hi { y = Swift.min(y, Int(h)) }; return y }), x.missing)
        }
        return try mapNumbers { var y = $0; if let l = lo { y = Swift.max(y, l) }; if let h = hi { y = Swift.min(y, h) }; return y }
    case "bucketize":
        let edges = ps.compactMap(\.number)
        guard edges.count == ps.count, !edges.isEmpty, zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw exprError(e, "bucketize needs increasing numeric edges")
        }
        let v = try numbers()
        return Vec(.int((0..<n).map { i in
            // Index of the first edge above the value (numpy's searchsorted side="right").
            var lo = 0, hi = edges.count
            while lo < hi { let m = (lo + hi) / 2; if edges[m] <= v[i] { lo = m + 1 } else { hi = m } }
            return lo
        }), x.missing)
    case "cast":
        guard case .string(let t)? = ps.first else { throw exprError(e, "cast needs a type name") }
        return try cast(x, t, e)
    case "year": return try parts { $0.year }
    case "month": return try parts { $0.month }
    case "day": return try parts { $0.day }
    case "weekday": return try parts { $0.weekday }
    case "hour": return try parts { $0.hour }
    case "days":
        // A datetime difference is seconds (a float); days of it, fractions kept.
        guard x.doubles != nil else { throw exprError(e, "days needs seconds (a difference of two datetimes), got \(x.typeName)") }
        return try mapNumbers { $0 / 86_400 }
    default: throw exprError(e, "unknown function '\(f)'")
    }
}

private func cast(_ x: Vec, _ type: String, _ e: ColumnExpr) throws -> Vec {
    let n = x.count
    var missing = x.missing
    switch (type, x.data) {
    case ("float", .int(let v)) where !x.datetime: return Vec(.num(v.map(Double.init)), missing)
    case ("float", .num): return x
    case ("float", .bool(let v)): return Vec(.num(v.map { $0 ? 1 : 0 }), missing)
    case ("float", .text(let v)):
        var out = [Double](repeating: .nan, count: n)
        for i in 0..<n where !missing[i] {
            guard let d = Double(v[i].trimmingCharacters(in: .whitespaces)) else { throw exprError(e, "row \(i): '\(v[i])' is not a number") }
            out[i] = d
        }
        return Vec(.num(out), missing)
    case ("int", .int) where !x.datetime: return x
    case ("int", .bool(let v)): return Vec(.int(v.map { $0 ? 1 : 0 }), missing)
    case ("int", .num(let v)):
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n where !missing[i] {
            guard v[i].magnitude < 9.2e18 else { throw exprError(e, "row \(i): \(v[i]) does not fit an int") }
            out[i] = Int(v[i].rounded(.towardZero))
        }
        return Vec(.int(out), missing)
    case ("int", .text(let v)):
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n where !missing[i] {
            guard let d = Int(v[i].trimmingCharacters(in: .whitespaces)) else { throw exprError(e, "row \(i): '\(v[i])' is not an integer") }
            out[i] = d
        }
        return Vec(.int(out), missing)
    case ("string", _):
        let out: [String] = (0..<n).map { i in
            if missing[i] { return "" }
            switch x.data {
            case .num(let v): return formatNumber(v[i])
            case .int(let v): return x.datetime ? Datetime.format(v[i]) : String(v[i])
            case .text(let v): return v[i]
            case .bool(let v): return String(v[i])
            }
        }
        return Vec(.text(out), missing)
    case ("datetime", .text(let v)):
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n where !missing[i] {
            guard let us = Datetime.parse(v[i]) else { throw exprError(e, "row \(i): '\(v[i])' is not an ISO-8601 date or timestamp") }
            out[i] = us
        }
        return Vec(.int(out), missing, datetime: true)
    case ("datetime", .int(let v)): return Vec(.int(v), missing, datetime: true)
    default:
        missing = []
        throw exprError(e, "cannot cast \(x.typeName) to '\(type)' (types: float, int, string, datetime)")
    }
}

/// Rolling mean and lag within groups of `by` columns (all rows as one group without
/// them), in the dataset's row order: sort first.
private func window(_ f: String, _ x: Vec, _ ps: [DataValue], _ ds: Dataset) throws -> Vec {
    let n = x.count
    guard case .int(let k)? = ps.first, k >= 1 || (f == "lag" && k >= 0) else {
        throw DataError(.badArgument, "\(f) needs a positive \(f == "lag" ? "offset" : "window"), got \(ps.first?.description ?? "none")")
    }
    let by = try ps.dropFirst().map { p -> Column in
        guard case .string(let s) = p else { throw DataError(.badArgument, "\(f): by must name columns") }
        return try ds.column(s)
    }
    let ids: [Int32] = by.isEmpty ? [Int32](repeating: 0, count: n) : try encodeKeys([by]).ids[0]
    // Each group's rows in order, as linked runs: prev[r] is the group's previous row.
    var last = [Int: Int]()
    var prev = [Int](repeating: -1, count: n)
    for r in 0..<n where ids[r] >= 0 {
        prev[r] = last[Int(ids[r])] ?? -1
        last[Int(ids[r])] = r
    }
    if f == "lag" {
        var src = [Int](repeating: -1, count: n)
        for r in 0..<n where ids[r] >= 0 {
            var p = r
            for _ in 0..<k where p >= 0 { p = prev[p] }
            src[r] = p
        }
        var v = x.column("").gather(orNull: src)
        v.missing = (0..<n).map { src[$0] < 0 || v.missing[$0] }
        return Vec(v)
    }
    guard let v = x.doubles else { throw DataError(.typeConflict, "rolling_mean needs a numeric column, got \(x.typeName)") }
    // Running sum and count of the window's non-missing values; full windows only (pandas'
    // min_periods = window), so a missing value inside a window makes it missing.
    var out = [Double](repeating: .nan, count: n)
    var missing = [Bool](repeating: true, count: n)
    var sum = [Int: (s: Double, c: Int, len: Int)]()
    for r in 0..<n where ids[r] >= 0 {
        let g = Int(ids[r])
        var st = sum[g] ?? (0, 0, 0)
        if !x.missing[r] { st.s += v[r]; st.c += 1 }
        st.len += 1
        if st.len > k {
            // Drop the oldest row of the window: walk from r back k rows.
            var old = r
            for _ in 0..<k { old = prev[old] }
            if !x.missing[old] { st.s -= v[old]; st.c -= 1 }
            st.len = k
        }
        if st.len == k && st.c == k { out[r] = st.s / Double(k); missing[r] = false }
        sum[g] = st
    }
    return Vec(.num(out), missing)
}
