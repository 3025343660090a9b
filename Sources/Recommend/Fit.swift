import CKernels
import Foundation
import Support
import Tensor

/// Hyper-parameters of a factor model fit (ALS or BPR).
public struct FactorOptions: Sendable {
    public var factors = 64
    public var l2 = 0.01
    public var alpha = 40.0
    public var iterations = 15
    public var implicit = true
    public var cgSteps = 3
    public var learningRate = 0.01
    /// BPR: skip a sampled negative the user already has (implicit's verify_negative_samples).
    public var verifyNegatives = true
    public var seed: UInt64 = 0
    public init() {}
}

/// The largest factor count and iteration/epoch count accepted (sizes chosen by callers).
public let maxFactors = 1024
public let maxIterations = 100_000

/// Uniform in [-scale, scale), from a seeded counter-free stream.
func randomMatrix(_ count: Int, scale: Float, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
}

/// A^T A for A [n, f] (row-major) through the tensor engine's GEMM.
func gram(_ a: [Float], rows: Int, f: Int) throws -> [Float] {
    if rows == 0 { return [Float](repeating: 0, count: f * f) }
    let t = try Tensor(a, shape: [rows, f])
    return try Tensor.matmul(t.T, t).contiguous().toFloats()
}

func checkOptions(_ o: FactorOptions, _ x: Interactions, _ fn: String) throws {
    guard o.factors >= 1, o.factors <= maxFactors else { throw RecommendError("\(fn): 'factors' must be between 1 and \(maxFactors), got \(o.factors)") }
    guard o.iterations >= 0, o.iterations <= maxIterations else { throw RecommendError("\(fn): iterations/epochs must be between 0 and \(maxIterations), got \(o.iterations)") }
    guard o.l2 >= 0, o.l2.isFinite else { throw RecommendError("\(fn): 'l2' must be a finite number >= 0, got \(o.l2)") }
    guard x.count > 0 else { throw RecommendError("\(fn): the interactions are empty") }
    let cells = Double(x.users.count + x.items.count) * Double(o.factors)
    guard cells <= 1e9 else { throw RecommendError("\(fn): \(x.users.count + x.items.count) rows x \(o.factors) factors is more than 1e9 values") }
}

/// Implicit-feedback ALS (Hu, Koren, Volinsky 2008) solved by conjugate gradient (Takacs et
/// al. 2011) as the `implicit` package does: confidence alpha * weight on the observed
/// entries, preference 1 there and 0 elsewhere. Returns user and item factors and the
/// objective after every iteration.
public func fitImplicitALS(_ x: Interactions, _ o: FactorOptions) throws -> (users: [Float], items: [Float], losses: [Double]) {
    try checkOptions(o, x, "als")
    let f = o.factors, nu = x.users.count, ni = x.items.count
    var U = randomMatrix(nu * f, scale: 0.01, seed: mixSeed(o.seed, 1))
    var V = randomMatrix(ni * f, scale: 0.01, seed: mixSeed(o.seed, 2))
    let cu = x.byUser.values.map { Float(o.alpha) * $0 }, ci = x.byItem.values.map { Float(o.alpha) * $0 }
    var losses: [Double] = []
    func regularized(_ g: [Float]) -> [Float] {
        var g = g
        for a in 0..<f { g[a * f + a] += Float(o.l2) }
        return g
    }
    for _ in 0..<o.iterations {
        let vtv = regularized(try gram(V, rows: ni, f: f))
        U.withUnsafeMutableBufferPointer { u in
            mlw_rec_als_cg(Int32(nu), Int32(f), u.baseAddress, V, vtv, x.byUser.indptr, x.byUser.indices, cu, Int32(o.cgSteps))
        }
        let utu = regularized(try gram(U, rows: nu, f: f))
        V.withUnsafeMutableBufferPointer { v in
            mlw_rec_als_cg(Int32(ni), Int32(f), v.baseAddress, U, utu, x.byItem.indptr, x.byItem.indices, ci, Int32(o.cgSteps))
        }
        let vtv0 = try gram(V, rows: ni, f: f)
        losses.append(mlw_rec_als_loss(Int32(nu), Int32(ni), Int32(f), U, V, vtv0, x.byUser.indptr, x.byUser.indices, cu, Float(o.l2)))
    }
    return (U, V, losses)
}

