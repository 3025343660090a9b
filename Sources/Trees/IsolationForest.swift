import Foundation
import Train

/// Average path length of an unsuccessful search in a binary search tree of n points
/// (Liu et al. 2008's c(n)), as scikit-learn computes it.
public func averagePathLength(_ n: Double) -> Double {
    if n <= 1 { return 0 }
    if n <= 2 { return 1 }
    return 2 * (Foundation.log(n - 1) + 0.5772156649015329) - 2 * (n - 1) / n
}

public struct IsolationOptions: Sendable {
    public var trees = 100
    public var sampleSize = 256
    /// Expected share of anomalies (the threshold is that quantile of the training scores);
    /// nil: "auto", scikit-learn's fixed score threshold 0.5.
    public var contamination: Double?
    public var seed: UInt64 = 0
    public init() {}
}

public struct IsolationResult {
    public var ensemble: Ensemble
    /// The anomaly-score threshold (score >= threshold is flagged).
    public var threshold: Double
}

/// Isolation forest (Liu, Ting and Zhou 2008; scikit-learn's IsolationForest): trees of
/// random axis splits over sub-samples; a row's anomaly score is 2^(-E[h(x)] / c(ψ)), where
/// h is the path length plus c(leaf size). The model outputs logit(score), so a binary task
/// (classes normal/anomaly) maps it back to the score and flags rows at the threshold.
public func isolationForest(_ x: [Float], rows: Int, features: Int, options o: IsolationOptions,
                            featureNames: [String]? = nil) throws -> IsolationResult {
    guard rows >= 1 else { throw TrainError("isolation_forest: the data has no rows") }
    guard features >= 1 else { throw TrainError("isolation_forest: the data has no feature columns") }
    guard o.trees >= 1 else { throw TrainError("isolation_forest: trees must be at least 1, got \(o.trees)") }
    let psi = Swift.min(o.sampleSize, rows)
    let limit = Swift.max(1, Int(Foundation.ceil(Foundation.log2(Double(Swift.max(psi, 2))))))
    var rng = SplitMixRNG(seed: o.seed)
    var ens = Ensemble(outputs: 1, features: features, base: [0], transform: .isolation, featureNames: featureNames)
    ens.scale = Double(o.trees) * averagePathLength(Double(psi))
    var all = Array(0..<rows)
    for _ in 0..<o.trees {
        // A sub-sample without replacement (partial Fisher-Yates).
        for i in 0..<psi { all.swapAt(i, i + rng.below(rows - i)) }
        ens.trees.append(isolationTree(x, features: features, rows: Array(all[0..<psi]), limit: limit, rng: &rng))
        ens.output.append(0)
    }
    if ens.scale <= 0 {
        // One row: scikit-learn scores 0.5 (its 0/0 taken as 1); every tree is one leaf.
        ens.scale = Double(o.trees)
        for k in ens.trees.indices { ens.trees[k].value = ens.trees[k].value.map { _ in 1 } }
    }
    var threshold = 0.5
    if let q = o.contamination {
        guard q > 0, q <= 0.5 else { throw TrainError("isolation_forest: contamination must be in (0, 0.5], got \(q)") }
        let scores = isolationScores(ens, x, rows: rows).sorted()
        // scikit-learn: the (1 - q) quantile of the training scores, linear interpolation.
        let pos = (1 - q) * Double(rows - 1), lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, rows - 1)
        threshold = scores[lo] + (scores[hi] - scores[lo]) * (pos - Double(lo))
    }
    return IsolationResult(ensemble: ens, threshold: threshold)
}

/// Anomaly scores in (0, 1) of raw rows (what the model's sigmoid gives).
public func isolationScores(_ e: Ensemble, _ x: [Float], rows: Int) -> [Double] {
    e.rawScores(x, rows: rows).map { Foundation.pow(2, -$0 / e.scale) }
}

func isolationTree(_ x: [Float], features: Int, rows: [Int], limit: Int, rng: inout SplitMixRNG) -> Tree {
    var t = Tree()
    t.cover[0] = Double(rows.count)
    var stack: [(node: Int, rows: [Int], depth: Int)] = [(0, rows, 0)]
    while let (node, rs, depth) = stack.popLast() {
        func leaf() { t.value[node] = Double(depth) + averagePathLength(Double(rs.count)) }
        if depth >= limit || rs.count <= 1 { leaf(); continue }
        // A random feature that is not constant here (scikit-learn draws until one is).
        var order = Array(0..<features)
        rng.shuffle(&order)
        var chosen: (Int, Float, Float)?
        for f in order {
            var lo = Float.infinity, hi = -Float.infinity
            for r in rs { let v = x[r * features + f]; if !v.isNaN { lo = Swift.min(lo, v); hi = Swift.max(hi, v) } }
            if lo < hi { chosen = (f, lo, hi); break }
        }
        guard let (f, lo, hi) = chosen else { leaf(); continue }
        var thr = Float(Double(lo) + rng.unit() * Double(hi - lo))
        if thr >= hi { thr = lo }   // keep both sides non-empty after rounding to float
        var l: [Int] = [], r: [Int] = [], missing: [Int] = []
        for row in rs {
            let v = x[row * features + f]
            if v.isNaN { missing.append(row) } else if v <= thr { l.append(row) } else { r.append(row) }
        }
        let missingLeft = l.count >= r.count
        if missingLeft { l += missing } else { r += missing }
        let (ln, rn) = t.split(node, feature: f, bin: 0, threshold: thr, missingLeft: missingLeft, gain: 0)
        t.cover[ln] = Double(l.count); t.cover[rn] = Double(r.count)
        stack.append((rn, r, depth + 1)); stack.append((ln, l, depth + 1))
    }
    return t
}
