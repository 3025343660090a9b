import CKernels
import Foundation
import Graph
import Tensor
import Train

/// Losses gradient boosting minimises (codes of `mlw_tree_gradients`).
public enum BoostObjective: Int, Sendable {
    case l2 = 0, binary = 1, softmax = 2, l1 = 3, huber = 4
}

/// Options of `gradientBoosting` (the MLW builtin's arguments).
public struct BoostOptions: Sendable {
    public var trees = 100
    public var learningRate = 0.1
    public var grow = GrowParams()
    public var featureFraction = 1.0
    public var baggingFraction = 1.0
    public var baggingFreq = 0
    public var maxBins = 255
    public var huberDelta = 1.0
    public var seed: UInt64 = 0
    /// Early stopping on `val`: stop after `patience` rounds without improvement, keep the best.
    public var patience: Int?
    /// "auc" (binary), "logloss", "rmse", "mae" (nil: the objective's natural metric).
    public var metric: String?
    public init() {}
}

/// A labelled table for fitting: row-major float32 features (NaN missing), labels (class
/// codes or values) and optional per-row weights.
public struct TreeData {
    public var x: [Float]
    public var y: [Float]
    public var rows: Int, features: Int
    public var weights: [Double]?
    /// Features holding category codes (split by category sets, not thresholds); nil: none.
    public var categorical: [Bool]?
    public init(x: [Float], y: [Float], rows: Int, features: Int, weights: [Double]? = nil, categorical: [Bool]? = nil) {
        self.x = x; self.y = y; self.rows = rows; self.features = features; self.weights = weights; self.categorical = categorical
    }
}

public struct BoostResult {
    public var ensemble: Ensemble
    /// Validation metric after each round (when val was given).
    public var valHistory: [Double] = []
    public var bestIteration: Int
}

