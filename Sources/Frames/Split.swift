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
    // Written as "not within" so NaN (which fails every comparison) is refused too.
    for (n, f) in [("train", train), ("val", val), ("test", testFraction)] where !(f >= 0 && f <= 1) {
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
    // Fractions for train, val, test and (when they add to less than 1) unused rows.
    let fractions = [train, val, testFraction, max(0, 1 - total)]
    let quotas = allocate(groups.map(\.count), fractions)
    var parts: [[Int]] = [[], [], [], []]
    for (gi, var g) in groups.enumerated() {
        rng.shuffle(&g)
        var start = 0
        for p in 0..<4 {
            parts[p] += g[start..<(start + quotas[gi][p])]
            start += quotas[gi][p]
        }
    }
    let params = "train=\(train) val=\(val) test=\(testFraction) stratify=\(stratify) seed=\(seed)"
    func make(_ i: Int, _ name: String) -> Dataset {
        withLineage(ds.gather(parts[i].sorted()), "split", "part=\(name) " + params)
    }
    return DatasetSplit(train: make(0, "train"), val: make(1, "val"), test: make(2, "test"))
}

/// Row counts per group and part: each part gets its share of all rows (largest
/// remainder), each group its share of every part as nearly as whole rows allow, and
/// every row lands in exactly one part. Plain per-group rounding would lose small parts
/// (5 rows x 15% rounds to 0 in every class).
func allocate(_ sizes: [Int], _ fractions: [Double]) -> [[Int]] {
    let total = sizes.reduce(0, +)
    func largestRemainder(_ n: Int, _ f: [Double]) -> [Int] {
        let exact = f.map { Double(n) * $0 }
        var counts = exact.map { Int($0.rounded(.down)) }
        let rems: [Double] = (0..<f.count).map { exact[$0] - Double(counts[$0]) }
        // Largest remainder first; ties go to the earlier part.
        let order = (0..<f.count).sorted { a, b in rems[a] != rems[b] ? rems[a] > rems[b] : a < b }
        var left = n - counts.reduce(0, +)
        for i in order where left > 0 { counts[i] += 1; left -= 1 }
        return counts
    }
    let targets = largestRemainder(total, fractions)
    var quotas = sizes.map { n in fractions.map { Int((Double(n) * $0).rounded(.down)) } }
    var groupLeft = sizes.enumerated().map { $1 - quotas[$0].reduce(0, +) }
    var partLeft = (0..<fractions.count).map { p in targets[p] - quotas.reduce(0) { $0 + $1[p] } }
    // Hand out the leftover rows, largest fractional share first.
    var pairs: [(g: Int, p: Int, rem: Double)] = []
    for g in sizes.indices {
        for p in fractions.indices {
            let exact = Double(sizes[g]) * fractions[p]
            pairs.append((g, p, exact - exact.rounded(.down)))
        }
    }
    pairs.sort { x, y in
        if x.rem != y.rem { return x.rem > y.rem }
        return x.g != y.g ? x.g < y.g : x.p < y.p
    }
    for pass in 0..<2 {
        for (g, p, rem) in pairs where groupLeft[g] > 0 && partLeft[p] > 0 && (pass == 1 || rem > 0) {
            quotas[g][p] += 1; groupLeft[g] -= 1; partLeft[p] -= 1
        }
    }
    // Anything still unplaced goes where there is room (never happens when shares add up).
    for g in sizes.indices where groupLeft[g] > 0 {
        for p in fractions.indices where groupLeft[g] > 0 && partLeft[p] > 0 {
            let k = min(groupLeft[g], partLeft[p])
            quotas[g][p] += k; groupLeft[g] -= k; partLeft[p] -= k
        }
    }
    return quotas
}
