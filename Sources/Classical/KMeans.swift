import Foundation
import Graph
import Support
import Tensor
import Train

public struct KMeansOptions {
    public var k: Int
    /// "k-means++" (greedy, 2 + ⌊ln k⌋ candidates per centre, as scikit-learn) or "random".
    public var initMethod = "k-means++"
    public var nInit = 3
    public var maxIter = 300
    /// Stop when the centres moved (sum of squared shifts) by at most tol times the mean
    /// feature variance (scikit-learn's rule).
    public var tol = 1e-4
    public var seed: UInt64 = 0
    public init(k: Int, initMethod: String = "k-means++", nInit: Int = 3, maxIter: Int = 300, tol: Double = 1e-4, seed: UInt64 = 0) {
        self.k = k; self.initMethod = initMethod; self.nInit = nInit; self.maxIter = maxIter; self.tol = tol; self.seed = seed
    }
}

public struct KMeansFit {
    public var centroids: Matrix
    public var labels: [Int]
    public var inertia: Double
    public var iterations: Int
}

/// Squared distances of every row of x to every centre [n, k]: ‖x‖² − 2 x·c + ‖c‖², the
/// cross term as one float64 product, clamped at 0.
func squaredDistances(_ x: Matrix, _ c: Matrix, rowNorms: [Double]) -> Matrix {
    var ct = Matrix(zeros: c.cols, c.rows)
    for i in 0..<c.rows { for j in 0..<c.cols { ct.data[j * c.rows + i] = c.data[i * c.cols + j] } }
    var cn = [Double](repeating: 0, count: c.rows)
    for i in 0..<c.rows { for j in 0..<c.cols { cn[i] += c.data[i * c.cols + j] * c.data[i * c.cols + j] } }
    var out = x.times(ct)
    let k = c.rows
    for i in 0..<x.rows { for j in 0..<k { out.data[i * k + j] = Swift.max(0, rowNorms[i] - 2 * out.data[i * k + j] + cn[j]) } }
    return out
}

/// Lloyd's algorithm, best of `nInit` seeded starts by inertia.
public func fitKMeans(_ x: Matrix, _ o: KMeansOptions) throws -> KMeansFit {
    let fn = "kmeans"
    guard o.k >= 1 else { throw ClassicalError("\(fn): k must be at least 1") }
    guard o.k <= x.rows else { throw ClassicalError("\(fn): k = \(o.k) is more than the \(x.rows) rows") }
    guard o.nInit >= 1, o.maxIter >= 1 else { throw ClassicalError("\(fn): n_init and max_iter must be at least 1") }
    guard o.initMethod == "k-means++" || o.initMethod == "random" else { throw ClassicalError("\(fn): init must be \"k-means++\" or \"random\", got \"\(o.initMethod)\"") }
    let n = x.rows, d = x.cols
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<n { for j in 0..<d { norms[i] += x.data[i * d + j] * x.data[i * d + j] } }
    let means = x.columnMeans()
    var meanVar = 0.0
    for i in 0..<n { for j in 0..<d { let v = x.data[i * d + j] - means[j]; meanVar += v * v } }
    meanVar /= Double(n * d)
    let tolAbs = o.tol * meanVar
    var best: KMeansFit?
    for run in 0..<o.nInit {
        var rng = SplitMix64(seed: mixSeed(o.seed, UInt64(run)))
        var centers = o.initMethod == "random" ? randomInit(x, o.k, &rng) : plusPlusInit(x, o.k, norms, &rng)
        var labels = [Int](repeating: 0, count: n), iters = 0
        var dist = Matrix(zeros: 0, 0)
        while iters < o.maxIter {
            iters += 1
            dist = squaredDistances(x, centers, rowNorms: norms)
            assign(dist, &labels)
            var next = Matrix(zeros: o.k, d), counts = [Int](repeating: 0, count: o.k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for j in 0..<d { next.data[labels[i] * d + j] += x.data[i * d + j] }
            }
            // An empty cluster takes the point farthest from its centre.
            for c in 0..<o.k where counts[c] == 0 {
                var far = 0, fd = -1.0
                for i in 0..<n where dist.data[i * o.k + labels[i]] > fd { fd = dist.data[i * o.k + labels[i]]; far = i }
                for j in 0..<d { next.data[c * d + j] = x.data[far * d + j] }
                counts[c] = 1
                dist.data[far * o.k + labels[far]] = 0
            }
            var shift = 0.0
            for c in 0..<o.k {
                for j in 0..<d {
                    if counts[c] > 1 || next.data[c * d + j] != 0 { next.data[c * d + j] /= Double(counts[c]) }
                    let dv = next.data[c * d + j] - centers.data[c * d + j]
                    shift += dv * dv
                }
            }
            centers = next
            if shift <= tolAbs { break }
        }
        // Labels and inertia of the final centres.
        dist = squaredDistances(x, centers, rowNorms: norms)
        assign(dist, &labels)
        var inertia = 0.0
        for i in 0..<n { inertia += dist.data[i * o.k + labels[i]] }
        if best == nil || inertia < best!.inertia { best = KMeansFit(centroids: centers, labels: labels, inertia: inertia, iterations: iters) }
    }
    return best!
}

