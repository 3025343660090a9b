import CKernels
import Foundation
import Tensor

/// How `tree_ensemble` maps the per-output sums of its trees' leaf values (meta[0]).
public enum TreeTransform: Int, Sendable {
    /// base + sum (boosted trees: raw scores, logits for classification).
    case raw = 0
    /// Isolation forest: the anomaly score s = 2^(-sum / scale) (sum: total path length,
    /// scale: trees · c(sample_size)), given as the logit log(s / (1 - s)) so a binary task's
    /// sigmoid gives s back.
    case isolation = 1
    /// Random-forest classification: log(max(sum · scale, 1e-15)), the log of the mean of
    /// the trees' class probabilities (softmax of these gives the probabilities back).
    case logMean = 2
    /// Random-forest regression: base + sum · scale (the mean of the trees).
    case mean = 3
}

/// A fitted tree ensemble, evaluated without recursion over flattened node arrays.
/// Inputs (all float32, stored as the model's buffers so save/load and the model file
/// checks need nothing new):
/// - x [batch, F]
/// - nodes [M, 8]: feature (-1 for a leaf), threshold (x <= threshold goes left), left,
///   right, leaf value, missing_left (NaN goes left when 1), split gain, cover (training
///   rows reaching the node; the last two for importances and TreeSHAP). Children come after their
///   parent, so every walk ends (checked on every call: the file may lie).
/// - trees [T, 2]: root node, output column.
/// - meta [2 + K]: transform (`TreeTransform`), scale, base score of each of the K outputs.
/// Output: [batch, K]. No gradient: trees are fitted by the Trees target, not by autodiff.
let treeOps: [OpDef] = [
    OpDef(.treeEnsemble, arity: 4...4, shape: { s, _ in
        guard s[0].count == 2, let f = s[0][1].size, f >= 1 else { throw GraphError("tree_ensemble: input must be [batch, features], got \(formatShape(s[0]))") }
        guard s[1].count == 2, s[1][1] == .fixed(8), let m = s[1][0].size, m >= 1 else { throw GraphError("tree_ensemble: nodes must be [M, 8], got \(formatShape(s[1]))") }
        guard s[2].count == 2, s[2][1] == .fixed(2), s[2][0].size != nil else { throw GraphError("tree_ensemble: trees must be [T, 2], got \(formatShape(s[2]))") }
        guard s[3].count == 1, let w = s[3][0].size, w >= 3 else { throw GraphError("tree_ensemble: meta must be [2 + outputs], got \(formatShape(s[3]))") }
        _ = m
        return [s[0][0], .fixed(w - 2)]
    }, dtype: { _, _ in .float32 }, forward: { x, _, ctx in
        (try treeEnsembleForward(x[0], nodes: x[1], trees: x[2], meta: x[3], ctx: ctx), [])
    }, backward: nil),
]

func treeEnsembleForward(_ x: Tensor, nodes: Tensor, trees: Tensor, meta: Tensor, ctx: OpContext?) throws -> Tensor {
    guard x.dtype == .float32, nodes.dtype == .float32, trees.dtype == .float32, meta.dtype == .float32 else {
        throw GraphError("tree_ensemble: all inputs must be float32")
    }
    guard x.rank == 2 else { throw GraphError("tree_ensemble: input must be [batch, features], got \(x.shape)") }
    let n = x.shape[0], f = x.shape[1], m = nodes.shape[0], t = trees.shape[0], k = meta.count - 2
    let metaValues = meta.toFloats()
    guard let transform = TreeTransform(rawValue: Int(metaValues[0])), Float(transform.rawValue) == metaValues[0] else {
        throw GraphError("tree_ensemble: unknown transform \(metaValues[0])")
    }
    let scale = Double(metaValues[1]), base = metaValues[2...].map(Double.init)
    var sums = [Double](repeating: 0, count: n * k)
    try nodes.withFloats { nd in
        try trees.withFloats { tr in
            let bad = mlw_tree_check(nd.baseAddress, Int64(m), tr.baseAddress, Int64(t), Int64(f), Int32(k))
            if bad > 0 { throw GraphError("tree_ensemble: node \(bad - 1) is malformed (feature, child or value out of range)") }
            if bad < 0 { throw GraphError("tree_ensemble: tree \(-bad - 1) has a bad root or output column") }
            try x.withFloats { xs in
                sums.withUnsafeMutableBufferPointer { o in
                    mlw_tree_predict(xs.baseAddress, Int64(n), Int64(f), nd.baseAddress, tr.baseAddress, Int64(t), Int32(k), o.baseAddress)
                }
            }
        }
    }
    var out = try ctx?.buffer(0, [n, k]) ?? Tensor.empty([n, k])
    try out.withMutableFloats { o in
        for i in 0..<(n * k) {
            let s = sums[i], b = base[i % k]
            switch transform {
            case .raw: o[i] = Float(b + s)
            case .mean: o[i] = Float(b + s * scale)
            case .logMean: o[i] = Float(Foundation.log(Swift.max(s * scale, 1e-15)))
            case .isolation:
                let score = Foundation.pow(2.0, -s / Swift.max(scale, 1e-300))
                o[i] = Float(Foundation.log(score / Swift.max(1 - score, 1e-300)))
            }
        }
    }
    return out
}

/// The ensemble's outputs computed directly (tests, explanations): same as running the op.
public func treeEnsemble(_ x: Tensor, nodes: Tensor, trees: Tensor, meta: Tensor) throws -> Tensor {
    try treeEnsembleForward(x, nodes: nodes, trees: trees, meta: meta, ctx: nil)
}
