import Graph
import Optimize
import Tensor
import Train
import XCTest
@testable import Recommend

/// The sparse item-kNN model (csr_rows -> knn_scores -> top_k; `mlw_rec_knn_topk`) against
/// the dense items x items model it replaced, and at a size the dense one could not hold.
final class SparseKNNTests: XCTestCase {
    /// The previous dense model: user rows [users, items] x similarity [items, items] through
    /// the factor path (`mlw_rec_topk`).
    func denseReference(_ r: Recommender, _ x: Interactions) throws -> Recommender {
        let ni = r.itemCount, nu = r.userCount
        var sim = [Float](repeating: 0, count: ni * ni), rows = [Float](repeating: 0, count: nu * ni)
        for j in 0..<ni { for (i, v) in r.knn!.row(j) { sim[j * ni + i] = v } }
        for u in 0..<nu { for e in x.byUser.range(u) { rows[u * ni + Int(x.byUser.indices[e])] = x.byUser.values[e] } }
        return try Recommender.make(kind: .itemKNN, x: x, users: rows, items: sim, f: ni, itemBias: nil, history: [])
    }

    func testSparseEqualsDensePath() throws {
        for (ratings, bm25) in [(false, false), (true, true), (false, true)] {
            let x = try plantedInteractions(users: 90, ratings: ratings, skew: true)
            let r = try Recommend.itemKNN(x, k: 7, bm25: bm25)
            XCTAssertNotNil(r.knn)
            XCTAssertNil(r.model.graph.params["item_matrix"], "no dense similarity in the model")
            let d = try denseReference(r, x)
            XCTAssertNil(d.knn)
            let users = (0..<r.userCount).map { Optional($0) } + [nil]
            for exclude in [true, false] {
                for k in [1, 5, 12, r.itemCount] {
                    let got = try r.recommend(users: users, k: k, excludeSeen: exclude)
                    let want = try d.recommend(users: users, k: k, excludeSeen: exclude)
                    XCTAssertEqual(got, want, "ratings \(ratings) bm25 \(bm25) exclude \(exclude) k \(k)")
                }
            }
            // Cold start: the given items as a row of ones, against the dense path's indicator vector.
            for given in [[0, 3, 17], [44], [Int]()] {
                let got = try r.recommend(items: given, k: 6)
                var v = [Float](repeating: 0, count: r.itemCount)
                for i in given { v[i] = 1 }
                let want = try d.topK(v, n: 1, seenIndptr: [0, Int64(given.count)], seenIndices: given.map { Int32($0) }, seenRows: [0], k: 6)
                XCTAssertEqual(got.items, want.0[0], "cold start \(given)")
                XCTAssertEqual(got.scores, want.1[0])
            }
            // similar_items: the item's stored row, best first, the item itself left out.
            for item in [0, 20, r.itemCount - 1] {
                let s = try r.similarItems(item, k: 4)
                let row = r.knn!.row(item).filter { $0.0 != item }
                var all = [Float](repeating: 0, count: r.itemCount)
                for (i, v) in row { all[i] = v }
                let order = (0..<r.itemCount).filter { $0 != item }.sorted { all[$0] != all[$1] ? all[$0] > all[$1] : $0 < $1 }
                XCTAssertEqual(s.items, Array(order.prefix(4)))
            }
            // The dense factors the model hands out still multiply to the scores.
            let uf = try r.userFactors(), itf = try r.itemFactors()
            XCTAssertEqual(uf.shape, [r.userCount, r.itemCount])
            XCTAssertEqual(try d.userFactors().toFloats(), uf.toFloats())
            XCTAssertEqual(try d.itemFactors().toFloats(), itf.toFloats())
        }
    }

