import CKernels
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
    /// How rows find their nearest centre: nil picks Hamerly bounds for d ≤ 16, else GEMM
    /// (tests force each to compare them).
    var bounds: Bool? = nil
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

/// Lloyd's algorithm, best of `nInit` seeded starts by inertia. Each iteration assigns
/// every row to its nearest centre: in low dimensions (d ≤ `hamerlyMaxDims`) with
/// Hamerly's bounds (most rows skip the distance computation once centres settle), else
/// by one float32 GEMM per block of rows (‖c‖² − 2 x·c, then a row arg-min). The inertia
/// and the distances that pick replacements for empty clusters are exact float64.
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
    let useBounds = (o.bounds ?? (d <= hamerlyMaxDims)) && o.k > 1
    let x32 = useBounds ? [] : x.data.map { Float($0) }
    var best: KMeansFit?
    for run in 0..<o.nInit {
        var rng = SplitMix64(seed: mixSeed(o.seed, UInt64(run)))
        var centers = o.initMethod == "random" ? randomInit(x, o.k, &rng) : plusPlusInit(x, o.k, norms, &rng)
        var labels = [Int](repeating: 0, count: n), iters = 0
        var pointDist = [Double](repeating: 0, count: n)
        var bounds: Hamerly? = useBounds ? Hamerly(n: n) : nil
        while iters < o.maxIter {
            iters += 1
            if bounds != nil { bounds!.assign(x, centers, &labels, &pointDist) }
            else { assignGEMM(x, x32, centers, &labels, &pointDist) }
            var next = Matrix(zeros: o.k, d), counts = [Int](repeating: 0, count: o.k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for j in 0..<d { next.data[labels[i] * d + j] += x.data[i * d + j] }
            }
            // An empty cluster takes the point farthest from its centre.
            for c in 0..<o.k where counts[c] == 0 {
                var far = 0, fd = -1.0
                for i in 0..<n where pointDist[i] > fd { fd = pointDist[i]; far = i }
                for j in 0..<d { next.data[c * d + j] = x.data[far * d + j] }
                counts[c] = 1
                pointDist[far] = 0
            }
            var shift = 0.0, moved = [Double](repeating: 0, count: o.k)
            for c in 0..<o.k {
                for j in 0..<d {
                    if counts[c] > 1 || next.data[c * d + j] != 0 { next.data[c * d + j] /= Double(counts[c]) }
                    let dv = next.data[c * d + j] - centers.data[c * d + j]
                    moved[c] += dv * dv
                }
                shift += moved[c]
            }
            centers = next
            bounds?.centresMoved(moved.map { $0.squareRoot() }, labels)
            if shift <= tolAbs { break }
        }
        // Labels and inertia of the final centres (the inertia from exact distances).
        if bounds != nil { bounds!.assign(x, centers, &labels, &pointDist) } else { assignGEMM(x, x32, centers, &labels, &pointDist) }
        var inertia = 0.0
        for i in 0..<n { inertia += exactDistance(x, i, centers, labels[i]) }
        if best == nil || inertia < best!.inertia { best = KMeansFit(centroids: centers, labels: labels, inertia: inertia, iterations: iters) }
    }
    return best!
}

/// Dimensions up to which k-means keeps Hamerly bounds instead of a GEMM per iteration.
let hamerlyMaxDims = 16

/// ‖x_i − c_j‖², in float64 from the differences (no cancellation).
@inline(__always) func exactDistance(_ x: Matrix, _ i: Int, _ c: Matrix, _ j: Int) -> Double {
    let d = x.cols
    var s = 0.0
    for t in 0..<d { let v = x.data[i * d + t] - c.data[j * d + t]; s += v * v }
    return s
}

