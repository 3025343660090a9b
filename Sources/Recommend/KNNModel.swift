import CKernels
import Foundation
import Graph
import Tensor
import Train

/// Item-kNN's similarity matrix in the fitted model: item j's kn most similar items
/// (`nbr`, -1 padding) and their similarities, row-major [items, kn]. Nothing is items x
/// items, so a model's size is items x k, not items².
public struct KNNItems: Sendable {
    public let kn: Int
    public let count: Int
    public let nbr: [Int32]
    public let sim: [Float]

    /// The most items an item_knn model takes: its graph's indices are float32, exact below
    /// 2^24 (as top_k's are).
    public static let maxItems = 1 << 24
    /// The most (item, neighbour) pairs: 2.5e8 pairs are 2 GB of indices and similarities.
    public static let maxPairs = 250_000_000

    /// From the graph's params (float indices), checked: the file may lie.
    init(_ nb: Tensor, _ sv: Tensor, items: Int) throws {
        guard nb.rank == 2, nb.shape == sv.shape, nb.shape[0] == items, nb.shape[1] >= 1 else {
            throw RecommendError("the recommender's similarity matrix \(nb.shape) / \(sv.shape) does not match its \(items) items")
        }
        kn = nb.shape[1]; count = items
        var ids = [Int32](repeating: -1, count: nb.count)
        for (e, v) in nb.astype(.float32).toFloats().enumerated() {
            guard v == -1 || (v >= 0 && v < Float(items) && v == v.rounded()) else {
                throw RecommendError("the recommender's similarity matrix names item \(v) (entry \(e)), not one of its \(items) items")
            }
            ids[e] = Int32(v)
        }
        nbr = ids
        sim = sv.astype(.float32).toFloats()
    }

    /// (neighbour, similarity) of item i, best first.
    func row(_ i: Int) -> [(Int, Float)] {
        (0..<kn).compactMap { t in nbr[i * kn + t] >= 0 ? (Int(nbr[i * kn + t]), sim[i * kn + t]) : nil }
    }

    /// The score of one (user, item): the user's items' similarities to it.
    func score(user: Int, item: Int, _ meta: RecommenderMeta) -> Double {
        var s: Float = 0
        for e in Int(meta.seenIndptr[user])..<Int(meta.seenIndptr[user + 1]) {
            let j = Int(meta.seenIndices[e])
            for (c, v) in row(j) where c == item { s += meta.seenValues[e] * v }
        }
        return Double(s)
    }

    /// The largest dense matrix `user_factors` / `item_factors` give back for item-kNN.
    static let maxDense = 100_000_000

    /// Users' interaction rows as a dense [users, items] tensor (`model.user_factors`).
    func denseUserRows(_ meta: RecommenderMeta) throws -> Tensor {
        let nu = meta.users.count
        guard Double(nu) * Double(count) <= Double(Self.maxDense) else {
            throw RecommendError("item_knn: user_factors would be a dense \(nu) x \(count) matrix, more than \(Self.maxDense) values; the model keeps them sparse")
        }
        var rows = [Float](repeating: 0, count: nu * count)
        for u in 0..<nu { for e in Int(meta.seenIndptr[u])..<Int(meta.seenIndptr[u + 1]) { rows[u * count + Int(meta.seenIndices[e])] = meta.seenValues[e] } }
        return try Tensor(rows, shape: [nu, count])
    }

    /// [items, items]: row i holds the similarities of every item j to item i (sim(j -> i)),
    /// so user_factors x item_factors^T gives the scores (`model.item_factors`).
    func denseSimilarities() throws -> Tensor {
        guard Double(count) * Double(count) <= Double(Self.maxDense) else {
            throw RecommendError("item_knn: item_factors would be a dense \(count) x \(count) matrix, more than \(Self.maxDense) values; the model keeps it sparse")
        }
        var out = [Float](repeating: 0, count: count * count)
        for j in 0..<count { for (i, v) in row(j) { out[i * count + j] = v } }
        return try Tensor(out, shape: [count, count])
    }
}

