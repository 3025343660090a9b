import CKernels

/// Hyper-parameters of growing one tree.
public struct GrowParams: Sendable {
    public var maxLeaves = 31
    /// <= 0: unlimited.
    public var maxDepth = -1
    public var minChildSamples = 20
    public var l1 = 0.0, l2 = 0.0
    public var minSplitGain = 0.0
    /// Smallest hessian sum of a child (LightGBM's min_sum_hessian_in_leaf).
    public var minChildWeight = 1e-3
    /// Leaf outputs are scaled by this (the boosting learning rate; 1 for forests).
    public var shrinkage = 1.0
    /// Features each split may consider (random forests' max_features); nil: all of the tree's.
    public var featuresPerSplit: Int?
    /// Categorical splits (LightGBM's defaults): one category against the rest when a
    /// feature has at most maxCatToOnehot categories; else the categories sorted by
    /// G / (H + catSmooth) (those with fewer than catSmooth rows left out), prefixes of at
    /// most maxCatThreshold categories scanned from both ends, every group of at least
    /// minDataPerGroup rows, gains with l2 + catL2.
    public var maxCatToOnehot = 4
    public var maxCatThreshold = 32
    public var catL2 = 10.0
    public var catSmooth = 10.0
    public var minDataPerGroup = 100
    public init() {}
}

/// Grows one tree leaf-wise (always splitting the leaf with the largest gain) from
/// gradient/hessian histograms: the smaller child's histogram is built from its rows and
/// the larger one's is the parent's minus it.
struct Grower {
    let data: BinnedData
    let p: GrowParams
    var cparams: mlw_tree_params

    init(data: BinnedData, params: GrowParams) {
        self.data = data; p = params
        cparams = mlw_tree_params(l1: params.l1, l2: params.l2, min_split_gain: params.minSplitGain,
                                  min_child_weight: params.minChildWeight, min_child_samples: Int64(params.minChildSamples))
    }

    struct Leaf {
        var node: Int, start: Int, count: Int, depth: Int
        var g: Double, h: Double, c: Double
        var hist: Int
        var best: mlw_split
        var feature: Int
        /// The best split's left categories when it is categorical.
        var cats: [Int32] = []
    }