/// Histogram gradient boosting (LightGBM's algorithm: quantised features, leaf-wise trees,
/// shrinkage, bagging and feature fraction; boosting starts from the label average).
public func gradientBoosting(_ d: TreeData, objective: BoostObjective, classes: Int, options o: BoostOptions,
                             val: TreeData? = nil, featureNames: [String]? = nil) throws -> BoostResult {
    guard d.rows >= 1 else { throw TrainError("gradient_boosting: the data has no rows") }
    guard d.features >= 1 else { throw TrainError("gradient_boosting: the data has no feature columns") }
    let k = objective == .softmax ? classes : 1
    let n = d.rows
    for (i, v) in d.y.enumerated() where !v.isFinite { throw TrainError("gradient_boosting: label at row \(i) is missing or not finite") }
    if objective == .binary || objective == .softmax {
        for (i, v) in d.y.enumerated() where v < 0 || v >= Float(Swift.max(classes, 2)) || v != v.rounded() {
            throw TrainError("gradient_boosting: label \(v) at row \(i) is not a class code in 0..<\(Swift.max(classes, 2))")
        }
    }
    let data = BinnedData(x: d.x, rows: n, features: d.features, maxBins: o.maxBins, categorical: d.categorical)
    // Start from the (weighted) average label, as LightGBM's boost_from_average.
    let w = d.weights ?? [Double](repeating: 1, count: n)
    let wsum = w.reduce(0, +)
    var base = [Double](repeating: 0, count: k)
    switch objective {
    case .l2: base[0] = zip(d.y, w).reduce(0) { $0 + Double($1.0) * $1.1 } / wsum
    case .l1, .huber:
        let sorted = d.y.sorted()
        base[0] = Double(sorted[sorted.count / 2])
    case .binary:
        let p = Swift.min(Swift.max(zip(d.y, w).reduce(0) { $0 + Double($1.0) * $1.1 } / wsum, 1e-15), 1 - 1e-15)
        base[0] = Foundation.log(p / (1 - p))
    case .softmax:
        var counts = [Double](repeating: 0, count: k)
        for (v, wi) in zip(d.y, w) { counts[Int(v)] += wi }
        base = counts.map { Foundation.log(Swift.max($0 / wsum, 1e-15)) }
    }
    var ens = Ensemble(outputs: k, features: d.features, base: base, transform: .raw, featureNames: featureNames)
    var score = [Double](repeating: 0, count: n * k)
    for i in 0..<n { for c in 0..<k { score[i * k + c] = base[c] } }
    var g = [Double](repeating: 0, count: n * k), h = g
    var rng = SplitMixRNG(seed: o.seed)
    var grow = o.grow
    grow.shrinkage = o.learningRate
    var grower = Grower(data: data, params: grow)
    var bag: [Int32]? = nil
    var valScore: [Double] = []
    if let v = val { valScore = (0..<(v.rows * k)).map { base[$0 % k] } }
    var history: [Double] = [], best = (iteration: 0, value: Double.infinity)
    let metric = o.metric ?? (objective == .binary ? "auc" : objective == .softmax ? "logloss" : objective == .l1 ? "mae" : "rmse")
    let featureCount = Swift.max(1, Int((Double(d.features) * o.featureFraction).rounded(.up)))
    for it in 0..<o.trees {
        d.y.withUnsafeBufferPointer { yp in
            mlw_tree_gradients(Int32(objective.rawValue), Int64(n), Int32(k), score, yp.baseAddress, d.weights, o.huberDelta, &g, &h)
        }
        if o.baggingFreq > 0, o.baggingFraction < 1, it % o.baggingFreq == 0 {
            bag = (0..<Int32(n)).filter { _ in rng.unit() < o.baggingFraction }
            if bag!.isEmpty { bag = [Int32(rng.below(n))] }
        }
        var used = [UInt8](repeating: 1, count: d.features)
        if featureCount < d.features {
            var order = Array(0..<d.features)
            rng.shuffle(&order)
            used = [UInt8](repeating: 0, count: d.features)
            for f in order.prefix(featureCount) { used[f] = 1 }
        }
        for c in 0..<k {
            let gc = Array(g[(c * n)..<((c + 1) * n)]), hc = Array(h[(c * n)..<((c + 1) * n)])
            var tree = grower.grow(g: gc, h: hc, rows: bag, used: used, rng: &rng)
            if objective == .l1 || objective == .huber {
                renewLeaves(&tree, data, score: score, k: k, y: d.y, weights: d.weights, rows: bag, shrinkage: o.learningRate,
                            huberDelta: objective == .huber ? o.huberDelta : nil)
            }
            addBinned(tree, data, &score, k: k, column: c)
            ens.trees.append(tree); ens.output.append(c)
            if let v = val { addRaw(tree, v, &valScore, k: k, column: c) }
        }
        if let v = val {
            let m = validationMetric(metric, valScore, v.y, k: k, objective: objective)
            history.append(m)
            // Lower is better for every metric but AUC (stored negated).
            let loss = metric == "auc" ? -m : m
            if loss < best.value { best = (it + 1, loss) }
            if let p = o.patience, it + 1 - best.iteration >= p { break }
        }
    }
    var bestIteration = ens.trees.count / k
    if o.patience != nil, val != nil, best.iteration > 0 {
        bestIteration = best.iteration
        ens.trees.removeLast(ens.trees.count - best.iteration * k)
        ens.output.removeLast(ens.output.count - best.iteration * k)
    }
    return BoostResult(ensemble: ens, valHistory: history, bestIteration: bestIteration)
}

/// LightGBM's leaf renewal (RenewTreeOutput): for L1 the Newton step only sees the signs
/// of the residuals, so each leaf's value is re-fit as the learning rate times the
/// (weighted) median of its in-bag rows' residuals y - score; for Huber (`huberDelta`), the
/// Huber M-estimate of those residuals (reweighted steps from the median).
func renewLeaves(_ t: inout Tree, _ data: BinnedData, score: [Double], k: Int, y: [Float], weights: [Double]?, rows: [Int32]?,
                 shrinkage: Double, huberDelta: Double?) {
    var residuals = [[(r: Double, w: Double)]](repeating: [], count: t.nodeCount)
    let n = data.rows
    func visit(_ i: Int) {
        var node = 0
        while t.feature[node] >= 0 {
            let f = Int(t.feature[node]), b = Int32(data.bins[f * n + i])
            let goLeft = t.isCategorical(node) ? t.cats[node].contains(b) : b == data.nbins[f] ? t.missingLeft[node] != 0 : b <= t.bin[node]
            node = Int(goLeft ? t.left[node] : t.right[node])
        }
        residuals[node].append((Double(y[i]) - score[i * k], weights?[i] ?? 1))
    }
    if let rows { for i in rows { visit(Int(i)) } } else { for i in 0..<n { visit(i) } }
    for leaf in 0..<t.nodeCount where t.feature[leaf] < 0 && !residuals[leaf].isEmpty {
        let rs = residuals[leaf].sorted { $0.r < $1.r }
        // Weighted median: the first residual where the cumulative weight reaches half
        // (two middle values averaged when it lands exactly on half).
        let total = rs.reduce(0) { $0 + $1.w }
        var acc = 0.0, m = rs[rs.count - 1].r
        for (j, e) in rs.enumerated() {
            acc += e.w
            if acc >= total / 2 {
                m = acc == total / 2 && j + 1 < rs.count ? (e.r + rs[j + 1].r) / 2 : e.r
                break
            }
        }
        if let delta = huberDelta, delta > 0 {
            for _ in 0..<20 {
                var num = 0.0, den = 0.0
                for e in rs { let u = e.w * Swift.min(1, delta / Swift.max(Swift.abs(e.r - m), 1e-300)); num += u * e.r; den += u }
                guard den > 0 else { break }
                let next = num / den
                if Swift.abs(next - m) <= 1e-12 * Swift.max(1, Swift.abs(m)) { m = next; break }
                m = next
            }
        }
        t.value[leaf] = shrinkage * m
    }
}