/// Explicit-ratings ALS with user and item biases: rating ~ mean + b_u + b_i + x_u . y_i,
/// each half step an exact ridge solve per row (parallel over rows). Losses are the
/// regularized squared error after every iteration.
public func fitExplicitALS(_ x: Interactions, _ o: FactorOptions)
    throws -> (users: [Float], items: [Float], userBias: [Float], itemBias: [Float], mean: Double, losses: [Double]) {
    try checkOptions(o, x, "als")
    let f = o.factors, nu = x.users.count, ni = x.items.count, d = f + 1
    let mean = x.byUser.values.reduce(0.0) { $0 + Double($1) } / Double(x.count)
    var U = randomMatrix(nu * f, scale: 0.1, seed: mixSeed(o.seed, 1))
    var V = randomMatrix(ni * f, scale: 0.1, seed: mixSeed(o.seed, 2))
    var bu = [Float](repeating: 0, count: nu), bi = [Float](repeating: 0, count: ni)
    var losses: [Double] = []
    // One side: features [other factors, 1], offsets mean + other bias; solves [factors, bias].
    func half(_ m: CSR, _ other: [Float], _ otherBias: [Float], _ rows: Int) -> ([Float], [Float]) {
        let nOther = otherBias.count
        var feats = [Float](repeating: 1, count: nOther * d)
        for j in 0..<nOther { for a in 0..<f { feats[j * d + a] = other[j * f + a] } }
        let off = otherBias.map { Float(mean) + $0 }
        var out = [Float](repeating: 0, count: rows * d)
        out.withUnsafeMutableBufferPointer { p in
            mlw_rec_ridge(Int32(rows), Int32(d), feats, off, m.indptr, m.indices, m.values, Float(o.l2), p.baseAddress)
        }
        var fac = [Float](repeating: 0, count: rows * f), bias = [Float](repeating: 0, count: rows)
        for r in 0..<rows { for a in 0..<f { fac[r * f + a] = out[r * d + a] }; bias[r] = out[r * d + f] }
        return (fac, bias)
    }
    for _ in 0..<o.iterations {
        (U, bu) = half(x.byUser, V, bi, nu)
        (V, bi) = half(x.byItem, U, bu, ni)
        var loss = 0.0
        for u in 0..<nu {
            for e in x.byUser.range(u) {
                let i = Int(x.byUser.indices[e])
                var p = mean + Double(bu[u] + bi[i])
                for a in 0..<f { p += Double(U[u * f + a] * V[i * f + a]) }
                loss += (Double(x.byUser.values[e]) - p) * (Double(x.byUser.values[e]) - p)
            }
        }
        let norm = (U + V + bu + bi).reduce(0.0) { $0 + Double($1 * $1) }
        losses.append(loss + o.l2 * norm)
    }
    return (U, V, bu, bi, mean, losses)
}

/// Bayesian personalized ranking by SGD, the algorithm of the `implicit` package's CPU BPR
/// (implicit/cpu/bpr.pyx): each epoch takes nnz steps, each a random entry (user, liked)
/// and the item of another random entry as the negative (so negatives are drawn by
/// popularity), skipped when the user has it and `verifyNegatives`; factors start uniform
/// in [-0.5, 0.5) / factors, rows of users or items without interactions at 0; the last
/// column is an item bias (users hold a constant 1 there, not trained); l2 applies to the
/// user, liked and disliked rows touched by a step (the bias too). Differences from
/// implicit: one thread instead of Hogwild over threads (so a seed gives the same factors
/// every run) and a SplitMix64 stream instead of mt19937 and numpy's generator.
/// Returns factors with that extra column and the sampled ranking accuracy per epoch.
public func fitBPR(_ x: Interactions, _ o: FactorOptions) throws -> (users: [Float], items: [Float], accuracy: [Double]) {
    try checkOptions(o, x, "bpr")
    guard o.learningRate > 0, o.learningRate.isFinite else { throw RecommendError("bpr: 'learning_rate' must be a positive number, got \(o.learningRate)") }
    let f = o.factors + 1, nu = x.users.count, ni = x.items.count
    var U = randomMatrix(nu * f, scale: 0.5 / Float(o.factors), seed: mixSeed(o.seed, 1))
    var V = randomMatrix(ni * f, scale: 0.5 / Float(o.factors), seed: mixSeed(o.seed, 2))
    for u in 0..<nu {
        if x.byUser.range(u).isEmpty { for a in 0..<f { U[u * f + a] = 0 } }
        U[u * f + f - 1] = 1
    }
    for i in 0..<ni where x.byItem.range(i).isEmpty { for a in 0..<f { V[i * f + a] = 0 } }
    let rowOf = x.byUser.rowOfEntry
    var acc: [Double] = []
    for epoch in 0..<o.iterations {
        let a = U.withUnsafeMutableBufferPointer { u in
            V.withUnsafeMutableBufferPointer { v in
                mlw_rec_bpr_epoch(Int32(nu), Int32(ni), Int32(f), u.baseAddress, v.baseAddress, x.byUser.indptr, x.byUser.indices,
                                  rowOf, Int64(x.count), Float(o.learningRate), Float(o.l2), o.verifyNegatives ? 1 : 0,
                                  mixSeed(o.seed, UInt64(epoch) + 3), nil)
            }
        }
        acc.append(a)
    }
    return (U, V, acc)
}