/// Nearest centres by float32 GEMM, in blocks of rows: argmin over j of ‖c_j‖² − 2 x·c_j
/// (‖x‖² is the same for the whole row); then the exact distance to the chosen centre.
func assignGEMM(_ x: Matrix, _ x32: [Float], _ c: Matrix, _ labels: inout [Int], _ pointDist: inout [Double]) {
    let n = x.rows, d = x.cols, k = c.rows
    let c32 = c.data.map { Float($0) }
    var cn = [Float](repeating: 0, count: k)
    for j in 0..<k { var s = 0.0; for t in 0..<d { s += c.data[j * d + t] * c.data[j * d + t] }; cn[j] = Float(s) }
    let block = Swift.max(1, Swift.min(n, (1 << 20) / Swift.max(k, 1)))
    var buf = [Float](repeating: 0, count: block * k)
    var idx = [Int32](repeating: 0, count: block)
    var lo = 0
    while lo < n {
        let rows = Swift.min(block, n - lo)
        x32.withUnsafeBufferPointer { xp in
            c32.withUnsafeBufferPointer { cp in
                cn.withUnsafeBufferPointer { np in
                    buf.withUnsafeMutableBufferPointer { bp in
                        // B(t, j) = c[j, t]: the transpose by strides.
                        _ = mlw_sgemm(rows, k, d, -2, xp.baseAddress! + lo * d, d, 1, cp.baseAddress, 1, d, 0, bp.baseAddress, k,
                                      np.baseAddress, Int32(MLW_BIAS_PER_COL), Int32(MLW_ACT_NONE))
                        idx.withUnsafeMutableBufferPointer { ip in mlw_argmin_rows_f32(bp.baseAddress, rows, k, ip.baseAddress, nil) }
                    }
                }
            }
        }
        for r in 0..<rows {
            labels[lo + r] = Int(idx[r])
            pointDist[lo + r] = exactDistance(x, lo + r, c, labels[lo + r])
        }
        lo += rows
    }
}

/// Hamerly's bounds: per row an upper bound on the distance to its centre and a lower
/// bound on the distance to every other centre. A row whose upper bound is below both its
/// lower bound and half the distance from its centre to the nearest other centre keeps
/// its centre without computing a distance; the result is Lloyd's.
struct Hamerly {
    var upper: [Double], lower: [Double]
    var fresh = true

    init(n: Int) { upper = [Double](repeating: .infinity, count: n); lower = [Double](repeating: 0, count: n) }

    mutating func assign(_ x: Matrix, _ c: Matrix, _ labels: inout [Int], _ pointDist: inout [Double]) {
        let n = x.rows, k = c.rows
        // Half the distance from each centre to its nearest other centre.
        var half = [Double](repeating: .infinity, count: k)
        for a in 0..<k {
            for b in (a + 1)..<Swift.max(k, a + 1) {
                var s = 0.0
                for t in 0..<c.cols { let v = c.data[a * c.cols + t] - c.data[b * c.cols + t]; s += v * v }
                let h = s.squareRoot() / 2
                half[a] = Swift.min(half[a], h); half[b] = Swift.min(half[b], h)
            }
        }
        for i in 0..<n {
            if !fresh {
                let bound = Swift.max(half[labels[i]], lower[i])
                if upper[i] <= bound { pointDist[i] = upper[i] * upper[i]; continue }
                let exact = exactDistance(x, i, c, labels[i])
                upper[i] = exact.squareRoot()
                if upper[i] <= bound { pointDist[i] = exact; continue }
            }
            // Every centre: the nearest (first on ties) and the second nearest.
            var b1 = 0, d1 = Double.infinity, d2 = Double.infinity
            for j in 0..<k {
                let dj = exactDistance(x, i, c, j)
                if dj < d1 { d2 = d1; d1 = dj; b1 = j } else if dj < d2 { d2 = dj }
            }
            labels[i] = b1; upper[i] = d1.squareRoot(); lower[i] = d2.squareRoot(); pointDist[i] = d1
        }
        fresh = false
    }

    /// After the centres moved by `moved` (Euclidean): a row's centre may be farther by its
    /// shift, any other centre nearer by the largest shift of the others.
    mutating func centresMoved(_ moved: [Double], _ labels: [Int]) {
        var top = 0
        for j in moved.indices where moved[j] > moved[top] { top = j }
        var second = 0.0
        for j in moved.indices where j != top { second = Swift.max(second, moved[j]) }
        for i in upper.indices {
            upper[i] += moved[labels[i]]
            lower[i] -= labels[i] == top ? second : moved[top]
        }
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