    /// One tree over `rows` (the bag; all rows when nil) with per-row g and h.
    /// `used`: features this tree may split on. `rng` draws per-split feature subsets.
    mutating func grow(g: [Double], h: [Double], rows bag: [Int32]?, used: [UInt8], rng: inout SplitMixRNG) -> Tree {
        var tree = Tree()
        let n = bag?.count ?? data.rows
        var perm = bag ?? (0..<Int32(data.rows)).map { $0 }
        var tmp = [Int32](repeating: 0, count: Swift.max(n, 1))
        var pool: [[mlw_hbin]] = [histogram(perm: perm, start: 0, count: n, all: bag == nil, g: g, h: h, used: used)]
        var sums = (0.0, 0.0, 0.0)
        if let f = used.firstIndex(where: { $0 != 0 }) {
            let o = Int(data.offsets[f])
            for b in 0...Int(data.nbins[f]) { sums.0 += pool[0][o + b].g; sums.1 += pool[0][o + b].h; sums.2 += pool[0][o + b].c }
        } else {
            for i in 0..<n { let r = Int(perm[i]); sums.0 += g[r]; sums.1 += h[r]; sums.2 += 1 }
        }
        var leaves = [Leaf(node: 0, start: 0, count: n, depth: 0, g: sums.0, h: sums.1, c: sums.2, hist: 0,
                           best: mlw_split(gain: -.infinity, bin: -1, missing_left: 0, lg: 0, lh: 0, lc: 0), feature: -1)]
        tree.cover[0] = sums.2
        findBest(&leaves[0], pool[0], used: used, rng: &rng)
        while leaves.count < p.maxLeaves {
            // The leaf with the largest gain; ties go to the earliest leaf (determinism).
            var pick = -1
            for (i, l) in leaves.enumerated() where l.feature >= 0 && l.best.gain > p.minSplitGain && l.best.gain > 0 {
                if pick < 0 || l.best.gain > leaves[pick].best.gain { pick = i }
            }
            if pick < 0 { break }
            let parent = leaves[pick], f = parent.feature, s = parent.best
            let nl = perm.withUnsafeMutableBufferPointer { pp in
                data.bins.withUnsafeBufferPointer { bp in
                    if !parent.cats.isEmpty {
                        var mask = [UInt8](repeating: 0, count: 256)
                        for c in parent.cats { mask[Int(c)] = 1 }
                        return Int(mlw_tree_partition_mask(pp.baseAddress! + parent.start, Int64(parent.count), bp.baseAddress! + f * data.rows, mask, &tmp))
                    }
                    return Int(mlw_tree_partition(pp.baseAddress! + parent.start, Int64(parent.count), bp.baseAddress! + f * data.rows,
                                                  s.bin, data.nbins[f], s.missing_left, &tmp))
                }
            }
            let (ln, rn) = parent.cats.isEmpty
                ? tree.split(parent.node, feature: f, bin: Int(s.bin), threshold: data.upper[f][Int(s.bin)],
                             missingLeft: s.missing_left != 0, gain: s.gain)
                : tree.split(parent.node, feature: f, bin: -1, threshold: 0, missingLeft: false, gain: s.gain, cats: parent.cats)
            var l = Leaf(node: ln, start: parent.start, count: nl, depth: parent.depth + 1, g: s.lg, h: s.lh, c: s.lc, hist: -1,
                         best: mlw_split(gain: -.infinity, bin: -1, missing_left: 0, lg: 0, lh: 0, lc: 0), feature: -1)
            var r = Leaf(node: rn, start: parent.start + nl, count: parent.count - nl, depth: parent.depth + 1,
                         g: parent.g - s.lg, h: parent.h - s.lh, c: parent.c - s.lc, hist: -1, best: l.best, feature: -1)
            tree.cover[ln] = l.c; tree.cover[rn] = r.c
            let canSplit = (p.maxDepth <= 0 || parent.depth + 1 < p.maxDepth) && leaves.count + 1 < p.maxLeaves
            if canSplit {
                // Smaller child from its rows; the larger by subtraction, in the parent's slot.
                let small = l.count <= r.count
                let built = histogram(perm: perm, start: small ? l.start : r.start, count: small ? l.count : r.count,
                                      all: false, g: g, h: h, used: used)
                let total = Int64(data.totalBins)
                pool[parent.hist].withUnsafeMutableBufferPointer { rp in
                    built.withUnsafeBufferPointer { bp in mlw_tree_hist_sub(rp.baseAddress!, bp.baseAddress!, rp.baseAddress!, total) }
                }
                pool.append(built)
                if small { l.hist = pool.count - 1; r.hist = parent.hist } else { r.hist = pool.count - 1; l.hist = parent.hist }
                findBest(&l, pool[l.hist], used: used, rng: &rng)
                findBest(&r, pool[r.hist], used: used, rng: &rng)
            }
            leaves[pick] = l
            leaves.append(r)
        }
        for l in leaves { tree.value[l.node] = mlw_tree_leaf_value(l.g, l.h, p.l1, p.l2) * p.shrinkage }
        return tree
    }

    func histogram(perm: [Int32], start: Int, count: Int, all: Bool, g: [Double], h: [Double], used: [UInt8]) -> [mlw_hbin] {
        var hist = [mlw_hbin](repeating: mlw_hbin(g: 0, h: 0, c: 0), count: data.totalBins)
        data.bins.withUnsafeBufferPointer { bp in
            perm.withUnsafeBufferPointer { pp in
                mlw_tree_hist(bp.baseAddress!, Int64(data.rows), Int32(data.features), data.offsets, data.nbins, used,
                              all ? nil : pp.baseAddress! + start, Int64(count), g, h, &hist)
            }
        }
        return hist
    }

    func findBest(_ leaf: inout Leaf, _ hist: [mlw_hbin], used: [UInt8], rng: inout SplitMixRNG) {
        if leaf.count < 2 * p.minChildSamples || leaf.count < 2 { return }
        var mask = used
        if let k = p.featuresPerSplit {
            // A fresh subset of the tree's features for this split (random forests).
            var cand = used.indices.filter { used[$0] != 0 }
            rng.shuffle(&cand)
            mask = [UInt8](repeating: 0, count: used.count)
            for f in cand.prefix(k) { mask[f] = 1 }
        }
        var splits = [mlw_split](repeating: mlw_split(gain: -.infinity, bin: -1, missing_left: 0, lg: 0, lh: 0, lc: 0), count: data.features)
        var cats = [[Int32]](repeating: [], count: data.features)
        var numeric = mask
        for f in 0..<data.features where data.categorical[f] { numeric[f] = 0 }
        var cp = cparams
        mlw_tree_find_splits(hist, Int32(data.features), data.offsets, data.nbins, numeric, leaf.g, leaf.h, leaf.c, &cp, &splits)
        for f in 0..<data.features where data.categorical[f] && mask[f] != 0 {
            (splits[f], cats[f]) = categoricalSplit(hist, feature: f, g: leaf.g, h: leaf.h, c: leaf.c)
        }
        // Features in order, strictly better gains only: ties go to the first feature.
        for f in 0..<data.features where splits[f].gain > leaf.best.gain && splits[f].bin >= 0 {
            leaf.best = splits[f]; leaf.feature = f; leaf.cats = cats[f]
        }
    }