/// Item-item similarity as the `implicit` package computes it (ItemItemRecommender's
/// all_pairs_knn): every item's `k` most similar items (the item itself included, as in
/// implicit), a sparse top-k matrix. Computed by sparse co-occurrence: per item, over the
/// users who have it, accumulate products with those users' other items, keep the k best
/// with a heap; nothing is items x items. "cosine" (CosineRecommender) weighs entries by
/// the item's vector norm; "bm25" (BM25Recommender, K1 1.2, B 0.75) weighs them as implicit's
/// bm25_weight on the item x user matrix (items are the documents, users the terms:
/// idf log(items) - log1p(items of the user), length norm by the item's total) and does not
/// normalize. Rows best first.
public struct KNNMatrix: Sendable {
    public var indptr: [Int64]
    public var indices: [Int32]
    public var values: [Float]
    public func row(_ i: Int) -> Range<Int> { Int(indptr[i])..<Int(indptr[i + 1]) }
}

public func fitItemKNN(_ x: Interactions, k: Int, bm25: Bool) throws -> KNNMatrix {
    let ni = x.items.count, nu = x.users.count
    guard k >= 1 else { throw RecommendError("item_knn: 'k' must be at least 1, got \(k)") }
    guard x.count > 0 else { throw RecommendError("item_knn: the interactions are empty") }
    let kk = Swift.min(k, ni)
    guard Double(ni) * Double(kk) <= 2e9 else { throw RecommendError("item_knn: \(ni) items x k \(kk) neighbours is too many (at most 2e9)") }
    // Weight of entry (u, i) of value v, as a function of u and i.
    var weight: (Int, Int, Float) -> Float
    if bm25 {
        let k1: Float = 1.2, b: Float = 0.75
        var itemSum = [Float](repeating: 0, count: ni)
        for i in 0..<ni { for e in x.byItem.range(i) { itemSum[i] += x.byItem.values[e] } }
        let avg = itemSum.reduce(0, +) / Float(max(ni, 1))
        let idf = (0..<nu).map { u in logf(Float(ni)) - log1pf(Float(x.byUser.range(u).count)) }
        weight = { u, i, v in v * (k1 + 1) / (k1 * ((1 - b) + b * itemSum[i] / avg) + v) * idf[u] }
    } else {
        var norms = [Float](repeating: 0, count: ni)
        for i in 0..<ni { for e in x.byItem.range(i) { norms[i] += x.byItem.values[e] * x.byItem.values[e] } }
        norms = norms.map { $0 > 0 ? $0.squareRoot() : 1 }
        weight = { _, i, v in v / norms[i] }
    }
    var wUser = x.byUser.values, wItem = x.byItem.values
    for u in 0..<nu { for e in x.byUser.range(u) { wUser[e] = weight(u, Int(x.byUser.indices[e]), x.byUser.values[e]) } }
    for i in 0..<ni { for e in x.byItem.range(i) { wItem[e] = weight(Int(x.byItem.indices[e]), i, x.byItem.values[e]) } }
    var idx = [Int32](repeating: -1, count: ni * kk), val = [Float](repeating: 0, count: ni * kk), cnt = [Int32](repeating: 0, count: ni)
    idx.withUnsafeMutableBufferPointer { ip in
        val.withUnsafeMutableBufferPointer { vp in
            cnt.withUnsafeMutableBufferPointer { cp in
                mlw_rec_item_knn(Int32(ni), Int32(kk), x.byItem.indptr, x.byItem.indices, wItem, x.byUser.indptr, x.byUser.indices, wUser,
                                 ip.baseAddress, vp.baseAddress, cp.baseAddress)
            }
        }
    }
    var out = KNNMatrix(indptr: [0], indices: [], values: [])
    for i in 0..<ni {
        let n = Int(cnt[i])
        out.indices += idx[(i * kk)..<(i * kk + n)]; out.values += val[(i * kk)..<(i * kk + n)]
        out.indptr.append(Int64(out.indices.count))
    }
    return out
}
