import Graph
import Optimize
import Tensor
import Train
import XCTest
@testable import Recommend

/// Planted clusters: user u belongs to cluster u % c and interacts with `per` items drawn
/// from its cluster's block of items (plus one random item as noise).
func plantedInteractions(users: Int = 120, clusters: Int = 4, itemsPerCluster: Int = 15, per: Int = 8, seed: UInt64 = 7,
                         ratings: Bool = false, skew: Bool = false) throws -> Interactions {
    var rng = Support_SplitMix(seed)
    var us: [String] = [], its: [String] = [], vals: [Double] = [], ts: [Double] = []
    let items = clusters * itemsPerCluster
    for u in 0..<users {
        let c = u % clusters
        var chosen = Set<Int>()
        while chosen.count < per {
            // skew: item j of a block drawn with probability falling with j (a popularity order to learn).
            let r = Double(rng.next() >> 11) / Double(1 << 53)
            let j = skew ? Int(Double(itemsPerCluster) * r * r * r) : Int(rng.next() % UInt64(itemsPerCluster))
            chosen.insert(c * itemsPerCluster + j)
        }
        chosen.insert(Int(rng.next() % UInt64(items)))
        for (t, i) in chosen.sorted().enumerated() {
            us.append("u\(u)"); its.append(String(i)); ts.append(Double(t))
            vals.append(i / itemsPerCluster == c ? 5 : 1)
        }
    }
    return try Interactions(users: us, items: its, integerUsers: false, integerItems: true, values: ratings ? vals : nil, times: ts)
}

/// A tiny SplitMix64 (the tests do not import Support).
struct Support_SplitMix {
    var s: UInt64
    init(_ seed: UInt64) { s = seed }
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class InteractionsTests: XCTestCase {
    func testCSRBothWaysAndIdMaps() throws {
        let x = try Interactions(users: ["a", "b", "a", "c", "a"], items: ["10", "20", "10", "30", "30"], integerUsers: false, integerItems: true,
                                 values: nil, times: nil)
        XCTAssertEqual(x.users.ids, ["a", "b", "c"])
        XCTAssertEqual(x.items.ids, ["10", "20", "30"])
        XCTAssertEqual(x.count, 4)
        XCTAssertEqual(x.byUser.indptr, [0, 2, 3, 4])
        XCTAssertEqual(x.byUser.indices, [0, 2, 1, 2])
        XCTAssertEqual(x.byUser.values, [2, 1, 1, 1])   // a-10 twice: a count of 2
        XCTAssertEqual(x.byItem.indptr, [0, 1, 2, 4])
        XCTAssertEqual(x.byItem.indices, [0, 1, 0, 2])
        XCTAssertEqual(x.users.index["c"], 2)
    }

    func testRatingsKeepLatest() throws {
        let x = try Interactions(users: ["a", "a"], items: ["i", "i"], integerUsers: false, integerItems: false,
                                 values: [3, 5], times: [10, 2])
        XCTAssertEqual(x.byUser.values, [3])   // the rating at time 10 is the latest
        XCTAssertTrue(x.explicit)
    }

    func testSplitByUserAndTime() throws {
        let x = try plantedInteractions()
        let (tr, te) = try x.split(test: 0.2, byTime: false, seed: 1)
        XCTAssertEqual(tr.count + te.count, x.count)
        for u in 0..<x.users.count {
            XCTAssertGreaterThan(tr.byUser.range(u).count, 0)
            XCTAssertEqual(Set(tr.byUser.range(u).map { tr.byUser.indices[$0] }).intersection(te.byUser.range(u).map { te.byUser.indices[$0] }), [])
        }
        let (tr2, te2) = try x.split(test: 0.2, byTime: true, seed: 1)
        for u in 0..<x.users.count {
            let trainMax = tr2.byUser.range(u).map { tr2.times![$0] }.max()!
            let testMin = te2.byUser.range(u).map { te2.times![$0] }.min()!
            XCTAssertLessThan(trainMax, testMin)
        }
        XCTAssertThrowsError(try x.split(test: 1.5, byTime: false, seed: 0))
    }
}

final class ModelTests: XCTestCase {
    /// Share of a user's top-k items that lie in the user's planted cluster.
    func clusterPurity(_ r: Recommender, clusters: Int = 4, itemsPerCluster: Int = 15, k: Int = 5) throws -> Double {
        let users = (0..<r.userCount).map { Optional($0) }
        let answers = try r.recommend(users: users, k: k, excludeSeen: true)
        var inCluster = 0, total = 0
        for (u, a) in answers.enumerated() {
            let c = Int(r.meta.users.ids[u].dropFirst())! % clusters
            for i in a.items { total += 1; if Int(r.meta.items.ids[i])! / itemsPerCluster == c { inCluster += 1 } }
        }
        return Double(inCluster) / Double(total)
    }

