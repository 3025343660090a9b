import CKernels
import Foundation
import Tensor

// Selection ops: what classical models (k-means, kNN) and recommenders run at inference.
//
//   sq_dist(x [batch, d], c [m, d]) -> [batch, m]
//       squared Euclidean distances ||x_i - c_j||², computed as ||x||² - 2 x·c + ||c||² in
//       float64 (clamped at 0). attr metric: "euclidean" (default) or "cosine" (1 - cos).
//   argmin(x [batch, m]) -> [batch, 1]      index of the smallest entry (first on ties), as float32.
//   top_k(x [batch, m], k) -> [batch, k]    indices of the k largest entries, best first
//       (ties: the lower index first), as float32 (exact up to 2^24 columns).
//       attrs: k (int), smallest (bool, default false: the k smallest instead).
//   top_k_values(x [batch, m], k) -> [batch, k]   the matching values (same attrs).
//   knn_vote(idx [batch, k], dist [batch, k], labels [n]) -> classification: log class
//       probabilities [batch, C] (attr classes = C, a softmax of them gives the vote shares);
//       regression (classes = 0): [batch, 1] the mean of the neighbours' labels. attr
//       weights: "uniform" or "distance" (1 / distance; an exact match takes all the weight,
//       as scikit-learn's); squared (bool, default true): dist holds squared distances.
//
// Indices are float32 so every output stays float32 through predict, static programs and
// the server. None of these ops has a gradient: they are inference ops of fitted models.

private func rows2(_ s: SymShape, _ op: OpName) throws -> (Dim, Int) {
    guard s.count == 2, let m = s[1].size else { throw GraphError("\(op): expected a [batch, n] input, got \(formatShape(s))") }
    return (s[0], m)
}

/// Row-wise top-k through the C partial selection; the slow obvious twin is
/// `topKReference` (tests compare them).
public func topKRows(_ x: [Float], rows: Int, cols: Int, k: Int, smallest: Bool) -> (indices: [Int32], values: [Float]) {
    let kk = min(k, cols)
    var idx = [Int32](repeating: 0, count: rows * kk), val = [Float](repeating: 0, count: rows * kk)
    guard kk > 0 else { return (idx, val) }
    x.withUnsafeBufferPointer { xp in
        idx.withUnsafeMutableBufferPointer { ip in
            val.withUnsafeMutableBufferPointer { vp in
                mlw_topk_rows_f32(xp.baseAddress, rows, cols, kk, smallest ? 1 : 0, ip.baseAddress, vp.baseAddress)
            }
        }
    }
    return (idx, val)
}

/// The oracle for `topKRows`: a full stable sort of each row.
public func topKReference(_ x: [Float], rows: Int, cols: Int, k: Int, smallest: Bool) -> [Int32] {
    var out: [Int32] = []
    for i in 0..<rows {
        let r = Array(x[(i * cols)..<((i + 1) * cols)])
        let order = r.indices.sorted { a, b in
            if r[a] != r[b] { return smallest ? r[a] < r[b] : r[a] > r[b] }
            return a < b
        }
        out += order.prefix(k).map { Int32($0) }
    }
    return out
}

/// Squared distances (or cosine distances) between the rows of x [n, d] and c [m, d], in
/// float64: ‖x‖² − 2 x·c + ‖c‖² (clamped at 0) with the cross term from the float64 product
/// kernel, blocks of rows spread over the kernel threads (each row is computed the same
/// way whatever the thread count), at most ~16 MB of float64 per block.
public func pairwiseDistances(_ x: Tensor, _ c: Tensor, cosine: Bool) throws -> Tensor {
    guard x.rank == 2, c.rank == 2, x.shape[1] == c.shape[1] else {
        throw GraphError("sq_dist: expected [n, d] and [m, d], got \(x.shape) and \(c.shape)")
    }
    let n = x.shape[0], d = x.shape[1], m = c.shape[0]
    let xs = x.toDoubles(), cs = c.toDoubles()
    var ct = [Double](repeating: 0, count: d * m), cn = [Double](repeating: 0, count: m)
    for j in 0..<m { for t in 0..<d { let v = cs[j * d + t]; ct[t * m + j] = v; cn[j] += v * v } }
    var out = [Float](repeating: 0, count: n * m)
    let block = Swift.max(1, Swift.min(256, (1 << 21) / Swift.max(m, 1)))
    let blocks = (n + block - 1) / block
    xs.withUnsafeBufferPointer { xp in
        ct.withUnsafeBufferPointer { cp in
            out.withUnsafeMutableBufferPointer { op in
                let xb = xp.baseAddress!, cb = cp.baseAddress!, ob = op.baseAddress!
                let job = RowBlockJob { b in
                    let lo = b * block, rows = Swift.min(block, n - lo)
                    var prod = [Double](repeating: 0, count: rows * m)
                    prod.withUnsafeMutableBufferPointer { pp in mlw_matmul_f64(xb + lo * d, rows, d, cb, m, nil, pp.baseAddress) }
                    for r in 0..<rows {
                        var xn = 0.0
                        for t in 0..<d { let v = xb[(lo + r) * d + t]; xn += v * v }
                        let o = ob + (lo + r) * m
                        if cosine {
                            let xl = xn.squareRoot()
                            for j in 0..<m { o[j] = Float(1 - prod[r * m + j] / Swift.max(xl * cn[j].squareRoot(), 1e-300)) }
                        } else {
                            for j in 0..<m { o[j] = Float(Swift.max(0, xn - 2 * prod[r * m + j] + cn[j])) }
                        }
                    }
                }
                withExtendedLifetime(job) {
                    mlw_parallel_for(Int32(blocks), 0, { ctx, t in
                        Unmanaged<RowBlockJob>.fromOpaque(ctx!).takeUnretainedValue().body(Int(t))
                    }, Unmanaged.passUnretained(job).toOpaque())
                }
            }
        }
    }
    return try Tensor(out, shape: [n, m])
}