    /// LightGBM's categorical split search (FindBestThresholdCategorical) over one feature's
    /// histogram: the best left set of categories and its split (bin 0 marks "found"). The
    /// missing bin (NaN, unseen and folded-away categories) always stays right.
    func categoricalSplit(_ hist: [mlw_hbin], feature f: Int, g sg: Double, h sh: Double, c sc: Double) -> (mlw_split, [Int32]) {
        var best = mlw_split(gain: -.infinity, bin: -1, missing_left: 0, lg: 0, lh: 0, lc: 0)
        var bestCats: [Int32] = []
        let o = Int(data.offsets[f]), nb = Int(data.nbins[f])
        let minC = Double(p.minChildSamples)
        func gain(_ g: Double, _ h: Double, _ l2: Double) -> Double {
            let t = Swift.max(Swift.abs(g) - p.l1, 0), d = h + l2
            return d > 0 ? t * t / d : 0
        }
        let parent = gain(sg, sh, p.l2)
        let present = (0..<nb).filter { hist[o + $0].c > 0 }
        if present.count <= p.maxCatToOnehot {
            // One category against the rest.
            for b in present {
                let e = hist[o + b]
                let rg = sg - e.g, rh = sh - e.h, rc = sc - e.c
                if e.c < minC || rc < minC || e.h < p.minChildWeight || rh < p.minChildWeight { continue }
                let v = gain(e.g, e.h, p.l2) + gain(rg, rh, p.l2) - parent
                if v > best.gain && v > p.minSplitGain {
                    best = mlw_split(gain: v, bin: 0, missing_left: 0, lg: e.g, lh: e.h, lc: e.c); bestCats = [Int32(b)]
                }
            }
            return (best, bestCats)
        }
        // Many against many: categories by G / (H + cat_smooth), stable (ties by code).
        var keyed: [(bin: Int, ratio: Double)] = []
        for b in present where hist[o + b].c >= p.catSmooth {
            let e = hist[o + b]
            keyed.append((b, e.g / (e.h + p.catSmooth)))
        }
        keyed.sort { $0.ratio < $1.ratio || ($0.ratio == $1.ratio && $0.bin < $1.bin) }
        let sorted: [Int] = keyed.map { $0.bin }
        let used = sorted.count
        let maxCats = Swift.min(p.maxCatThreshold, (used + 1) / 2)
        let l2 = p.l2 + p.catL2
        for dir in [1, -1] {
            var lg = 0.0, lh = 0.0, lc = 0.0, group = 0.0
            var taken: [Int] = []
            for i in 0..<Swift.min(used, maxCats) {
                let b = sorted[dir == 1 ? i : used - 1 - i]
                let e = hist[o + b]
                lg += e.g; lh += e.h; lc += e.c; group += e.c
                taken.append(b)
                if lc < minC || lh < p.minChildWeight { continue }
                let rc = sc - lc, rh = sh - lh
                if rc < minC || rc < Double(p.minDataPerGroup) || rh < p.minChildWeight { break }
                if group < Double(p.minDataPerGroup) { continue }
                group = 0
                let v = gain(lg, lh, l2) + gain(sg - lg, rh, l2) - parent
                if v > best.gain && v > p.minSplitGain {
                    best = mlw_split(gain: v, bin: 0, missing_left: 0, lg: lg, lh: lh, lc: lc)
                    bestCats = taken.sorted().map(Int32.init)
                }
            }
        }
        return (best, bestCats)
    }
}

/// The seeded generator of the tree family (bagging, feature subsets, isolation trees).
public struct SplitMixRNG {
    var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(Swift.max(n, 1))) }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9007199254740992.0) }
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
    }
}
