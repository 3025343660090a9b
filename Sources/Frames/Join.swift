import Foundation

/// Which rows a join keeps.
public enum JoinKind: String, Sendable, CaseIterable {
    /// Pairs of matching rows.
    case inner
    /// Every left row; right columns missing where nothing matches.
    case left
    /// Every row of both sides (left-join rows first, then the unmatched right rows).
    case outer
    /// Left rows with at least one match (left columns only, each row once).
    case semi
    /// Left rows with no match (left columns only).
    case anti
}

extension Dataset {
    /// A hash join: the right side's keys go into a hash table (a chain per key, in row
    /// order), the left side probes it. Output rows follow the left rows' order, and for one
    /// left row its matches follow the right rows' order. Null keys never match. With the
    /// same key names on both sides (`on`), the keys appear once (an outer join fills them
    /// from whichever side has the row); with `leftOn`/`rightOn` both key columns are kept.
    /// Other names on both sides get `suffixes` (pandas' `_x`, `_y` by default).
    ///
    ///     let rows = try tx.join(users, leftOn: ["user_id"], rightOn: ["user_id"], how: .left)
    public func join(_ right: Dataset, leftOn: [String], rightOn: [String], how: JoinKind = .inner,
                     suffixes: (String, String) = ("_x", "_y")) throws -> Dataset {
        guard !leftOn.isEmpty, leftOn.count == rightOn.count else {
            throw DataError(.badArgument, "join needs the same number (at least one) of left and right key columns, got \(leftOn.count) and \(rightOn.count)")
        }
        let lk = try leftOn.map { try column($0) }
        let rk = try rightOn.map { try right.column($0) }
        guard rowCount < Int(Int32.max), right.rowCount < Int(Int32.max) else {
            throw DataError(.badArgument, "join takes at most \(Int32.max - 1) rows per side, got \(rowCount) and \(right.rowCount)")
        }
        // The key codes and the hash chains are freed when this closure returns, before the
        // output columns are built; the row pairs are Int32 (half the memory of Int).
        let (li, ri) = try { () throws -> ([Int32], [Int32]) in
            let codes = try denseIntKeys([lk, rk]) ?? encodeKeys([lk, rk])
            return matchRows(codes, how: how)
        }()
        var params = "how=\(how.rawValue) left_on=\(leftOn.joined(separator: ",")) right_on=\(rightOn.joined(separator: ","))"
        params += " suffixes=\(suffixes.0),\(suffixes.1) right=\(right.lineage.hash)"
        // Every left row once, in order (a many-to-one join where all keys match, or a semi
        // join keeping everything): the left columns are shared, not copied.
        let leftWhole = li.count == rowCount && li.withUnsafeBufferPointer { b in
            b.indices.allSatisfy { b[$0] == Int32(truncatingIfNeeded: $0) }
        }
        if how == .semi || how == .anti {
            var out = leftWhole ? self : gatherRows32(li)
            out.lineage = lineage.merging(right.lineage, "join", params)
            return out
        }
        let sameKeys = leftOn == rightOn
        let rightCols = right.columns.filter { !(sameKeys && rightOn.contains($0.name)) }
        let rightNames = Set(rightCols.map(\.name)), leftNames = Set(columnNames)
        var out: [Column] = []
        // Only outer joins have rows missing on the left, and inner joins none on either side:
        // those columns are plain gathers (no null pass over 10 M indices per column).
        func take(_ c: Column, _ rows: [Int32], nulls: Bool) -> Column {
            nulls ? c.gatherRows(orNull: rows) : c.gatherRows(rows)
        }
        for c in columns {
            var g = leftWhole ? c : take(c, li, nulls: how == .outer)
            if sameKeys, how == .outer, let k = leftOn.firstIndex(of: c.name) {
                g = try coalesce(g, rk[k].gatherRows(orNull: ri))
            }
            if rightNames.contains(c.name) && !(sameKeys && leftOn.contains(c.name)) { g.name += suffixes.0 }
            out.append(g)
        }
        for c in rightCols {
            var g = take(c, ri, nulls: how != .inner)
            if leftNames.contains(c.name) { g.name += suffixes.1 }
            out.append(g)
        }
        var seen = Set<String>()
        for c in out where !seen.insert(c.name).inserted {
            throw DataError(.badArgument, "join would make two columns named '\(c.name)'; pass other suffixes")
        }
        let lines = leftWhole ? sourceLines : li.map { $0 >= 0 ? sourceLines[Int($0)] : 0 }
        return Dataset(columns: out, sourceLines: lines, lineage: lineage.merging(right.lineage, "join", params))
    }

    /// `gather` with Int32 rows (joins).
    func gatherRows32(_ rows: [Int32]) -> Dataset {
        var out = self
        out.columns = columns.map { $0.gatherRows(rows) }
        out.sourceLines = rows.map { sourceLines[Int($0)] }
        return out
    }
}

/// Pairs of (left row, right row), -1 for "no row on this side".
private func matchRows(_ codes: KeyCodes, how: JoinKind) -> ([Int32], [Int32]) {
    let left = codes.ids[0], right = codes.ids[1]
    // head[key]: first right row with that key; next[row]: the following one (-1 ends).
    var head = [Int32](repeating: -1, count: codes.count)
    var next = [Int32](repeating: -1, count: right.count)
    for r in stride(from: right.count - 1, through: 0, by: -1) where right[r] >= 0 {
        next[r] = head[Int(right[r])]
        head[Int(right[r])] = Int32(r)
    }
    var li: [Int32] = [], ri: [Int32] = []
    li.reserveCapacity(left.count); if how != .semi && how != .anti { ri.reserveCapacity(left.count) }
    var rightMatched = how == .outer ? [Bool](repeating: false, count: right.count) : []
    for l in 0..<left.count {
        let k = left[l]
        var r = k >= 0 ? head[Int(k)] : -1
        switch how {
        case .semi: if r >= 0 { li.append(Int32(l)) }
        case .anti: if r < 0 { li.append(Int32(l)) }
        case .inner, .left, .outer:
            if r < 0 {
                if how != .inner { li.append(Int32(l)); ri.append(-1) }
                continue
            }
            while r >= 0 {
                li.append(Int32(l)); ri.append(r)
                if how == .outer { rightMatched[Int(r)] = true }
                r = next[Int(r)]
            }
        }
    }
    if how == .outer {
        for r in 0..<right.count where !rightMatched[r] { li.append(-1); ri.append(Int32(r)) }
    }
    return (li, ri)
}

/// `a` where present, else `b` (outer-join keys). Ints and floats meet as floats, text as text.
private func coalesce(_ a: Column, _ b: Column) throws -> Column {
    let n = a.count
    var missing = a.missing
    switch (a.data, b.data) {
    case (.int(var x), .int(let y)):
        for i in 0..<n where a.missing[i] { x[i] = y[i]; missing[i] = b.missing[i] }
        var c = Column(name: a.name, data: .int(x), missing: missing)
        c.isDatetime = a.isDatetime
        return c
    case (.int, .float), (.float, .int), (.float, .float):
        var x = a.doubles!
        let y = b.doubles!
        for i in 0..<n where a.missing[i] { x[i] = y[i]; missing[i] = b.missing[i] }
        return Column(name: a.name, data: .float(x), missing: missing)
    default:
        let x = a.strings!, y = b.strings!
        let v = (0..<n).map { x[$0] ?? y[$0] }
        return Column(name: a.name, data: .string(v.map { $0 ?? "" }), missing: v.map { $0 == nil })
    }
}