/// Adds a tree's leaf values to every training row's score (walking the binned data).
func addBinned(_ t: Tree, _ data: BinnedData, _ score: inout [Double], k: Int, column: Int) {
    // Categorical nodes (bin -1) read their left bins from a 256-flag mask per node.
    var masks: [UInt8] = [0]
    if t.cats.contains(where: { !$0.isEmpty }) {
        masks = [UInt8](repeating: 0, count: t.nodeCount * 256)
        for n in 0..<t.nodeCount { for c in t.cats[n] where c >= 0 && c < 256 { masks[n * 256 + Int(c)] = 1 } }
    }
    data.bins.withUnsafeBufferPointer { bp in
        mlw_tree_add_binned(bp.baseAddress!, Int64(data.rows), Int32(data.features), data.nbins, t.feature, t.bin, t.missingLeft,
                            t.left, t.right, t.value, masks, &score, Int32(k), Int32(column))
    }
}

/// Adds a tree's leaf values to raw rows' scores (validation data).
func addRaw(_ t: Tree, _ d: TreeData, _ score: inout [Double], k: Int, column: Int) {
    d.x.withUnsafeBufferPointer { xp in
        for i in 0..<d.rows { score[i * k + column] += t.value[t.leaf(xp.baseAddress! + i * d.features)] }
    }
}

func validationMetric(_ name: String, _ score: [Double], _ y: [Float], k: Int, objective: BoostObjective) -> Double {
    let n = y.count
    switch name {
    case "auc":
        return rocAUC(scores: score, labels: y.map { $0 > 0.5 ? 1 : 0 })
    case "logloss":
        var s = 0.0
        for i in 0..<n {
            if k == 1 {
                let p = 1 / (1 + Foundation.exp(-score[i]))
                s -= y[i] > 0.5 ? Foundation.log(Swift.max(p, 1e-15)) : Foundation.log(Swift.max(1 - p, 1e-15))
            } else {
                let row = score[(i * k)..<((i + 1) * k)], m = row.max() ?? 0
                let z = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                s -= (score[i * k + Int(y[i])] - m) - Foundation.log(z)
            }
        }
        return s / Double(Swift.max(n, 1))
    case "mae":
        return zip(score, y).reduce(0) { $0 + Swift.abs($1.0 - Double($1.1)) } / Double(Swift.max(n, 1))
    default:
        return (zip(score, y).reduce(0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) } / Double(Swift.max(n, 1))).squareRoot()
    }
}

/// ROC AUC with ties counted half (the Mann-Whitney statistic).
public func rocAUC(scores: [Double], labels: [Int]) -> Double {
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0, i = 0
    let pos = labels.filter { $0 == 1 }.count, neg = labels.count - pos
    guard pos > 0, neg > 0 else { return 0.5 }
    while i < order.count {
        var j = i
        while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let rank = Double(i + j) / 2 + 1
        for t in i...j where labels[order[t]] == 1 { rankSum += rank }
        i = j + 1
    }
    return (rankSum - Double(pos) * Double(pos + 1) / 2) / (Double(pos) * Double(neg))
}
