import Compress
import Graph

/// One graph rewrite: a name, a level (1 = safe local rewrites that keep results
/// bit-identical or drop work only; 2 = also rewrites that change rounding, like
/// batch-norm folding, or that produce fused, inference-only ops; nil = run only when
/// named, like compression's storage rewrites) and the rewrite, which edits the graph
/// through the graph-edit API (`Graph/Rewrite.swift`) and returns one line per change
/// ("fused dense_1 + relu_2").
public struct Pass {
    public let name: String
    public let level: Int?
    public let doc: String
    let run: (inout Graph) throws -> [String]
}

/// The one table of passes, in the order `optimize` runs them each round.
public let passTable: [Pass] = [
    // Compression (by name only): storage changes first, so the fusions below see them.
    Pass(name: "densify", level: nil, doc: "CSR layers (sparse_dense) back to float dense layers", run: densifyPass),
    Pass(name: "sparsify", level: nil, doc: "float dense layers with at least 50% zero weights to CSR storage and the sparse kernel", run: sparsifyPass),
    Pass(name: "quantize", level: nil, doc: "float and CSR dense layers to int8 (qdense: dynamic activation scales, per-channel weights)", run: quantizePass),
    Pass(name: "dequantize", level: nil, doc: "int8 layers back to float dense layers with dequantized weights", run: dequantizePass),
    Pass(name: "eliminate_identity", level: 1, doc: "drop eval-mode dropout, same-shape reshape/flatten, identity transpose, one-input concat, +0 and *1 by constants", run: eliminateIdentity),
    Pass(name: "simplify_reshape", level: 1, doc: "merge reshape/flatten chains into one reshape, compose transpose chains", run: simplifyReshape),
    Pass(name: "eliminate_qdq", level: 1, doc: "drop quantize(dequantize(q)) pairs with equal scale and zero point (no-op until the op table has quantize ops)", run: eliminateQDQ),
    Pass(name: "constant_fold", level: 1, doc: "compute nodes whose inputs are all constants once, store the result as a constant", run: constantFold),
    Pass(name: "cse", level: 1, doc: "merge nodes with the same op, inputs and attributes", run: commonSubexpressions),
    Pass(name: "fold_batchnorm", level: 2, doc: "fold eval-mode batch_norm into the weights and bias of the preceding dense or conv2d", run: foldBatchNorm),
    Pass(name: "fuse_dense_act", level: 2, doc: "matmul + bias add -> dense; dense/conv2d + activation -> one kernel call (dense, dense_act, conv2d_act)", run: fuseDenseActivation),
    Pass(name: "fuse_elementwise", level: 2, doc: "chains of single-use elementwise ops -> one `elementwise` node, one pass over memory", run: fuseElementwise),
    Pass(name: "dce", level: 1, doc: "remove nodes and parameters the outputs do not need", run: deadNodes),
]

/// The pass named `name` (error lists the known names).
func pass(named name: String) throws -> Pass {
    guard let p = passTable.first(where: { $0.name == name }) else {
        throw GraphError("optimize: unknown pass '\(name)' (known: \(passTable.map(\.name).joined(separator: ", ")))")
    }
    return p
}
