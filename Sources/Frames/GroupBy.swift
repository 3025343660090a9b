import Foundation

/// One aggregation of `Dataset.groupBy`. Every one skips missing cells, as pandas does.
public enum Aggregation: Equatable, Sendable, CustomStringConvertible {
    /// Rows in the group (`count()`), or non-missing cells of a column (`count("x")`).
    case count(String?)
    case sum(String), mean(String), min(String), max(String)
    /// Sample standard deviation and variance (ddof 1, pandas' default); null under 2 values.
    case std(String), variance(String)
    case median(String)
    /// Linear interpolation between the two nearest ranks (pandas' and numpy's default).
    case quantile(String, Double)
    /// First / last non-missing value in row order.
    case first(String), last(String)
    /// Distinct non-missing values.
    case nUnique(String)

    public var column: String? {
        switch self {
        case .count(let c): return c
        case .sum(let c), .mean(let c), .min(let c), .max(let c), .std(let c), .variance(let c), .median(let c),
             .quantile(let c, _), .first(let c), .last(let c), .nUnique(let c): return c
        }
    }

    /// The MLW spelling, used in lineage.
    public var description: String {
        switch self {
        case .count(let c): return "count(\(c.map { "\"\($0)\"" } ?? ""))"
        case .sum(let c): return "sum(\"\(c)\")"
        case .mean(let c): return "mean(\"\(c)\")"
        case .min(let c): return "min(\"\(c)\")"
        case .max(let c): return "max(\"\(c)\")"
        case .std(let c): return "std(\"\(c)\")"
        case .variance(let c): return "variance(\"\(c)\")"
        case .median(let c): return "median(\"\(c)\")"
        case .quantile(let c, let q): return "quantile(\"\(c)\", \(q))"
        case .first(let c): return "first_value(\"\(c)\")"
        case .last(let c): return "last_value(\"\(c)\")"
        case .nUnique(let c): return "n_unique(\"\(c)\")"
        }
    }
}

extension Dataset {
    /// One row per distinct key tuple, sorted by the keys (numbers by value, text by code
    /// point), with the key columns first and then one column per aggregation. Rows with a
    /// missing key are left out (pandas' `dropna=True`). Hash-based: keys become dense ids in
    /// one pass; each aggregation is then one pass over the ids (median, quantile and
    /// n_unique sort each group's values).
    ///
    ///     let per = try ds.groupBy(["user"], [("n", .count(nil)), ("total", .sum("amount"))])
    public func groupBy(_ keys: [String], _ aggs: [(String, Aggregation)]) throws -> Dataset {
        guard !keys.isEmpty else { throw DataError(.badArgument, "group_by needs at least one key column") }
        let keyCols = try keys.map { try column($0) }
        var names = Set(keys)
        for (n, a) in aggs {
            if let c = a.column { _ = try column(c) }
            guard names.insert(n).inserted else { throw DataError(.badArgument, "output column '\(n)' is named twice") }
        }
        let codes = try encodeKeys([keyCols])
        let groups = Groups(ids: codes.ids[0], count: keys.isEmpty ? 1 : codes.count, keyCols: keyCols)
        var out: [Column] = keyCols.map { $0.gather(groups.firstRow) }
        for (name, agg) in aggs {
            var c = try groups.aggregate(agg, self)
            c.name = name
            out.append(c)
        }
        let params = "keys=\(keys.joined(separator: ",")) " + aggs.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return Dataset(columns: out, lineage: lineage.appending("group_by", params))
    }
}

/// Rows grouped by dense, key-ordered group ids.
struct Groups {
    /// Per row its group (-1: a null key, in no group).
    let gid: [Int32]
    let count: Int
    /// The first row of each group, in key order (gives the key columns of the output).
    let firstRow: [Int]

    init(ids: [Int32], count nIds: Int, keyCols: [Column]) {
        var first = [Int](repeating: -1, count: nIds)
        for r in 0..<ids.count where ids[r] >= 0 && first[Int(ids[r])] < 0 { first[Int(ids[r])] = r }
        // Order the groups by their keys: rank each key column once, then compare Ints.
        let ranks = keyCols.map { $0.ranks() }
        let order = (0..<nIds).sorted { a, b in
            for rk in ranks {
                let x = rk[first[a]], y = rk[first[b]]
                if x != y { return x < y }
            }
            return false
        }
        var position = [Int32](repeating: 0, count: nIds)
        for (p, g) in order.enumerated() { position[g] = Int32(p) }
        gid = ids.map { $0 < 0 ? -1 : position[Int($0)] }
        count = nIds
        firstRow = order.map { first[$0] }
    }

    /// Rows ordered by group (row order within a group) and where each group starts.
    func segments() -> (rows: [Int], starts: [Int]) {
        var starts = [Int](repeating: 0, count: count + 1)
        for g in gid where g >= 0 { starts[Int(g) + 1] += 1 }
        for g in 0..<count { starts[g + 1] += starts[g] }
        var next = Array(starts.dropLast())
        var rows = [Int](repeating: 0, count: starts[count])
        for (r, g) in gid.enumerated() where g >= 0 {
            rows[next[Int(g)]] = r
            next[Int(g)] += 1
        }
        return (rows, starts)
    }

