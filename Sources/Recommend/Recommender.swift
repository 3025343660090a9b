import CKernels
import Foundation
import Graph
import Tensor
import Train

/// Which algorithm fitted a recommender.
public enum RecommenderKind: String, Codable, Sendable {
    case als, bpr, itemKNN = "item_knn", popularity
}

/// What a recommender keeps beside its graph (blob "recommender", JSON): the id maps, the
/// items each user has seen (CSR), item popularity (the fallback for unknown users), and
/// what cold-start users need to be folded in.
public struct RecommenderMeta: Codable, Sendable {
    public var kind: RecommenderKind
    public var users: IdMap
    public var items: IdMap
    public var userColumn: String
    public var itemColumn: String
    public var explicit: Bool
    public var seenIndptr: [Int64]
    public var seenIndices: [Int32]
    public var seenValues: [Float]
    public var popularity: [Float]
    /// Explicit ALS: rating = mean + userBias[u] + item bias + x_u . y_i.
    public var mean: Double?
    public var userBias: [Float]?
    public var alpha: Double?
    public var l2: Double?
    /// Objective per iteration (ALS) or sampled ranking accuracy per epoch (BPR).
    public var history: [Double]
    public static let blobName = "recommender"
}

/// A fitted recommender: a Train `Model` whose graph is user index -> embedding (user
/// vectors) -> dense against the item matrix (+ item bias) -> top_k / top_k_values, plus
/// its `RecommenderMeta` blob. ALS, BPR and popularity score a user vector u against item
/// matrix W [f, items]: factors, or popularity (u = 0, bias = counts). Item-kNN is sparse:
/// user index -> csr_rows (the user's interaction row) -> knn_scores against each item's
/// k most similar items -> top_k (`KNNItems`, KNNModel.swift).
public final class Recommender: @unchecked Sendable {
    public let model: Model
    public let meta: RecommenderMeta
    /// Item-kNN's similarity matrix (nil for the factor families).
    public let knn: KNNItems?
    /// Row-major [users, f], [f, items], [items]. A quantized recommender keeps its item
    /// matrix in int8 (`quantized`); `itemMatrix` is then dequantized on each use.
    public let userVectors: [Float]
    let floatItems: [Float]?
    public let quantized: QuantizedItems?
    /// Empty for item-kNN (its similarities are `knn`).
    public var itemMatrix: [Float] { floatItems ?? quantized?.dequantized ?? [] }
    public let itemBias: [Float]
    public let f: Int

    public var userCount: Int { meta.users.count }
    public var itemCount: Int { meta.items.count }
    /// The k the graph's top_k was built with.
    public static let graphK = 10

    public init(_ model: Model) throws {
        guard let text = model.blobs[RecommenderMeta.blobName] else { throw RecommendError("the model is not a recommender (it has no 'recommender' record)") }
        do { meta = try JSONDecoder().decode(RecommenderMeta.self, from: Data(text.utf8)) }
        catch { throw RecommendError("the model's recommender record is malformed: \(error)") }
        if let nb = model.graph.params["sim_items"], let sv = model.graph.params["sim_values"] {
            knn = try KNNItems(nb, sv, items: meta.items.count)
            guard meta.kind == .itemKNN, meta.seenIndptr.count == meta.users.count + 1, meta.popularity.count == meta.items.count,
                  meta.seenValues.count == meta.seenIndices.count, meta.seenIndptr.first == 0, meta.seenIndptr.last == Int64(meta.seenIndices.count) else {
                throw RecommendError("the recommender's similarity matrix or seen items do not match its \(meta.users.count) users and \(meta.items.count) items")
            }
            for i in meta.seenIndices where i < 0 || Int(i) >= meta.items.count { throw RecommendError("the recommender's seen items name item \(i), out of range") }
            for p in 0..<meta.users.count where meta.seenIndptr[p] > meta.seenIndptr[p + 1] { throw RecommendError("the recommender's seen items are not a CSR matrix (row \(p))") }
            self.model = model
            f = knn!.kn; userVectors = []; quantized = nil; floatItems = nil
            itemBias = [Float](repeating: 0, count: meta.items.count)
            return
        }
        knn = nil
        let q = try QuantizedItems(model.graph)
        guard let u = model.graph.params["user_factors"], let w = model.graph.params["item_matrix"] ?? q?.q, u.rank == 2, w.rank == 2 else {
            throw RecommendError("the recommender's graph lacks its user_factors or item_matrix")
        }
        guard u.shape[0] == meta.users.count, w.shape[1] == meta.items.count, u.shape[1] == w.shape[0],
              meta.seenIndptr.count == meta.users.count + 1, meta.popularity.count == meta.items.count else {
            throw RecommendError("the recommender's factors \(u.shape), \(w.shape) do not match its \(meta.users.count) users and \(meta.items.count) items")
        }
        for i in meta.seenIndices where i < 0 || Int(i) >= meta.items.count { throw RecommendError("the recommender's seen items name item \(i), out of range") }
        self.model = model
        f = u.shape[1]
        userVectors = u.astype(.float32).toFloats()
        quantized = q
        floatItems = q == nil ? w.astype(.float32).toFloats() : nil
        itemBias = model.graph.params["item_bias"]?.astype(.float32).toFloats() ?? [Float](repeating: 0, count: meta.items.count)
    }

