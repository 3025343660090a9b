import Foundation

/// The parts of a train/validation/test split. Empty parts have zero rows.
public struct DatasetSplit: Sendable {
    public var train: Dataset
    public var val: Dataset
    public var test: Dataset
}

/// Splits rows into train/val/test by fractions, optionally stratified by the label so
/// each part keeps the class proportions. Depends only on the data and the seed.
///
///     let parts = try split(ds, train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 42)
///
/// Rows are assigned after a seeded shuffle (per class when stratified); each part then
/// keeps the original row order, so reports still read in file order.
public func split(_ ds: Dataset, train: Double, val: Double = 0, test: Double? = nil,
                  stratify: Bool = false, seed: UInt64 = 0) throws -> DatasetSplit {
    let testFraction = test ?? max(0, 1 - train - val)
    for (n, f) in [("train", train), ("val", val), ("test", testFraction)] where f < 0 || f > 1 {
        throw DataError(.badArgument, "split fraction '\(n)' must be between 0 and 1, got \(f)")
    }
    let total = train + val + testFraction
    if total > 1 + 1e-9 { throw DataError(.badArgument, "split fractions add up to \(total), more than 1") }
    var groups: [[Int]]
    if stratify {
        guard let l = ds.label, let col = ds[l] else {
            throw DataError(.badArgument, "stratified split needs a label column")
        }
        var byKey: [String: [Int]] = [:]
        var order: [String] = []
        for r in 0..<ds.rowCount {
            let k = valueKey(col.value(at: r))
            if byKey[k] == nil { order.append(k) }
            byKey[k, default: []].append(r)
        }
        groups = order.sorted().map { byKey[$0]! }
    } else {
        groups = [Array(0..<ds.rowCount)]
    }
    var rng = SplitMix64(seed: seed)
    var parts: [[Int]] = [[], [], []]
    for var g in groups {
        rng.shuffle(&g)
        let n = Double(g.count)
        let nTrain = Int((n * train).rounded())
        let nVal = min(g.count - nTrain, Int((n * val).rounded()))
        // When fractions add to 1 the test part takes the remainder, so no row is lost.
        let nTest = abs(total - 1) < 1e-9 ? g.count - nTrain - nVal : min(g.count - nTrain - nVal, Int((n * testFraction).rounded()))
        parts[0] += g[0..<nTrain]
        parts[1] += g[nTrain..<(nTrain + nVal)]
        parts[2] += g[(nTrain + nVal)..<(nTrain + nVal + nTest)]
    }
    let params = "train=\(train) val=\(val) test=\(testFraction) stratify=\(stratify) seed=\(seed)"
    func make(_ i: Int, _ name: String) -> Dataset {
        withLineage(ds.gather(parts[i].sorted()), "split", "part=\(name) " + params)
    }
    return DatasetSplit(train: make(0, "train"), val: make(1, "val"), test: make(2, "test"))
}