    func aggregate(_ agg: Aggregation, _ ds: Dataset) throws -> Column {
        switch agg {
        case .count(nil):
            var n = [Int](repeating: 0, count: count)
            for g in gid where g >= 0 { n[Int(g)] += 1 }
            return Column(name: "", data: .int(n))
        case .count(let c?):
            let col = try ds.column(c)
            var n = [Int](repeating: 0, count: count)
            for (r, g) in gid.enumerated() where g >= 0 && !col.missing[r] && !isNaNCell(col, r) { n[Int(g)] += 1 }
            return Column(name: "", data: .int(n))
        case .sum(let c): return try sum(try ds.column(c))
        case .mean(let c):
            let (s, n) = try sums(try ds.column(c), "mean")
            return floats((0..<count).map { n[$0] > 0 ? s[$0] / Double(n[$0]) : nil })
        case .std(let c), .variance(let c):
            let col = try ds.column(c)
            let (s, n) = try sums(col, agg.description)
            let v = numbers(col, agg.description)!
            var dev = [Double](repeating: 0, count: count)
            for (r, g) in gid.enumerated() where g >= 0 && !v[r].isNaN {
                let d = v[r] - s[Int(g)] / Double(n[Int(g)])
                dev[Int(g)] += d * d
            }
            let isStd: Bool = { if case .std = agg { return true } else { return false } }()
            return floats((0..<count).map { g in
                n[g] < 2 ? nil : (isStd ? (dev[g] / Double(n[g] - 1)).squareRoot() : dev[g] / Double(n[g] - 1))
            })
        case .median(let c): return try quantile(try ds.column(c), 0.5, agg.description)
        case .quantile(let c, let q):
            guard q >= 0 && q <= 1 else { throw DataError(.badArgument, "quantile must be between 0 and 1, got \(q)") }
            return try quantile(try ds.column(c), q, agg.description)
        case .min(let c), .max(let c):
            let col = try ds.column(c)
            let isMin: Bool = { if case .min = agg { return true } else { return false } }()
            let ranks = col.ranks()
            var best = [Int](repeating: -1, count: count)
            for (r, g) in gid.enumerated() where g >= 0 && !col.missing[r] && !isNaNCell(col, r) {
                let b = best[Int(g)]
                if b < 0 || (isMin ? ranks[r] < ranks[b] : ranks[r] > ranks[b]) { best[Int(g)] = r }
            }
            return col.gather(orNull: best)
        case .first(let c), .last(let c):
            let col = try ds.column(c)
            let isFirst: Bool = { if case .first = agg { return true } else { return false } }()
            var pick = [Int](repeating: -1, count: count)
            for (r, g) in gid.enumerated() where g >= 0 && !col.missing[r] && !isNaNCell(col, r) {
                if !isFirst || pick[Int(g)] < 0 { pick[Int(g)] = r }
            }
            return col.gather(orNull: pick)
        case .nUnique(let c):
            let col = try ds.column(c)
            let ids = try encodeKeys([[col]]).ids[0]
            let (rows, starts) = segments()
            var n = [Int](repeating: 0, count: count)
            var buf: [Int32] = []
            for g in 0..<count {
                buf.removeAll(keepingCapacity: true)
                for k in starts[g]..<starts[g + 1] where ids[rows[k]] >= 0 { buf.append(ids[rows[k]]) }
                buf.sort()
                var d = 0
                for i in buf.indices where i == 0 || buf[i] != buf[i - 1] { d += 1 }
                n[g] = d
            }
            return Column(name: "", data: .int(n))
        }
    }

    private func sum(_ col: Column) throws -> Column {
        if case .int(let v) = col.data, !col.isDatetime {
            var s = [Int](repeating: 0, count: count)
            for (r, g) in gid.enumerated() where g >= 0 && !col.missing[r] {
                let (x, o) = s[Int(g)].addingReportingOverflow(v[r])
                if o { throw DataError(.badArgument, "sum(\"\(col.name)\") overflows a 64-bit integer") }
                s[Int(g)] = x
            }
            return Column(name: "", data: .int(s))
        }
        // pandas: the sum of no values is 0.
        return Column(name: "", data: .float(try sums(col, "sum(\"\(col.name)\")").0))
    }

    private func sums(_ col: Column, _ what: String) throws -> ([Double], [Int]) {
        guard let v = numbers(col, what) else {
            throw DataError(.typeConflict, "\(what) needs a numeric column; '\(col.name)' is \(col.type.rawValue)")
        }
        var s = [Double](repeating: 0, count: count)
        var n = [Int](repeating: 0, count: count)
        for (r, g) in gid.enumerated() where g >= 0 && !v[r].isNaN {
            s[Int(g)] += v[r]
            n[Int(g)] += 1
        }
        return (s, n)
    }

    private func numbers(_ col: Column, _ what: String) -> [Double]? {
        col.isDatetime ? nil : col.doubles
    }

    private func quantile(_ col: Column, _ q: Double, _ what: String) throws -> Column {
        guard let v = numbers(col, what) else {
            throw DataError(.typeConflict, "\(what) needs a numeric column; '\(col.name)' is \(col.type.rawValue)")
        }
        let (rows, starts) = segments()
        var out: [Double?] = []
        var buf: [Double] = []
        for g in 0..<count {
            buf.removeAll(keepingCapacity: true)
            for k in starts[g]..<starts[g + 1] where !v[rows[k]].isNaN { buf.append(v[rows[k]]) }
            out.append(interpolatedQuantile(&buf, q))
        }
        return floats(out)
    }

    private func floats(_ xs: [Double?]) -> Column {
        Column(name: "", data: .float(xs.map { $0 ?? .nan }), missing: xs.map { $0 == nil })
    }
}

/// numpy's default ("linear") quantile of `values` (sorted in place); nil when empty.
func interpolatedQuantile(_ values: inout [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    values.sort()
    let pos = q * Double(values.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, values.count - 1)
    let frac = pos - Double(lo)
    return frac == 0 ? values[lo] : values[lo] + (values[hi] - values[lo]) * frac
}

/// A float cell holding NaN counts as missing for aggregations (pandas cannot tell them apart).
@inline(__always) func isNaNCell(_ c: Column, _ r: Int) -> Bool {
    if case .float(let v) = c.data { return v[r].isNaN }
    return false
}
