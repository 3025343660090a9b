import Foundation
import Train

public struct ForestOptions: Sendable {
    public var trees = 100
    /// <= 0: grow until leaves are pure (or min_child_samples stops them).
    public var maxDepth = -1
    /// Features each split considers (nil: all).
    public var featuresPerSplit: Int?
    public var bootstrap = true
    public var minChildSamples = 1
    public var maxBins = 255
    public var seed: UInt64 = 0
    public init() {}
}

public struct ForestResult {
    public var ensemble: Ensemble
    /// Out-of-bag accuracy (classification) or R² (regression); nil without bootstrap or
    /// when no row was ever out of bag.
    public var oobScore: Double?
}

/// Random forest (Breiman 2001) on the histogram engine: each tree sees a bootstrap sample
/// and a fresh random subset of features at every split, grown by variance reduction (for
/// 0/1 class indicators that is the Gini criterion). Classification trees are one per
/// class (one-vs-rest class frequencies; binary: one tree and its mirror); the model
/// averages the trees' class probabilities (`logMean`) or values (`mean`).
public func randomForest(_ d: TreeData, classes: Int, options o: ForestOptions, featureNames: [String]? = nil) throws -> ForestResult {
    guard d.rows >= 1 else { throw TrainError("random_forest: the data has no rows") }
    guard d.features >= 1 else { throw TrainError("random_forest: the data has no feature columns") }
    guard o.trees >= 1 else { throw TrainError("random_forest: trees must be at least 1, got \(o.trees)") }
    for (i, v) in d.y.enumerated() where !v.isFinite { throw TrainError("random_forest: label at row \(i) is missing or not finite") }
    let classify = classes >= 2
    if classify {
        for (i, v) in d.y.enumerated() where v < 0 || v >= Float(classes) || v != v.rounded() {
            throw TrainError("random_forest: label \(v) at row \(i) is not a class code in 0..<\(classes)")
        }
    }
    let n = d.rows, k = classify ? classes : 1
    let data = BinnedData(x: d.x, rows: n, features: d.features, maxBins: o.maxBins, categorical: d.categorical)
    var p = GrowParams()
    p.maxLeaves = Swift.min(Swift.max(n, 2), 1 << 17); p.maxDepth = o.maxDepth; p.minChildSamples = o.minChildSamples
    // Categorical splits order categories by their plain mean target (Breiman's ordering),
    // with no smoothing or group minimum beyond the leaf minimum.
    p.catL2 = 0; p.catSmooth = 0; p.minDataPerGroup = o.minChildSamples
    p.minChildWeight = 1e-9; p.featuresPerSplit = o.featuresPerSplit.map { Swift.min($0, d.features) }
    var grower = Grower(data: data, params: p)
    var rng = SplitMixRNG(seed: o.seed)
    var ens = Ensemble(outputs: k, features: d.features, base: [Double](repeating: 0, count: k), transform: classify ? .logMean : .mean,
                       featureNames: featureNames)
    ens.scale = 1 / Double(o.trees)
    let used = [UInt8](repeating: 1, count: d.features)
    var oob = [Double](repeating: 0, count: n * k), oobCount = [Int](repeating: 0, count: n)
    for _ in 0..<o.trees {
        var w = [Double](repeating: 1, count: n)
        if o.bootstrap {
            w = [Double](repeating: 0, count: n)
            for _ in 0..<n { w[rng.below(n)] += 1 }
        }
        let bag = (0..<Int32(n)).filter { w[Int($0)] > 0 }
        let h = w
        let targets: [Int] = classify ? (classes == 2 ? [1] : Array(0..<classes)) : [0]
        var grown: [(Tree, Int)] = []
        for c in targets {
            // Leaf value -G/H = the (weighted) mean of the target in the leaf.
            let g = (0..<n).map { i in -w[i] * (classify ? (Int(d.y[i]) == c ? 1 : 0) : Double(d.y[i])) }
            let t = grower.grow(g: g, h: h, rows: bag, used: used, rng: &rng)
            grown.append((t, c))
            if classify && classes == 2 {
                var mirror = t
                for i in 0..<mirror.nodeCount where mirror.feature[i] < 0 { mirror.value[i] = 1 - mirror.value[i] }
                grown.append((mirror, 0))
            }
        }
        for (t, c) in grown {
            ens.trees.append(t); ens.output.append(c)
            if o.bootstrap {
                d.x.withUnsafeBufferPointer { xp in
                    for i in 0..<n where w[i] == 0 { oob[i * k + c] += t.value[t.leaf(xp.baseAddress! + i * d.features)] }
                }
            }
        }
        if o.bootstrap { for i in 0..<n where w[i] == 0 { oobCount[i] += 1 } }
    }
    var oobScore: Double?
    let seen = (0..<n).filter { oobCount[$0] > 0 }
    if o.bootstrap && !seen.isEmpty {
        if classify {
            let right = seen.filter { i in
                let row = oob[(i * k)..<((i + 1) * k)]
                return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - i * k == Int(d.y[i])
            }.count
            oobScore = Double(right) / Double(seen.count)
        } else {
            let pred = seen.map { oob[$0] / Double(oobCount[$0]) }, ys = seen.map { Double(d.y[$0]) }
            let mean = ys.reduce(0, +) / Double(ys.count)
            let ssr = zip(pred, ys).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, sst = ys.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            oobScore = sst > 0 ? 1 - ssr / sst : nil
        }
    }
    return ForestResult(ensemble: ens, oobScore: oobScore)
}