    /// Builds the model: graph + blobs (task: ranking is implied by the recommender record).
    public static func make(kind: RecommenderKind, x: Interactions, users: [Float], items: [Float], f: Int, itemBias: [Float]?,
                            history: [Double], configure: (inout RecommenderMeta) -> Void = { _ in }) throws -> Recommender {
        var pop = [Float](repeating: 0, count: x.items.count)
        for i in 0..<x.items.count { pop[i] = Float(x.byItem.range(i).count) }
        var meta = RecommenderMeta(kind: kind, users: x.users, items: x.items, userColumn: x.userColumn, itemColumn: x.itemColumn,
                                   explicit: x.explicit, seenIndptr: x.byUser.indptr, seenIndices: x.byUser.indices,
                                   seenValues: x.byUser.values, popularity: pop, history: history)
        configure(&meta)
        var g = Graph()
        let inp = try g.input("user", shape: [.batch, .fixed(1)])
        let uf = try g.param("user_factors", try Tensor(users, shape: [x.users.count, f]))
        let w = try g.param("item_matrix", try Tensor(items, shape: [f, x.items.count]))
        let e = try g.op(.embedding, [inp, uf], label: "user_embedding")
        let flat = try g.op(.flatten, [e], label: "user_vector")
        var denseIns = [flat, w]
        if let itemBias { denseIns.append(try g.param("item_bias", try Tensor(itemBias, shape: [x.items.count]))) }
        let scores = try g.op(.dense, denseIns, label: "scores")
        let k = Swift.min(graphK, x.items.count)
        let top = try g.op(.topK, [scores], ["k": .int(k)], label: "top_items")
        let topv = try g.op(.topKValues, [scores], ["k": .int(k)], label: "top_scores")
        g.outputs = [top, topv]
        try g.verify()
        var model = Model(graph: g)
        let enc = JSONEncoder()
        model.blobs[RecommenderMeta.blobName] = String(decoding: try enc.encode(meta), as: UTF8.self)
        return try Recommender(model)
    }

    // MARK: asking

    public func userIndex(_ id: String) -> Int? { meta.users.index[id] }
    public func itemIndex(_ id: String) -> Int? { meta.items.index[id] }

    /// One answer: item indices and scores, best first; `known` is false when the user was
    /// unknown and popularity answered.
    public struct Answer: Equatable, Sendable {
        public var items: [Int]
        public var scores: [Float]
        public var known: Bool
    }

    /// The k best items for each known user index (nil: unknown user, answered by popularity).
    /// Exact: a blocked GEMM against the item matrix with a partial selection per user.
    public func recommend(users: [Int?], k: Int, excludeSeen: Bool) throws -> [Answer] {
        guard k >= 1 else { throw RecommendError("recommend: 'k' must be at least 1, got \(k)") }
        let k = Swift.min(k, itemCount)
        var vecs = [Float](), rows: [Int32] = [], slots: [Int] = [], known: [Int32] = []
        var answers = [Answer](repeating: Answer(items: [], scores: [], known: false), count: users.count)
        var unknown: [Int] = []
        for (i, u) in users.enumerated() {
            if let u {
                guard u >= 0, u < userCount else { throw RecommendError("recommend: user index \(u) out of range") }
                if knn == nil { vecs += userVectors[(u * f)..<((u + 1) * f)] }
                known.append(Int32(u))
                rows.append(excludeSeen ? Int32(u) : -1); slots.append(i)
            } else { unknown.append(i) }
        }
        if !slots.isEmpty {
            let r = knn != nil
                ? try knnTopK(rows: known, indptr: meta.seenIndptr, indices: meta.seenIndices, values: meta.seenValues, seenRows: rows, k: k)
                : try topK(vecs, n: slots.count, seenIndptr: meta.seenIndptr, seenIndices: meta.seenIndices, seenRows: rows, k: k)
            for (j, s) in slots.enumerated() { answers[s] = Answer(items: r.0[j], scores: r.1[j], known: true) }
        }
        if !unknown.isEmpty {
            let p = popular(k)
            for s in unknown { answers[s] = Answer(items: p.items, scores: p.scores, known: false) }
        }
        return answers
    }

