import Foundation

/// An open-addressing hash table from Int keys to dense ids 0, 1, 2, ... in order of first
/// insertion. Group-by, joins, unique and drop_duplicates all reduce their keys to Ints and
/// go through this one table, so there is no per-row boxing or String hashing of numbers.
struct IntIdTable {
    private(set) var keys: [Int]
    private(set) var ids: [Int32]
    private var shift: Int
    private(set) var count = 0

    init(capacity: Int) {
        var bits = 4
        while (1 << bits) < max(capacity, 8) * 2 { bits += 1 }
        keys = [Int](repeating: 0, count: 1 << bits)
        ids = [Int32](repeating: -1, count: 1 << bits)
        shift = 64 - bits
    }

    /// Fibonacci hashing: the top bits of key * 2^64/phi spread sequential keys well.
    @inline(__always) private func slot(_ k: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(k)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// The id of `k`, inserting it with the next id when new.
    @inline(__always) mutating func id(_ k: Int) -> Int32 {
        if (count + 1) * 2 > ids.count { grow() }
        let mask = ids.count - 1
        var s = slot(k)
        while true {
            let id = ids[s]
            if id < 0 {
                keys[s] = k; ids[s] = Int32(count); count += 1
                return ids[s]
            }
            if keys[s] == k { return id }
            s = (s + 1) & mask
        }
    }

    /// The id of `k`, or -1 when absent.
    @inline(__always) func find(_ k: Int) -> Int32 {
        let mask = ids.count - 1
        var s = slot(k)
        while true {
            let id = ids[s]
            if id < 0 || keys[s] == k { return id }
            s = (s + 1) & mask
        }
    }

    private mutating func grow() {
        var bigger = IntIdTable(capacity: ids.count)
        // Re-insert in id order so ids stay the same.
        var byId = [Int](repeating: 0, count: count)
        for s in 0..<ids.count where ids[s] >= 0 { byId[Int(ids[s])] = keys[s] }
        for k in byId { _ = bigger.id(k) }
        self = bigger
    }
}

/// Dense ids for the key tuples of one or more tables (join: left and right share ids, so
/// equal keys get equal ids). A row with a missing cell in any key column gets -1: null keys
/// never match and form no group (pandas' `dropna=True`).
struct KeyCodes {
    /// Per table, one id per row (-1: a null key).
    var ids: [[Int32]]
    /// Number of distinct key tuples.
    var count: Int
}

/// How one key column's cells become Ints that compare equal exactly when the cells do.
private enum KeyKind { case int, float, text }

private func keyKind(_ c: Column) -> KeyKind {
    switch c.data {
    case .int: return .int
    case .float: return .float
    case .string, .category: return .text
    }
}

/// One integer key column per table whose values span a range at most twice the row
/// count: the id is the value minus the smallest, with no hashing (join keys are usually
/// such ids; hashing 11 M of them was most of a 10 M x 1 M join). Ids are then not in
/// order of first appearance and some are unused, so only callers that need nothing but
/// "equal keys, equal ids" and a bound on the ids (`join`) take this path. Nil otherwise.
func denseIntKeys(_ tables: [[Column]]) -> KeyCodes? {
    guard tables.allSatisfy({ $0.count == 1 }) else { return nil }
    var lo = Int.max, hi = Int.min, rows = 0
    for t in tables {
        guard case .int(let v) = t[0].data else { return nil }
        let missing = t[0].missing
        rows += v.count
        for r in 0..<v.count where !missing[r] { lo = min(lo, v[r]); hi = max(hi, v[r]) }
    }
    guard lo <= hi else { return nil }
    let (span, overflow) = hi.subtractingReportingOverflow(lo)
    guard !overflow, span < Int(Int32.max), span <= 2 * rows + 1024 else { return nil }
    let ids = tables.map { t -> [Int32] in
        guard case .int(let v) = t[0].data else { return [] }
        let missing = t[0].missing
        return [Int32](unsafeUninitializedCapacity: v.count) { out, n in
            for r in 0..<v.count { out[r] = missing[r] ? -1 : Int32(truncatingIfNeeded: v[r] &- lo) }
            n = v.count
        }
    }
    return KeyCodes(ids: ids, count: span + 1)
}

/// `tables[t][k]` is table t's k-th key column. Ints and floats may meet (an int key joins
/// a float key by value); text only matches text.
func encodeKeys(_ tables: [[Column]]) throws -> KeyCodes {
    let nKeys = tables.first?.count ?? 0
    let rows = tables.map { $0.first?.count ?? 0 }
    var combined: [[Int32]] = rows.map { [Int32](repeating: 0, count: $0) }
    var cardinality = 1
    for k in 0..<nKeys {
        let cols = tables.map { $0[k] }
        let kinds = cols.map(keyKind)
        let text = kinds.contains(.text)
        if text && kinds.contains(where: { $0 != .text }) {
            let desc = cols.map { "\($0.name) (\($0.type.rawValue))" }.joined(separator: " and ")
            throw DataError(.typeConflict, "key columns \(desc) cannot be matched: text keys only match text")
        }
        let asFloat = kinds.contains(.float)
        var perColumn: [[Int32]] = []
        var distinct = 0
        if text {
            var dict: [String: Int32] = [:]
            for c in cols { perColumn.append(textIds(c, &dict)) }
            distinct = dict.count
        } else {
            var table = IntIdTable(capacity: min(rows.max() ?? 16, 1 << 16))
            for c in cols { perColumn.append(numberIds(c, asFloat: asFloat, &table)) }
            distinct = table.count
        }
        if k == 0 {
            combined = perColumn
            cardinality = distinct
            continue
        }
        // Fold this column in: (previous id, this id) -> one dense id.
        var table = IntIdTable(capacity: min(rows.max() ?? 16, 1 << 16))
        for t in 0..<tables.count {
            let prev = combined[t], cur = perColumn[t]
            var out = [Int32](repeating: -1, count: prev.count)
            for r in 0..<prev.count where prev[r] >= 0 && cur[r] >= 0 {
                out[r] = table.id(Int(prev[r]) * distinct + Int(cur[r]))
            }
            combined[t] = out
        }
        cardinality = table.count
    }
    return KeyCodes(ids: combined, count: nKeys == 0 ? 1 : cardinality)
}

private func textIds(_ c: Column, _ dict: inout [String: Int32]) -> [Int32] {
    switch c.data {
    case .category(let codes, let levels):
        let levelIds: [Int32] = levels.map { s in
            if let id = dict[s] { return id }
            let id = Int32(dict.count); dict[s] = id; return id
        }
        return codes.map { $0 < 0 ? -1 : levelIds[Int($0)] }
    case .string(let v):
        var out = [Int32](repeating: -1, count: v.count)
        for r in 0..<v.count where !c.missing[r] {
            if let id = dict[v[r]] { out[r] = id } else {
                let id = Int32(dict.count); dict[v[r]] = id; out[r] = id
            }
        }
        return out
    default: return []
    }
}

private func numberIds(_ c: Column, asFloat: Bool, _ table: inout IntIdTable) -> [Int32] {
    var out = [Int32](repeating: -1, count: c.count)
    switch c.data {
    case .int(let v):
        for r in 0..<v.count where !c.missing[r] {
            out[r] = table.id(asFloat ? floatKey(Double(v[r])) : v[r])
        }
    case .float(let v):
        for r in 0..<v.count where !c.missing[r] && !v[r].isNaN { out[r] = table.id(floatKey(v[r])) }
    default: break
    }
    return out
}

/// -0.0 and 0.0 are one key.
@inline(__always) func floatKey(_ x: Double) -> Int { Int(bitPattern: UInt(x == 0 ? 0 : x.bitPattern)) }

extension Column {
    /// The column restricted to `rows`, where -1 gives a missing cell (outer joins, lags,
    /// empty groups). Keeps the column's kind (category levels, datetime).
    func gather(orNull rows: [Int]) -> Column { gatherRows(orNull: rows) }