/// A Swift closure handed to `mlw_parallel_for` through its context pointer.
final class RowBlockJob {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

func knnVote(_ idx: [Float], _ dist: [Float], labels: [Float], rows: Int, k: Int, classes: Int, distanceWeights: Bool, squared: Bool) throws -> Tensor {
    let width = classes > 0 ? classes : 1
    var out = [Float](repeating: 0, count: rows * width)
    for i in 0..<rows {
        var w = [Double](repeating: 1, count: k)
        if distanceWeights {
            let d = (0..<k).map { squared ? Double(dist[i * k + $0]).squareRoot() : Double(dist[i * k + $0]) }
            if d.contains(0) { w = d.map { $0 == 0 ? 1 : 0 } } else { w = d.map { 1 / $0 } }
        }
        let total = w.reduce(0, +)
        if classes > 0 {
            var p = [Double](repeating: 0, count: classes)
            for j in 0..<k {
                let row = Int(idx[i * k + j]), c = Int(labels[row])
                guard c >= 0, c < classes else { throw GraphError("knn_vote: label \(labels[row]) of row \(row) is not a class in 0..<\(classes)") }
                p[c] += w[j]
            }
            // Log shares: a softmax of them gives the vote shares back (0 stays ~1e-30).
            for c in 0..<classes { out[i * classes + c] = Float(Foundation.log(Swift.max(p[c] / total, 1e-30))) }
        } else {
            var s = 0.0
            for j in 0..<k { s += w[j] * Double(labels[Int(idx[i * k + j])]) }
            out[i] = Float(s / total)
        }
    }
    return try Tensor(out, shape: [rows, width])
}

private func topKOp(_ name: OpName, values: Bool) -> OpDef {
    OpDef(name, arity: 1...1, shape: { s, a in
        let (b, m) = try rows2(s[0], name)
        let k = a.int("k", 1)
        guard k >= 1, k <= m else { throw GraphError("\(name): k = \(k) must be in 1...\(m)") }
        return [b, .fixed(k)]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        let t = x[0].astype(.float32), rows = t.shape[0], cols = t.shape[1], k = a.int("k", 1)
        let r = topKRows(t.toFloats(), rows: rows, cols: cols, k: k, smallest: a.bool("smallest", false))
        return (try Tensor(values ? r.values : r.indices.map { Float($0) }, shape: [rows, min(k, cols)]), [])
    }, backward: nil)
}

let selectOps: [OpDef] = [
    OpDef(.sqDist, arity: 2...2, shape: { s, a in
        let (b, d) = try rows2(s[0], .sqDist)
        guard s[1].count == 2, let m = s[1][0].size, s[1][1] == .fixed(d) else {
            throw GraphError("sq_dist: points \(formatShape(s[1])) must be [m, \(d)] to match the input \(formatShape(s[0]))")
        }
        let metric = a.string("metric", "euclidean")
        guard metric == "euclidean" || metric == "cosine" else { throw GraphError("sq_dist: metric must be \"euclidean\" or \"cosine\", got \"\(metric)\"") }
        return [b, .fixed(m)]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        (try pairwiseDistances(x[0], x[1], cosine: a.string("metric", "euclidean") == "cosine"), [])
    }, backward: nil),
    OpDef(.argmin, arity: 1...1, shape: { s, _ in
        let (b, _) = try rows2(s[0], .argmin)
        return [b, .fixed(1)]
    }, dtype: { _, _ in .float32 }, forward: { x, _, _ in
        let t = x[0].astype(.float32), rows = t.shape[0], cols = t.shape[1]
        guard cols > 0 else { throw GraphError("argmin: the input has no columns") }
        let f = t.toFloats()
        var idx = [Int32](repeating: 0, count: rows)
        f.withUnsafeBufferPointer { fp in idx.withUnsafeMutableBufferPointer { ip in mlw_argmin_rows_f32(fp.baseAddress, rows, cols, ip.baseAddress, nil) } }
        return (try Tensor(idx.map { Float($0) }, shape: [rows, 1]), [])
    }, backward: nil),
    topKOp(.topK, values: false),
    topKOp(.topKValues, values: true),
    OpDef(.knnVote, arity: 3...3, shape: { s, a in
        let (b, k) = try rows2(s[0], .knnVote)
        guard s[1] == s[0] else { throw GraphError("knn_vote: distances \(formatShape(s[1])) must match the indices \(formatShape(s[0]))") }
        guard s[2].count == 1, s[2][0].size != nil else { throw GraphError("knn_vote: labels must be a fixed [n] vector, got \(formatShape(s[2]))") }
        let c = a.int("classes", 0)
        guard c >= 0, k >= 1 else { throw GraphError("knn_vote: classes must be >= 0") }
        return [b, .fixed(c > 0 ? c : 1)]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        let rows = x[0].shape[0], k = x[0].shape[1]
        return (try knnVote(x[0].astype(.float32).toFloats(), x[1].astype(.float32).toFloats(), labels: x[2].astype(.float32).toFloats(),
                            rows: rows, k: k, classes: a.int("classes", 0), distanceWeights: a.string("weights", "uniform") == "distance", squared: a.bool("squared", true)), [])
    }, backward: nil),
]