    /// The k most popular items (the fallback for unknown users).
    public func popular(_ k: Int) -> Answer {
        let r = topKScores(meta.popularity, k: Swift.min(k, itemCount), exclude: [])
        return Answer(items: r.0, scores: r.1, known: false)
    }

    /// A cold-start user given the items they interacted with: folded into the model (ALS:
    /// its regularized least-squares user vector; BPR: least squares to a preference of 1;
    /// item-kNN: the items themselves; popularity: nothing), then scored, excluding those items.
    public func recommend(items: [Int], k: Int, excludeSeen: Bool = true) throws -> Answer {
        guard k >= 1 else { throw RecommendError("recommend: 'k' must be at least 1, got \(k)") }
        let given = Array(Set(items)).sorted()
        for i in given where i < 0 || i >= itemCount { throw RecommendError("recommend: item index \(i) out of range") }
        let ptr: [Int64] = [0, Int64(given.count)]
        if knn != nil {
            // The given items are the user's row, each with weight 1.
            let r = try knnTopK(rows: [0], indptr: ptr, indices: given.map { Int32($0) }, values: [Float](repeating: 1, count: given.count),
                                seenRows: [excludeSeen ? 0 : -1], k: Swift.min(k, itemCount))
            return Answer(items: r.0[0], scores: r.1[0], known: true)
        }
        let v = foldIn(given)
        let r = try topK(v, n: 1, seenIndptr: ptr, seenIndices: given.map { Int32($0) }, seenRows: [excludeSeen ? 0 : -1], k: Swift.min(k, itemCount))
        return Answer(items: r.0[0], scores: r.1[0], known: true)
    }

    func foldIn(_ items: [Int]) -> [Float] {
        var v = [Float](repeating: 0, count: f)
        if items.isEmpty { return v }
        switch meta.kind {
        case .popularity: return v
        case .itemKNN: return v   // answered by `knnTopK`, never folded in
        case .als where !meta.explicit:
            // Solve (W W^T + l2 I + sum (c - 1) w_i w_i^T) x = sum c w_i with c = alpha.
            let (Y, yty) = itemRows(reg: meta.l2 ?? 0.01)
            let conf = [Float](repeating: Float(meta.alpha ?? 40), count: items.count)
            let ind: [Int64] = [0, Int64(items.count)]
            v.withUnsafeMutableBufferPointer { p in
                mlw_rec_als_cg(1, Int32(f), p.baseAddress, Y, yty, ind, items.map { Int32($0) }, conf, Int32(Swift.max(f, 3)))
            }
            return v
        default:
            // Least squares to a score of 1 on the given items (explicit ALS, BPR).
            let (Y, _) = itemRows(reg: 0)
            var out = [Float](repeating: 0, count: f)
            let ind: [Int64] = [0, Int64(items.count)]
            out.withUnsafeMutableBufferPointer { p in
                mlw_rec_ridge(1, Int32(f), Y, [Float](repeating: 0, count: itemCount), ind, items.map { Int32($0) },
                              [Float](repeating: 1, count: items.count), Float(meta.l2 ?? 0.01), p.baseAddress)
            }
            if meta.kind == .bpr { out[f - 1] = 1 }
            return out
        }
    }

    /// Items as rows [items, f] and W W^T + reg I.
    func itemRows(reg: Double) -> ([Float], [Float]) {
        let W = itemMatrix
        var Y = [Float](repeating: 0, count: itemCount * f)
        for a in 0..<f { for i in 0..<itemCount { Y[i * f + a] = W[a * itemCount + i] } }
        var g = (try? gram(Y, rows: itemCount, f: f)) ?? [Float](repeating: 0, count: f * f)
        for a in 0..<f { g[a * f + a] += Float(reg) }
        return (Y, g)
    }