private func assign(_ dist: Matrix, _ labels: inout [Int]) {
    let k = dist.cols
    for i in 0..<dist.rows {
        var b = 0, bv = dist.data[i * k]
        for j in 1..<max(k, 1) where dist.data[i * k + j] < bv { bv = dist.data[i * k + j]; b = j }
        labels[i] = b
    }
}

private func uniform(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

private func randomInit(_ x: Matrix, _ k: Int, _ rng: inout SplitMix64) -> Matrix {
    var idx = Array(0..<x.rows)
    for i in 0..<k { idx.swapAt(i, i + Int(rng.next() % UInt64(x.rows - i))) }
    var c = Matrix(zeros: k, x.cols)
    for (r, i) in idx.prefix(k).enumerated() { for j in 0..<x.cols { c.data[r * x.cols + j] = x.data[i * x.cols + j] } }
    return c
}

/// Greedy k-means++: each new centre is the best (lowest potential) of 2 + ⌊ln k⌋
/// candidates drawn with probability proportional to D².
private func plusPlusInit(_ x: Matrix, _ k: Int, _ norms: [Double], _ rng: inout SplitMix64) -> Matrix {
    let n = x.rows, d = x.cols
    let trials = 2 + Int(Foundation.log(Double(k)))
    var c = Matrix(zeros: k, d)
    func row(_ i: Int) -> Matrix { Matrix(rows: 1, cols: d, data: Array(x.data[(i * d)..<((i + 1) * d)])) }
    let first = Int(rng.next() % UInt64(n))
    for j in 0..<d { c.data[j] = x.data[first * d + j] }
    var closest = squaredDistances(x, row(first), rowNorms: norms).data
    for ci in 1..<max(k, 1) where ci < k {
        let total = closest.reduce(0, +)
        var candidates: [Int] = []
        for _ in 0..<trials {
            var r = uniform(&rng) * total, pick = n - 1
            if total > 0 {
                for i in 0..<n { r -= closest[i]; if r < 0 { pick = i; break } }
            } else { pick = Int(rng.next() % UInt64(n)) }
            candidates.append(pick)
        }
        var bestPot = Double.infinity, bestIdx = candidates[0], bestDist = closest
        for cand in candidates {
            let dc = squaredDistances(x, row(cand), rowNorms: norms).data
            var pot = 0.0
            var merged = closest
            for i in 0..<n { merged[i] = Swift.min(closest[i], dc[i]); pot += merged[i] }
            if pot < bestPot { bestPot = pot; bestIdx = cand; bestDist = merged }
        }
        for j in 0..<d { c.data[ci * d + j] = x.data[bestIdx * d + j] }
        closest = bestDist
    }
    return c
}

/// `kmeans`: the model's graph is sq_dist(x, centroids) → argmin, so `predict` assigns
/// clusters ([batch, 1] cluster indices).
public func kmeansModel(_ data: FitData, _ o: KMeansOptions) throws -> (Model, KMeansFit) {
    try data.checkFeatures("kmeans")
    let fit = try fitKMeans(data.x, o)
    var g = Graph()
    let x = try g.input("x", shape: [.batch, .fixed(data.x.cols)])
    let c = try g.param("kmeans.centroids", try fit.centroids.tensor())
    let dist = try g.op(.sqDist, [x, c], [:], label: "kmeans.distances")
    g.outputs = [try g.op(.argmin, [dist], [:], label: "kmeans.cluster")]
    try g.verify()
    var m = Model(graph: g)
    var sizes = [Double](repeating: 0, count: o.k)
    for l in fit.labels { sizes[l] += 1 }
    var info = ClassicalInfo(kind: "kmeans", features: data.features)
    info.scalars["inertia"] = fit.inertia
    info.scalars["iterations"] = Double(fit.iterations)
    info.vectors["sizes"] = sizes
    var s = "k-means (k = \(o.k), best of \(o.nInit), \(fit.iterations) iterations) on \(data.x.rows) rows, inertia \(num(fit.inertia))\n"
    s += "cluster  size    " + data.features.map { pad($0, 10) }.joined(separator: "  ") + "\n"
    for ci in 0..<o.k {
        s += pad(String(ci), 7) + "  " + pad(String(Int(sizes[ci])), 6) + "  "
            + (0..<data.x.cols).map { pad(num(fit.centroids[ci, $0]), Swift.max(10, data.features[$0].count)) }.joined(separator: "  ")
        if ci < o.k - 1 { s += "\n" }
    }
    info.summary = s
    try info.store(in: &m)
    return (m, fit)
}