    /// predict through the graph (csr_rows -> knn_scores -> top_k) gives recommend's items
    /// without excluding seen ones, and the model file round trip keeps the answers.
    func testGraphAndModelFileRoundTrip() throws {
        let x = try plantedInteractions(users: 60)
        let r = try Recommend.itemKNN(x, k: 10, bm25: false)
        XCTAssertEqual(Set(r.model.graph.nodes.map(\.op)).intersection([.csrRows, .knnScores]).count, 2)
        let users = [0, 7, 59]
        let out = try predict(r.model, try Tensor(users.map { Float($0) }, shape: [3, 1]))
        let want = try r.recommend(users: users.map { Optional($0) }, k: Recommender.graphK, excludeSeen: false)
        for (j, a) in want.enumerated() {
            XCTAssertEqual(Array(out.toFloats()[(j * 10)..<((j + 1) * 10)]).map { Int($0) }, a.items, "user \(users[j])")
        }
        let loaded = try Recommender(try ModelFile.decode(try ModelFile.encode(r.model)))
        let all = (0..<r.userCount).map { Optional($0) }
        XCTAssertEqual(try loaded.recommend(users: all, k: 5, excludeSeen: true), try r.recommend(users: all, k: 5, excludeSeen: true))
        XCTAssertEqual(try loaded.similarItems(3, k: 5), try r.similarItems(3, k: 5))
        // A row index that is not a user is an error naming it, not a crash.
        XCTAssertThrowsError(try predict(r.model, try Tensor([Float(r.userCount)], shape: [1, 1]))) { e in
            XCTAssertTrue("\(e)".contains("csr_rows: index \(Float(r.userCount))"), "\(e)")
        }
        // ONNX has no sparse row gather: the export refuses and says why.
        XCTAssertThrowsError(try onnxBytes(r.model)) { e in XCTAssertTrue("\(e)".contains("csr_rows"), "\(e)") }
    }

    /// A file whose similarity matrix names an item the model does not have is refused.
    func testDamagedSimilarityRefused() throws {
        let x = try plantedInteractions(users: 30)
        var m = try Recommend.itemKNN(x, k: 4, bm25: false).model
        var nb = m.graph.params["sim_items"]!.toFloats()
        nb[5] = 1e6
        m.graph.params["sim_items"] = try Tensor(nb, shape: m.graph.params["sim_items"]!.shape)
        XCTAssertThrowsError(try Recommender(m)) { e in XCTAssertTrue("\(e)".contains("names item 1000000"), "\(e)") }
    }

    /// 50 000 items (the dense model stopped at 10 000): fits, holds items x k, recommends
    /// what a brute-force sum over the user's items' neighbours gives.
    func testFiftyThousandItems() throws {
        let items = 50_000, users = 8_000, per = 12
        var rng = Support_SplitMix(11)
        var us: [String] = [], its: [String] = []
        for u in 0..<users {
            // Users of a group share a band of 500 items, so neighbours are meaningful.
            let base = (u % 100) * 500
            for _ in 0..<per { us.append(String(u)); its.append(String(base + Int(rng.next() % 500))) }
        }
        // Every item appears at least once.
        for i in 0..<items { us.append(String(i % users)); its.append(String(i)) }
        let x = try Interactions(users: us, items: its, integerUsers: true, integerItems: true, values: nil, times: nil)
        XCTAssertEqual(x.items.count, items)
        let r = try Recommend.itemKNN(x, k: 20, bm25: false)
        XCTAssertEqual(r.itemCount, items)
        let simCount = r.model.graph.params["sim_items"]!.count
        XCTAssertLessThanOrEqual(simCount, items * 20)
        let sample = [0, 1, 4_321, users - 1]
        let got = try r.recommend(users: sample.map { r.userIndex(String($0)) }, k: 10, excludeSeen: true)
        for (s, a) in zip(sample, got) {
            let u = r.userIndex(String(s))!
            var scores = [Int: Float]()
            for e in x.byUser.range(u) {
                for (i, v) in r.knn!.row(Int(x.byUser.indices[e])) { scores[i, default: 0] += x.byUser.values[e] * v }
            }
            let seen = Set(x.byUser.range(u).map { Int(x.byUser.indices[$0]) })
            let cand = scores.filter { !seen.contains($0.key) && $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            XCTAssertGreaterThanOrEqual(cand.count, 10, "user \(s) has enough scored items")
            XCTAssertEqual(a.items, cand.prefix(10).map(\.key), "user \(s)")
            XCTAssertTrue(a.known)
        }
        // Its user_factors would be 8 000 x 50 000: refused with the reason, not allocated.
        XCTAssertThrowsError(try r.userFactors()) { e in XCTAssertTrue("\(e)".contains("dense"), "\(e)") }
        XCTAssertEqual(try r.similarItems(7, k: 5).items.count, 5)
    }
}