    /// `gather(orNull:)` for any index width, in one pass (no clamped copy of the rows).
    func gatherRows<I: FixedWidthInteger>(orNull rows: [I]) -> Column {
        var c = self
        c.missing = rows.map { $0 < 0 || missing[Int($0)] }
        switch data {
        case .float(let v): c.data = .float(rows.map { $0 < 0 ? .nan : v[Int($0)] })
        case .int(let v): c.data = .int(rows.map { $0 < 0 ? 0 : v[Int($0)] })
        case .string(let v): c.data = .string(rows.map { $0 < 0 ? "" : v[Int($0)] })
        case .category(let codes, let l): c.data = .category(codes: rows.map { $0 < 0 ? -1 : codes[Int($0)] }, levels: l)
        }
        return c
    }

    static func placeholders(_ like: ColumnData, _ n: Int) -> ColumnData {
        switch like {
        case .float: return .float([Double](repeating: .nan, count: n))
        case .int: return .int([Int](repeating: 0, count: n))
        case .string: return .string([String](repeating: "", count: n))
        case .category(_, let l): return .category(codes: [Int32](repeating: -1, count: n), levels: l)
        }
    }

    /// Compares two cells of this column (nulls are not expected here); text by code points.
    func compareCells(_ i: Int, _ j: Int) -> Int {
        switch data {
        case .int(let v): return v[i] < v[j] ? -1 : (v[i] > v[j] ? 1 : 0)
        case .float(let v): return v[i] < v[j] ? -1 : (v[i] > v[j] ? 1 : 0)
        case .string(let v): return compareText(v[i], v[j])
        case .category(let c, let l): return compareText(l[Int(c[i])], l[Int(c[j])])
        }
    }

