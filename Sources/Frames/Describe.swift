import Foundation

/// Summary of one column.
public struct ColumnSummary: Equatable, Sendable, Codable {
    public var name: String
    public var type: ColumnType
    public var role: String  // "feature", "label" or ""
    public var missing: Int
    public var distinct: Int
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var std: Double?
    /// Most frequent values (text, count), for string and category columns; at most 5.
    public var top: [TopValue]
}

public struct TopValue: Equatable, Sendable, Codable {
    public var value: String
    public var count: Int
}

/// What `describe` returns: per-column summaries and a printable table.
public struct DescribeReport: Equatable, Sendable, Codable, CustomStringConvertible {
    public var rows: Int
    public var columns: [ColumnSummary]
    public var lineageHash: String

    /// A fixed-width text table, one line per column. Names and top values are clipped to
    /// `PreviewText.describeWidth` characters, so a huge cell prints as a short one.
    public var description: String {
        func f(_ v: Double?) -> String {
            guard let v else { return "" }
            if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
            return String(format: "%.4g", v)
        }
        var table: [[String]] = [["column", "type", "role", "missing", "distinct", "min", "max", "mean", "std", "top"]]
        for c in columns {
            let clip = { (s: String) in PreviewText.clip(s, PreviewText.describeWidth) }
            let top = c.top.prefix(3).map { "\(clip($0.value))(\($0.count))" }.joined(separator: " ")
            table.append([clip(c.name), c.type.rawValue, c.role, String(c.missing), String(c.distinct),
                          f(c.min), f(c.max), f(c.mean), f(c.std), top])
        }
        let widths = (0..<table[0].count).map { j in table.map { $0[j].count }.max()! }
        var out = "\(rows) rows x \(columns.count) columns  (lineage \(lineageHash.prefix(12)))\n"
        for (i, r) in table.enumerated() {
            out += r.enumerated().map { j, s in s.padding(toLength: widths[j], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            if i == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }
}

/// Summarises a dataset: rows, and per column its type, missing count, distinct values,
/// min/max/mean/std (numeric) and top categories (text).
///
///     print(describe(ds))
public func describe(_ ds: Dataset) -> DescribeReport {
    let features = Set(ds.featureNames)
    let summaries = ds.columns.map { c -> ColumnSummary in
        let role = c.name == ds.label ? "label" : (features.contains(c.name) ? "feature" : "")
        var s = ColumnSummary(name: c.name, type: c.type, role: role, missing: c.missingCount, distinct: 0,
                              min: nil, max: nil, mean: nil, std: nil, top: [])
        if let v = c.doubles {
            let st = RunningStats(v)
            if st.count > 0 { s.min = st.min; s.max = st.max; s.mean = st.mean; s.std = st.std }
            s.distinct = Set(v.filter { !$0.isNaN }).count
        } else if let texts = c.strings {
            var counts: [String: Int] = [:]
            for t in texts { if let t { counts[t, default: 0] += 1 } }
            s.distinct = counts.count
            s.top = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(5).map { TopValue(value: $0.key, count: $0.value) }
        }
        return s
    }
    return DescribeReport(rows: ds.rowCount, columns: summaries, lineageHash: ds.lineage.hash)
}

/// Mean, population std, min, max over the non-NaN values (Welford, for stability).
struct RunningStats {
    var count = 0, mean = 0.0, m2 = 0.0, min = Double.infinity, max = -Double.infinity
    init(_ values: [Double]) {
        for x in values where !x.isNaN {
            count += 1
            let d = x - mean
            mean += d / Double(count)
            m2 += d * (x - mean)
            if x < min { min = x }
            if x > max { max = x }
        }
    }
    var std: Double { count > 0 ? (m2 / Double(count)).squareRoot() : 0 }
}