    func testImplicitALSRecoversClustersAndLossDecreases() throws {
        let x = try plantedInteractions()
        var o = FactorOptions(); o.factors = 8; o.iterations = 8; o.alpha = 10; o.l2 = 0.1; o.seed = 3
        let r = try Recommend.als(x, o)
        XCTAssertGreaterThan(try clusterPurity(r), 0.9)
        let h = r.meta.history
        XCTAssertEqual(h.count, 8)
        for i in 1..<h.count { XCTAssertLessThanOrEqual(h[i], h[i - 1] * (1 + 1e-6), "iteration \(i)") }
        // Deterministic for a seed.
        let r2 = try Recommend.als(x, o)
        XCTAssertEqual(r.userVectors, r2.userVectors)
    }

    func testExplicitALSRecoversClustersAndFitsRatings() throws {
        let x = try plantedInteractions(ratings: true)
        var o = FactorOptions(); o.factors = 6; o.iterations = 6; o.implicit = false; o.l2 = 0.1; o.seed = 1
        let r = try Recommend.als(x, o)
        let h = r.meta.history
        for i in 1..<h.count { XCTAssertLessThanOrEqual(h[i], h[i - 1] * (1 + 1e-6)) }
        // Ratings it was trained on come back close.
        let u = r.userIndex("u0")!, i = r.itemIndex(x.items.ids[Int(x.byUser.indices[0])])!
        XCTAssertEqual(r.rating(user: u, item: i), Double(x.byUser.values[0]), accuracy: 1.0)
    }

    func testBPRRecoversClustersDeterministically() throws {
        let x = try plantedInteractions()
        var o = FactorOptions(); o.factors = 8; o.iterations = 60; o.learningRate = 0.05; o.l2 = 0.001; o.seed = 5
        let r = try Recommend.bpr(x, o)
        XCTAssertGreaterThan(try clusterPurity(r), 0.85)
        let r2 = try Recommend.bpr(x, o)
        XCTAssertEqual(r.userVectors, r2.userVectors)
        XCTAssertEqual(r.itemMatrix, r2.itemMatrix)
    }

    func testItemKNNAndPopularity() throws {
        let x = try plantedInteractions()
        for bm25 in [false, true] {
            let r = try Recommend.itemKNN(x, k: 10, bm25: bm25)
            XCTAssertGreaterThan(try clusterPurity(r), 0.9)
            let s = try r.similarItems(0, k: 5)
            XCTAssertTrue(s.items.allSatisfy { Int(r.meta.items.ids[$0])! / 15 == Int(r.meta.items.ids[0])! / 15 })
        }
        let p = try Recommend.popularity(x)
        let a = try p.recommend(users: [0], k: 3, excludeSeen: false)[0]
        XCTAssertEqual(a.scores, a.scores.sorted(by: >))
        XCTAssertEqual(a.scores[0], p.meta.popularity.max())
    }