extension Recommender {
    /// The item-kNN model: graph user [batch, 1] -> csr_rows (the user's interactions,
    /// params user_indptr/user_items/user_values) -> knn_scores (params sim_items/sim_values,
    /// [items, kn]) -> top_k / top_k_values, plus the recommender record.
    static func makeKNN(x: Interactions, knn m: KNNMatrix) throws -> Recommender {
        let ni = x.items.count, nu = x.users.count
        guard ni < KNNItems.maxItems else { throw RecommendError("item_knn: \(ni) items is more than the model's limit \(KNNItems.maxItems) (its graph holds item indices as float32)") }
        let kn = Swift.max(1, (0..<ni).map { m.row($0).count }.max() ?? 1)
        guard Double(ni) * Double(kn) <= Double(KNNItems.maxPairs) else {
            throw RecommendError("item_knn: \(ni) items x k \(kn) neighbours is more than \(KNNItems.maxPairs) pairs (2 GB); use a smaller k")
        }
        var nbr = [Float](repeating: -1, count: ni * kn), sim = [Float](repeating: 0, count: ni * kn)
        for i in 0..<ni { for (t, e) in m.row(i).enumerated() { nbr[i * kn + t] = Float(m.indices[e]); sim[i * kn + t] = m.values[e] } }
        var pop = [Float](repeating: 0, count: ni)
        for i in 0..<ni { pop[i] = Float(x.byItem.range(i).count) }
        let meta = RecommenderMeta(kind: .itemKNN, users: x.users, items: x.items, userColumn: x.userColumn, itemColumn: x.itemColumn,
                                   explicit: false, seenIndptr: x.byUser.indptr, seenIndices: x.byUser.indices,
                                   seenValues: x.byUser.values, popularity: pop, history: [])
        var g = Graph()
        let inp = try g.input("user", shape: [.batch, .fixed(1)])
        let ip = try g.param("user_indptr", try Tensor(x.byUser.indptr.map { Int($0) }, shape: [nu + 1], dtype: .int32))
        let ix = try g.param("user_items", try Tensor(x.byUser.indices.map { Float($0) }, shape: [x.count]))
        let iv = try g.param("user_values", try Tensor(x.byUser.values, shape: [x.count]))
        let rows = try g.op(.csrRows, [inp, ip, ix, iv], ["cols": .int(ni)], label: "user_row")
        let nb = try g.param("sim_items", try Tensor(nbr, shape: [ni, kn]))
        let sv = try g.param("sim_values", try Tensor(sim, shape: [ni, kn]))
        let scores = try g.op(.knnScores, [rows, nb, sv], label: "scores")
        let k = Swift.min(graphK, ni)
        let top = try g.op(.topK, [scores], ["k": .int(k)], label: "top_items")
        let topv = try g.op(.topKValues, [scores], ["k": .int(k)], label: "top_scores")
        g.outputs = [top, topv]
        try g.verify()
        var model = Model(graph: g)
        model.blobs[RecommenderMeta.blobName] = String(decoding: try JSONEncoder().encode(meta), as: UTF8.self)
        return try Recommender(model)
    }

    /// The k best items for users given as rows of a CSR matrix (rows[r], seen items of
    /// seenRows[r] skipped, -1: none), through `mlw_rec_knn_topk`.
    func knnTopK(rows: [Int32], indptr: [Int64], indices: [Int32], values: [Float], seenRows: [Int32], k: Int) throws -> ([[Int]], [[Float]]) {
        guard let knn else { throw RecommendError("recommend: not an item-kNN model") }
        let n = rows.count
        var idx = [Int32](repeating: -1, count: n * k), sc = [Float](repeating: 0, count: n * k)
        let rc = idx.withUnsafeMutableBufferPointer { ip in
            sc.withUnsafeMutableBufferPointer { sp in
                mlw_rec_knn_topk(Int32(n), Int32(knn.count), Int32(knn.kn), indptr, indices, values, rows, knn.nbr, knn.sim,
                                 indptr, indices, seenRows, Int32(k), ip.baseAddress, sp.baseAddress)
            }
        }
        guard rc == 0 else { throw RecommendError("recommend: out of memory for the scores of \(knn.count) items") }
        var items: [[Int]] = [], scores: [[Float]] = []
        for r in 0..<n {
            let row = (r * k)..<((r + 1) * k)
            let valid = row.filter { idx[$0] >= 0 }
            items.append(valid.map { Int(idx[$0]) }); scores.append(valid.map { sc[$0] })
        }
        return (items, scores)
    }
}