    /// Sort keys of every cell (equal cells share a key, order is kept; missing cells get
    /// Int.max), so sorts and ordered groups compare Ints instead of strings or doubles.
    func ranks() -> [Int] {
        switch data {
        case .int(let v):
            return (0..<v.count).map { missing[$0] ? Int.max : v[$0] }
        case .float(let v):
            // The double's bits made order-preserving as a signed Int (negatives flipped),
            // -0 as 0: equal values share a key, and no sort is needed (the former dense
            // ranks cost a full sort of the column for every min/max aggregation).
            return [Int](unsafeUninitializedCapacity: v.count) { out, n in
                for i in 0..<v.count {
                    let d = v[i]
                    if missing[i] || d.isNaN { out[i] = .max; continue }
                    let bits = (d == 0 ? 0.0 : d).bitPattern
                    let key = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
                    out[i] = Int(bitPattern: UInt(key ^ (1 << 63)))   // +inf stays below Int.max
                }
                n = v.count
            }
        case .string(let v):
            var dict: [String: Int] = [:]
            for r in 0..<v.count where !missing[r] { dict[v[r]] = 0 }
            let sorted = dict.keys.sorted { compareText($0, $1) < 0 }
            for (i, s) in sorted.enumerated() { dict[s] = i }
            return (0..<v.count).map { missing[$0] ? .max : dict[v[$0]]! }
        case .category(let codes, let levels):
            let order = levels.indices.sorted { compareText(levels[$0], levels[$1]) < 0 }
            var levelRank = [Int](repeating: 0, count: levels.count)
            for (i, l) in order.enumerated() { levelRank[l] = i }
            return codes.map { $0 < 0 ? .max : levelRank[Int($0)] }
        }
    }
}

/// Text order by Unicode code points (UTF-8 bytes), as Python and Arrow sort strings.
@inline(__always) func compareText(_ a: String, _ b: String) -> Int {
    if a == b { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
}