    /// The kernel's top-k (blocked scores, heap, seen skipped) against a full sort.
    func testTopKAgainstFullSort() throws {
        let x = try plantedInteractions(users: 50)
        var o = FactorOptions(); o.factors = 5; o.iterations = 2
        let r = try Recommend.als(x, o)
        let got = try r.recommend(users: (0..<50).map { Optional($0) }, k: 7, excludeSeen: true)
        for u in 0..<50 {
            let seen = Set(x.byUser.range(u).map { Int(x.byUser.indices[$0]) })
            let scores = (0..<r.itemCount).map { i in (0..<r.f).reduce(Float(0)) { $0 + r.userVectors[u * r.f + $1] * r.itemMatrix[$1 * r.itemCount + i] } }
            let want = (0..<r.itemCount).filter { !seen.contains($0) }.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(7)
            XCTAssertEqual(got[u].items, Array(want), "user \(u)")
        }
    }

    /// The graph (embedding -> dense -> top_k) gives the same items as `recommend` without
    /// excluding seen items, and survives a model file round trip.
    func testGraphMatchesRecommendAndRoundTrips() throws {
        let x = try plantedInteractions(users: 40)
        var o = FactorOptions(); o.factors = 4; o.iterations = 3
        let r = try Recommend.als(x, o)
        let users = [0, 5, 39]
        let out = try predict(r.model, try Tensor(users.map { Float($0) }, shape: [3, 1]))
        let want = try r.recommend(users: users.map { Optional($0) }, k: Recommender.graphK, excludeSeen: false)
        XCTAssertEqual(out.shape, [3, Recommender.graphK])
        for (j, a) in want.enumerated() { XCTAssertEqual(Array(out.toFloats()[(j * 10)..<((j + 1) * 10)]).map { Int($0) }, a.items) }
        let loaded = try Recommender(try ModelFile.decode(try ModelFile.encode(r.model)))
        XCTAssertEqual(try loaded.recommend(users: [3], k: 5, excludeSeen: true), try r.recommend(users: [3], k: 5, excludeSeen: true))
    }

    func testColdStartAndUnknownUsers() throws {
        let x = try plantedInteractions()
        var o = FactorOptions(); o.factors = 8; o.iterations = 8; o.alpha = 10; o.l2 = 0.1
        let r = try Recommend.als(x, o)
        // A new user who liked items of cluster 2 gets cluster-2 items.
        let given = [30, 31, 33, 35].map { r.itemIndex(String($0))! }
        let a = try r.recommend(items: given, k: 5)
        XCTAssertTrue(a.items.allSatisfy { Int(r.meta.items.ids[$0])! / 15 == 2 }, "\(a.items.map { r.meta.items.ids[$0] })")
        XCTAssertTrue(Set(a.items).isDisjoint(with: given))
        let unknown = try r.recommend(users: [nil], k: 3, excludeSeen: true)[0]
        XCTAssertFalse(unknown.known)
        XCTAssertEqual(unknown.items, r.popular(3).items)
    }

    func testRankMetricsByHand() throws {
        let x = try plantedInteractions()
        let (tr, te) = try x.split(test: 0.25, byTime: false, seed: 2)
        let pop = try Recommend.popularity(tr)
        var o = FactorOptions(); o.factors = 8; o.iterations = 8; o.alpha = 10; o.l2 = 0.1
        let als = try Recommend.als(tr, o)
        let mp = try rankMetrics(pop, test: te.triples, k: 10), ma = try rankMetrics(als, test: te.triples, k: 10)
        XCTAssertGreaterThan(ma.precision, mp.precision)
        XCTAssertEqual(ma.users, x.users.count)
        for v in [ma.precision, ma.recall, ma.map, ma.ndcg, ma.hitRate, ma.coverage] { XCTAssertTrue(v >= 0 && v <= 1) }
        // Unknown ids are counted, not errors.
        let m = try rankMetrics(als, test: [("nobody", "1", 1), ("u0", "no-item", 1)], k: 10)
        XCTAssertEqual(m.unknownUsers, 1); XCTAssertEqual(m.unknownItems, 1); XCTAssertEqual(m.users, 0)
    }
}