    /// Items most similar to `item`: cosine of the item vectors (ALS, BPR; the bias column
    /// left out), the stored similarity row (item-kNN), popularity for the popularity model.
    public func similarItems(_ item: Int, k: Int) throws -> Answer {
        guard k >= 1 else { throw RecommendError("similar_items: 'k' must be at least 1, got \(k)") }
        guard item >= 0, item < itemCount else { throw RecommendError("similar_items: item index \(item) out of range") }
        let kk = Swift.min(k, itemCount - 1)
        var scores = [Float](repeating: 0, count: itemCount)
        let itemMatrix = self.itemMatrix
        switch meta.kind {
        case .popularity: scores = meta.popularity
        case .itemKNN:
            if let knn { for (j, s) in knn.row(item) { scores[j] = s } }
        case .als, .bpr:
            let dims = meta.kind == .bpr ? f - 1 : f
            var norms = [Float](repeating: 0, count: itemCount)
            for a in 0..<dims { for j in 0..<itemCount { let w = itemMatrix[a * itemCount + j]; norms[j] += w * w } }
            for a in 0..<dims {
                let q = itemMatrix[a * itemCount + item]
                for j in 0..<itemCount { scores[j] += q * itemMatrix[a * itemCount + j] }
            }
            let nq = norms[item].squareRoot()
            for j in 0..<itemCount { scores[j] /= Swift.max(nq * norms[j].squareRoot(), 1e-12) }
        }
        let r = topKScores(scores, k: kk, exclude: [Int32(item)])
        return Answer(items: r.0, scores: r.1, known: true)
    }

    /// Predicted rating (explicit ALS) for (user, item) indices.
    public func rating(user: Int, item: Int) -> Double {
        if let knn { return knn.score(user: user, item: item, meta) }
        var s = Double(itemBias[item]) + (meta.mean ?? 0) + Double(meta.userBias?[user] ?? 0)
        for a in 0..<f { s += Double(userVectors[user * f + a] * (quantized?.value(a, item) ?? floatItems![a * itemCount + item])) }
        return s
    }

    // MARK: kernels

    func topK(_ vecs: [Float], n: Int, seenIndptr: [Int64], seenIndices: [Int32], seenRows: [Int32], k: Int) throws -> ([[Int]], [[Float]]) {
        if let quantized {
            return try quantized.topK(vecs, n: n, bias: itemBias, seenIndptr: seenIndptr, seenIndices: seenIndices, seenRows: seenRows, k: k)
        }
        let itemMatrix = floatItems!
        var idx = [Int32](repeating: -1, count: n * k), sc = [Float](repeating: 0, count: n * k)
        idx.withUnsafeMutableBufferPointer { ip in
            sc.withUnsafeMutableBufferPointer { sp in
                mlw_rec_topk(Int32(n), Int32(f), Int32(itemCount), vecs, itemMatrix, itemBias, seenIndptr, seenIndices, seenRows,
                             Int32(k), ip.baseAddress, sp.baseAddress)
            }
        }
        var items: [[Int]] = [], scores: [[Float]] = []
        for r in 0..<n {
            let row = (r * k)..<((r + 1) * k)
            let valid = row.filter { idx[$0] >= 0 }
            items.append(valid.map { Int(idx[$0]) }); scores.append(valid.map { sc[$0] })
        }
        return (items, scores)
    }

    /// Top k of one score vector (through the same kernel: a 1-factor "user" of 1).
    func topKScores(_ s: [Float], k: Int, exclude: [Int32]) -> ([Int], [Float]) {
        let n = s.count
        var idx = [Int32](repeating: -1, count: k), sc = [Float](repeating: 0, count: k)
        let ex = exclude.sorted()
        idx.withUnsafeMutableBufferPointer { ip in
            sc.withUnsafeMutableBufferPointer { sp in
                mlw_rec_topk(1, 1, Int32(n), [1], s, nil, [0, Int64(ex.count)], ex, [0], Int32(k), ip.baseAddress, sp.baseAddress)
            }
        }
        let valid = (0..<k).filter { idx[$0] >= 0 }
        return (valid.map { Int(idx[$0]) }, valid.map { sc[$0] })
    }

    /// User vectors [users, f] and item vectors [items, f] as tensors (item-kNN: user rows
    /// and the similarity matrix; BPR: the last column is the item bias, held at 1 for users).
    public func userFactors() throws -> Tensor {
        if let knn { return try knn.denseUserRows(meta) }
        return try Tensor(userVectors, shape: [userCount, f])
    }
    public func itemFactors() throws -> Tensor {
        if let knn { return try knn.denseSimilarities() }
        return try Tensor(itemMatrix, shape: [f, itemCount]).T.contiguous()
    }
}
