import Foundation

/// Ranking quality at k over the users of a test set (`rank_metrics`). precision, map and
/// ndcg follow `implicit.evaluation.ranking_metrics_at_k`: precision is hits over
/// sum(min(k, |relevant|)); map and ndcg average per user with the ideal list cut at
/// min(k, |relevant|). recall is hits / |relevant| per user, hit_rate the share of users
/// with a hit, coverage the share of items recommended to anyone.
public struct RankMetrics: Equatable, Sendable {
    public var k: Int
    public var precision = 0.0, recall = 0.0, map = 0.0, ndcg = 0.0, hitRate = 0.0, coverage = 0.0
    public var rmse: Double?
    public var users = 0
    public var unknownUsers = 0
    public var unknownItems = 0
}

/// Test entries as (user id, item id, value) triples; ids unknown to the model are counted.
public func rankMetrics(_ r: Recommender, test: [(user: String, item: String, value: Double)], k: Int) throws -> RankMetrics {
    guard k >= 1 else { throw RecommendError("rank_metrics: 'k' must be at least 1, got \(k)") }
    var m = RankMetrics(k: k)
    var relevant: [Int: Set<Int>] = [:]
    var unknownUsers = Set<String>()
    var sq = 0.0, rated = 0
    for t in test {
        guard let u = r.userIndex(t.user) else { unknownUsers.insert(t.user); continue }
        guard let i = r.itemIndex(t.item) else { m.unknownItems += 1; continue }
        relevant[u, default: []].insert(i)
        if r.meta.explicit, r.meta.mean != nil {
            let d = r.rating(user: u, item: i) - t.value
            sq += d * d; rated += 1
        }
    }
    m.unknownUsers = unknownUsers.count
    let users = relevant.keys.sorted()
    m.users = users.count
    guard !users.isEmpty else { return m }
    let answers = try r.recommend(users: users.map { Optional($0) }, k: k, excludeSeen: true)
    var hits = 0, prDiv = 0, recallSum = 0.0, apSum = 0.0, ndcgSum = 0.0, hitUsers = 0
    var covered = Set<Int>()
    for (u, a) in zip(users, answers) {
        let rel = relevant[u]!
        covered.formUnion(a.items)
        var h = 0, ap = 0.0, dcg = 0.0
        for (rank, i) in a.items.enumerated() where rel.contains(i) {
            h += 1
            ap += Double(h) / Double(rank + 1)
            dcg += 1 / log2(Double(rank + 2))
        }
        let cut = min(k, rel.count)
        let idcg = (0..<cut).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        hits += h; prDiv += cut
        recallSum += Double(h) / Double(rel.count)
        apSum += ap / Double(cut)
        ndcgSum += dcg / idcg
        if h > 0 { hitUsers += 1 }
    }
    let n = Double(users.count)
    m.precision = Double(hits) / Double(prDiv)
    m.recall = recallSum / n
    m.map = apSum / n
    m.ndcg = ndcgSum / n
    m.hitRate = Double(hitUsers) / n
    m.coverage = Double(covered.count) / Double(max(r.itemCount, 1))
    if rated > 0 { m.rmse = (sq / Double(rated)).squareRoot() }
    return m
}

extension Interactions {
    /// Entries as id triples (for `rankMetrics` on another set's maps).
    public var triples: [(user: String, item: String, value: Double)] {
        var out: [(user: String, item: String, value: Double)] = []
        out.reserveCapacity(count)
        for u in 0..<users.count { for e in byUser.range(u) { out.append((users.ids[u], items.ids[Int(byUser.indices[e])], Double(byUser.values[e]))) } }
        return out
    }
}
