import Foundation

/// One broken rule in one cell (or a whole column when `row` is nil).
public struct Violation: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Rule: String, Codable, Sendable { case missingColumn, type, min, max, allowed, nullable, unique }
    public var column: String
    /// 0-based row index in the dataset; nil for column-level problems.
    public var row: Int?
    /// 1-based source line of that row (0 when built in memory).
    public var line: Int?
    public var rule: Rule
    public var value: String
    public var message: String

    public var description: String {
        let at = line.map { $0 > 0 ? "line \($0)" : "row \(row ?? 0)" } ?? "column"
        return "\(at): column '\(column)': \(message)"
    }
}

/// Every violation found, plus what drop mode removed.
public struct ValidationReport: Equatable, Sendable, Codable, CustomStringConvertible {
    public var violations: [Violation]
    public var rowsChecked: Int
    /// Distinct rows with at least one violation.
    public var badRows: Int
    /// Rows removed (drop mode); 0 in fail mode.
    public var droppedRows: Int
    public var ok: Bool { violations.isEmpty }

    public var description: String {
        if ok { return "validation ok: \(rowsChecked) rows" }
        var s = "validation failed: \(violations.count) violation(s) in \(badRows) of \(rowsChecked) rows"
        if droppedRows > 0 { s += ", dropped \(droppedRows) rows" }
        for v in violations.prefix(50) { s += "\n  " + v.description }
        if violations.count > 50 { s += "\n  ... and \(violations.count - 50) more" }
        return s
    }
}

public enum ValidationMode: String, Codable, Sendable { case fail, drop }

/// The checked dataset (bad rows removed in drop mode) and the report.
public struct ValidationResult: Sendable {
    public var dataset: Dataset
    public var report: ValidationReport
}

/// Checks `ds` against `schema` and reports every violation with column and line.
///
///     let r = try validate(ds, schema: Schema(["age": ColumnRule(min: 0)]), mode: .drop)
///     r.report.droppedRows
///
/// `.fail` throws a `DataError(.validation)` carrying the full report when anything is
/// wrong; `.drop` removes the bad rows and records how many in the report and lineage.
/// Column-level problems (a missing column) throw in both modes.
public func validate(_ ds: Dataset, schema: Schema, mode: ValidationMode = .fail) throws -> ValidationResult {
    var violations: [Violation] = []
    var columnLevel = false
    for name in schema.columns.keys.sorted() {
        let rule = schema.columns[name]!
        guard let col = ds[name] else {
            violations.append(Violation(column: name, row: nil, line: nil, rule: .missingColumn, value: "",
                                        message: "column is missing"))
            columnLevel = true
            continue
        }
        violations += check(col, rule, ds.sourceLines)
    }
    // Report in source order: by line, then column.
    violations.sort { ($0.row ?? -1, $0.column) < ($1.row ?? -1, $1.column) }
    let bad = Set(violations.compactMap(\.row))
    var report = ValidationReport(violations: violations, rowsChecked: ds.rowCount, badRows: bad.count, droppedRows: 0)
    let params = "mode=\(mode.rawValue) schema=\(schema.canonicalJSON)"
    if report.ok { return ValidationResult(dataset: withLineage(ds, "validate", params), report: report) }
    if mode == .fail || columnLevel {
        throw DataError(.validation, report.description, report: report)
    }
    let keep = (0..<ds.rowCount).filter { !bad.contains($0) }
    report.droppedRows = ds.rowCount - keep.count
    var out = ds.gather(keep)
    out.lineage = ds.lineage.appending("validate", params + " dropped=\(report.droppedRows)")
    return ValidationResult(dataset: out, report: report)
}

func withLineage(_ ds: Dataset, _ op: String, _ params: String) -> Dataset {
    var out = ds
    out.lineage = ds.lineage.appending(op, params)
    return out
}

/// Text key used to compare cells with allowed values: numbers by value, text as is.
func valueKey(_ v: DataValue) -> String {
    switch v {
    case .int(let i): return String(i)
    case .double(let d): return formatNumber(d)
    case .string(let s): return NumberParsing.parseDouble(s).map(formatNumber) ?? s
    case .bool(let b): return b ? "1" : "0"
    case .null: return "null"
    }
}

private func check(_ col: Column, _ rule: ColumnRule, _ lines: [Int]) -> [Violation] {
    var out: [Violation] = []
    let allowed = rule.allowed.map { Set($0.map(valueKey)) }
    var seen: [String: Int] = [:]
    for row in 0..<col.count {
        func add(_ r: Violation.Rule, _ value: String, _ msg: String) {
            out.append(Violation(column: col.name, row: row, line: lines[row], rule: r, value: value, message: msg))
        }
        let v = col.value(at: row)
        if v.isNull {
            if !rule.nullable { add(.nullable, "", "missing value in non-nullable column") }
            continue
        }
        let text = v.description
        var number = v.number
        if number == nil, case .string(let s) = v { number = NumberParsing.parseDouble(s) }
        switch rule.type {
        case .int?:
            if number == nil || number! != number!.rounded() { add(.type, text, "value '\(text)' is not an int") }
        case .float?:
            if number == nil { add(.type, text, "value '\(text)' is not a number") }
        default: break
        }
        if let n = number {
            if let lo = rule.min, n < lo { add(.min, text, "value \(text) below min \(formatNumber(lo))") }
            if let hi = rule.max, n > hi { add(.max, text, "value \(text) above max \(formatNumber(hi))") }
        } else if rule.min != nil || rule.max != nil, rule.type == nil {
            add(.type, text, "value '\(text)' is not a number (range check)")
        }
        if let allowed, !allowed.contains(valueKey(v)) {
            add(.allowed, text, "value '\(text)' is not one of the allowed values")
        }
        if rule.unique {
            let key = valueKey(v)
            if let first = seen[key] {
                add(.unique, text, "duplicate value '\(text)' (first at line \(lines[first]))")
            } else { seen[key] = row }
        }
    }
    return out
}
