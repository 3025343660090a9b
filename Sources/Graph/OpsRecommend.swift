import CKernels
import Foundation
import Tensor

// The ops of a sparse item-kNN recommender (Recommend's `item_knn`): no items x items
// matrix anywhere, so a model with 50 k items is megabytes, not gigabytes.
//
//   csr_rows(index [batch, 1], indptr [R + 1] int32, indices [nnz], values [nnz]) -> [batch, cols]
//       row `index` of a CSR matrix (a user's interactions), written densely; attr cols.
//       indices and values are float32 (indices exact below 2^24, the limit of top_k's
//       float indices too). An index that is not a row is an error naming it.
//   knn_scores(rows [batch, m], neighbours [m, kn], similarities [m, kn]) -> [batch, m]
//       score of item i = sum over the row's items j of row[j] * sim(j -> i), where item j's
//       kn most similar items are neighbours[j] (float indices, -1 = padding).
//
// Inference ops of fitted models: no gradient.

let recommendOps: [OpDef] = [
    OpDef(.csrRows, arity: 4...4, shape: { s, a in
        guard s[0].count == 2, s[0][1] == .fixed(1) else { throw GraphError("csr_rows: index must be [batch, 1], got \(formatShape(s[0]))") }
        guard s[1].count == 1, let p = s[1][0].size, p >= 1 else { throw GraphError("csr_rows: indptr must be a fixed [rows + 1] vector, got \(formatShape(s[1]))") }
        guard s[2].count == 1, s[2][0].size != nil, s[3] == s[2] else {
            throw GraphError("csr_rows: indices \(formatShape(s[2])) and values \(formatShape(s[3])) must be equal fixed [nnz] vectors")
        }
        let cols = a.int("cols", 0)
        guard cols >= 1 else { throw GraphError("csr_rows: attr cols must be at least 1, got \(cols)") }
        return [s[0][0], .fixed(cols)]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        (try csrRows(x[0], indptr: x[1], indices: x[2], values: x[3], cols: a.int("cols", 0)), [])
    }, backward: nil),
    OpDef(.knnScores, arity: 3...3, shape: { s, _ in
        guard s[0].count == 2, let m = s[0][1].size else { throw GraphError("knn_scores: rows must be [batch, items], got \(formatShape(s[0]))") }
        guard s[1].count == 2, s[1][0] == .fixed(m), s[1][1].size != nil, s[2] == s[1] else {
            throw GraphError("knn_scores: neighbours \(formatShape(s[1])) and similarities \(formatShape(s[2])) must both be [\(m), k]")
        }
        return [s[0][0], .fixed(m)]
    }, dtype: { _, _ in .float32 }, forward: { x, _, _ in
        let rows = x[0].astype(.float32), n = rows.shape[0], m = rows.shape[1], kn = x[1].shape[1]
        var out = [Float](repeating: 0, count: n * m)
        try rows.withFloats { rp in
            try x[1].astype(.float32).withFloats { np in
                try x[2].astype(.float32).withFloats { sp in
                    out.withUnsafeMutableBufferPointer { op in
                        mlw_rec_knn_dense(Int32(n), Int32(m), Int32(kn), rp.baseAddress, np.baseAddress, sp.baseAddress, op.baseAddress)
                    }
                }
            }
        }
        return (try Tensor(out, shape: [n, m]), [])
    }, backward: nil),
]

/// Dense rows of a CSR matrix; every index and every stored offset is checked (the model
/// file may lie), columns outside 0..<cols are an error.
func csrRows(_ index: Tensor, indptr: Tensor, indices: Tensor, values: Tensor, cols: Int) throws -> Tensor {
    let idx = index.astype(.float32).toFloats(), ptr = indptr.toInts(), nnz = indices.count
    let rowsCount = ptr.count - 1
    var out = [Float](repeating: 0, count: idx.count * cols)
    try indices.astype(.float32).withFloats { ip in
        try values.astype(.float32).withFloats { vp in
            for (r, v) in idx.enumerated() {
                guard v.isFinite, v >= 0, v < Float(rowsCount), v == v.rounded() else {
                    throw GraphError("csr_rows: index \(v) of batch row \(r) is not a row in 0..<\(rowsCount)")
                }
                let u = Int(v), a = ptr[u], b = ptr[u + 1]
                guard a >= 0, a <= b, b <= nnz else { throw GraphError("csr_rows: indptr of row \(u) (\(a)..<\(b)) is outside the \(nnz) entries") }
                for e in a..<b {
                    let c = ip[e]
                    guard c >= 0, c < Float(cols), c == c.rounded() else { throw GraphError("csr_rows: entry \(e) names column \(c), not in 0..<\(cols)") }
                    out[r * cols + Int(c)] = vp[e]
                }
            }
        }
    }
    return try Tensor(out, shape: [idx.count, cols])
}
