import Foundation

/// Errors from building, fitting or asking recommenders; the message is the user's sentence.
public struct RecommendError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Ids kept both ways: `ids[i]` is the id of index i, `index[id]` its index. Integer ids are
/// kept as their decimal text with `integer` set, so answers give them back as integers.
public struct IdMap: Codable, Equatable, Sendable {
    public var ids: [String]
    public var integer: Bool
    public private(set) var index: [String: Int]

    public init(ids: [String], integer: Bool) {
        self.ids = ids; self.integer = integer
        var d = [String: Int](minimumCapacity: ids.count)
        for (i, s) in ids.enumerated() { d[s] = i }
        index = d
    }
    enum CodingKeys: String, CodingKey { case ids, integer }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(ids: try c.decode([String].self, forKey: .ids), integer: try c.decode(Bool.self, forKey: .integer))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ids, forKey: .ids); try c.encode(integer, forKey: .integer)
    }
    public var count: Int { ids.count }
}

/// Compressed sparse rows: row r's columns are `indices[indptr[r]..<indptr[r+1]]`, sorted.
public struct CSR: Equatable, Sendable {
    public var rows: Int
    public var cols: Int
    public var indptr: [Int64]
    public var indices: [Int32]
    public var values: [Float]

    public var nnz: Int { indices.count }
    public func range(_ r: Int) -> Range<Int> { Int(indptr[r])..<Int(indptr[r + 1]) }

    /// From (row, col, value) triples; each (row, col) must appear once.
    public init(rows: Int, cols: Int, triples: [(Int32, Int32, Float)]) {
        self.rows = rows; self.cols = cols
        var counts = [Int64](repeating: 0, count: rows + 1)
        for t in triples { counts[Int(t.0) + 1] += 1 }
        for r in 0..<rows { counts[r + 1] += counts[r] }
        indptr = counts
        var next = counts
        var idx = [Int32](repeating: 0, count: triples.count), val = [Float](repeating: 0, count: triples.count)
        for t in triples {
            let p = Int(next[Int(t.0)]); next[Int(t.0)] += 1
            idx[p] = t.1; val[p] = t.2
        }
        for r in 0..<rows {
            let a = Int(indptr[r]), b = Int(indptr[r + 1])
            if b - a > 1 {
                let order = (a..<b).sorted { idx[$0] < idx[$1] }
                let (ci, cv) = (order.map { idx[$0] }, order.map { val[$0] })
                idx.replaceSubrange(a..<b, with: ci); val.replaceSubrange(a..<b, with: cv)
            }
        }
        indices = idx; values = val
    }

    public var transposed: CSR {
        var t: [(Int32, Int32, Float)] = []
        t.reserveCapacity(nnz)
        for r in 0..<rows { for e in range(r) { t.append((indices[e], Int32(r), values[e])) } }
        return CSR(rows: cols, cols: rows, triples: t)
    }

    /// The row index of every entry (BPR samples entries).
    public var rowOfEntry: [Int32] {
        var out = [Int32](repeating: 0, count: nnz)
        for r in 0..<rows { for e in range(r) { out[e] = Int32(r) } }
        return out
    }
}

/// A user x item matrix of interactions: CSR by user and its transpose by item, the id maps,
/// weights (counts of repeated pairs, or the rating), and the latest time of each pair.
public struct Interactions: Sendable {
    public var users: IdMap
    public var items: IdMap
    public var byUser: CSR
    public var byItem: CSR
    /// Per entry of `byUser` (nil without a time column).
    public var times: [Double]?
    /// Weights are ratings (`value:` given), not counts.
    public var explicit: Bool
    public var userColumn: String
    public var itemColumn: String

    public var count: Int { byUser.nnz }

    /// The largest matrix built: entries, users and items each below this.
    public static let maxEntries = 1 << 31 - 1

    /// Builds from one row per event. Repeated (user, item) pairs add up (counts) or keep the
    /// latest value (ratings: the latest by time, else the last row).
    public init(users u: [String], items it: [String], integerUsers: Bool, integerItems: Bool,
                values: [Double]?, times: [Double]?, userColumn: String = "user_id", itemColumn: String = "item_id") throws {
        guard u.count == it.count else { throw RecommendError("interactions: \(u.count) users but \(it.count) items") }
        guard u.count < Self.maxEntries else { throw RecommendError("interactions: \(u.count) rows is more than the limit \(Self.maxEntries)") }
        var uIndex: [String: Int32] = [:], iIndex: [String: Int32] = [:]
        var uIds: [String] = [], iIds: [String] = []
        var pairs: [Int64: Int] = [:]
        var triples: [(Int32, Int32, Float)] = []
        var tvals: [Double] = []
        for r in 0..<u.count {
            let a = uIndex[u[r]] ?? { let n = Int32(uIds.count); uIndex[u[r]] = n; uIds.append(u[r]); return n }()
            let b = iIndex[it[r]] ?? { let n = Int32(iIds.count); iIndex[it[r]] = n; iIds.append(it[r]); return n }()
            let v = values.map { Float($0[r]) } ?? 1
            if let values, !values[r].isFinite { throw RecommendError("interactions: row \(r + 1) has a non-finite value \(values[r])") }
            let t = times?[r] ?? Double(r)
            let key = Int64(a) << 32 | Int64(b)
            if let p = pairs[key] {
                if values == nil { triples[p].2 += 1 } else if t >= tvals[p] { triples[p].2 = v }
                tvals[p] = Swift.max(tvals[p], t)
            } else {
                pairs[key] = triples.count
                triples.append((a, b, v)); tvals.append(t)
            }
        }
        users = IdMap(ids: uIds, integer: integerUsers)
        items = IdMap(ids: iIds, integer: integerItems)
        explicit = values != nil
        self.userColumn = userColumn; self.itemColumn = itemColumn
        // Times ride along as the entry value of a parallel matrix, so they follow the sort.
        byUser = CSR(rows: uIds.count, cols: iIds.count, triples: triples)
        byItem = byUser.transposed
        if times != nil {
            let tm = CSR(rows: uIds.count, cols: iIds.count, triples: zip(triples, tvals).map { ($0.0.0, $0.0.1, Float($0.1)) })
            self.times = tm.values.map(Double.init)
        } else { self.times = nil }
    }

    /// Same maps, other entries (splits).
    public init(like x: Interactions, byUser: CSR, times: [Double]?) {
        users = x.users; items = x.items; explicit = x.explicit; userColumn = x.userColumn; itemColumn = x.itemColumn
        self.byUser = byUser; byItem = byUser.transposed; self.times = times
    }

    public var description: String {
        let density = users.count * items.count == 0 ? 0 : Double(count) / Double(users.count * items.count)
        return "<interactions: \(users.count) users x \(items.count) items, \(count) entries (density \(String(format: "%.4g", density))), "
            + (explicit ? "ratings" : "counts") + (times != nil ? ", timed" : "") + ">"
    }
}
