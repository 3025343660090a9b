import Tensor

/// Pruned dense layer with its weight in CSR form (module Compress switches a dense node to
/// this op once the layer is sparse enough for the sparse kernel to win).
/// Inputs: x [..., in], values f32 [nnz], indices i32 [nnz], indptr i32 [out+1], bias [out]?
/// — the CSR of Wᵀ (one row per output unit). Attrs: `in` (input features), `activation`.
/// No backward rule: fine-tuning runs on the dense form (Compress.finetune densifies first).
let sparseOps: [OpDef] = [
    OpDef(.sparseDense, arity: 4...5, shape: { s, a in
        let inF = a.int("in", -1)
        guard let last = s[0].last, last == .fixed(inF) else { throw GraphError("sparse_dense: input \(formatShape(s[0])) does not end in \(inF) features") }
        guard s[3].count == 1, let rows = s[3][0].size, rows >= 1 else { throw GraphError("sparse_dense: indptr must be [out+1], got \(formatShape(s[3]))") }
        guard s[1].count == 1, s[1] == s[2] else { throw GraphError("sparse_dense: values \(formatShape(s[1])) and indices \(formatShape(s[2])) must be equal 1-D shapes") }
        if s.count == 5, s[4] != [.fixed(rows - 1)] { throw GraphError("sparse_dense: bias \(formatShape(s[4])) does not match \(rows - 1) outputs") }
        return Array(s[0].dropLast()) + [.fixed(rows - 1)]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        (try Tensor.csrLinear(x[0], values: x[1], indices: x[2], indptr: x[3], inFeatures: a.int("in", -1),
                              bias: x.count == 5 ? x[4] : nil, relu: a.activation == .relu), [])
    }, backward: nil, lower: .sparseDense),
]
