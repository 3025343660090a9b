import Foundation
import Graph
import Support
import Train

public struct PCAFit {
    public var mean: [Double]
    /// [d, k]: component i in column i (unit length).
    public var components: Matrix
    public var explainedVariance: [Double]
    public var explainedVarianceRatio: [Double]
    public var whiten: Bool
}

/// PCA by the symmetric eigendecomposition (Jacobi) of the covariance of the centred data.
/// `components`: a count, or a fraction in (0, 1): the fewest components whose explained
/// variance ratio reaches it (scikit-learn's rule). Signs as scikit-learn's: the largest
/// entry of each component (by magnitude) is positive.
/// solver "randomized": Halko et al.'s randomized SVD of the centred data (a count of
/// components only), for wide data where the d×d covariance is too big to decompose.
public func fitPCA(_ x: Matrix, components: Double, whiten: Bool, solver: String = "full", seed: UInt64 = 0) throws -> PCAFit {
    let n = x.rows, d = x.cols
    guard n >= 2 else { throw ClassicalError("pca: needs at least 2 rows, got \(n)") }
    guard solver == "full" || solver == "randomized" else { throw ClassicalError("pca: solver must be \"full\" or \"randomized\", got \"\(solver)\"") }
    let mean = x.columnMeans()
    if solver == "randomized" {
        guard components == components.rounded(), components >= 1 else {
            throw ClassicalError("pca: the randomized solver needs a count of components, got \(components) (use solver: \"full\" for a variance fraction)")
        }
        let k = Int(components)
        guard k <= Swift.min(d, n) else { throw ClassicalError("pca: \(k) components from \(d) features and \(n) rows") }
        return randomizedPCA(x.centered(mean), mean: mean, k: k, whiten: whiten, seed: seed)
    }
    var cov = x.centered(mean).gram()
    for k in cov.data.indices { cov.data[k] /= Double(n - 1) }
    let (vals, vecs) = symmetricEigen(cov)
    let ev = vals.map { Swift.max($0, 0) }
    let total = ev.reduce(0, +)
    let ratio = ev.map { total > 0 ? $0 / total : 0 }
    var k: Int
    if components > 0 && components < 1 {
        var cum = 0.0
        k = d
        for (i, r) in ratio.enumerated() { cum += r; if cum >= components - 1e-12 { k = i + 1; break } }
    } else {
        guard components == components.rounded(), components >= 1 else { throw ClassicalError("pca: components must be a count >= 1 or a fraction in (0, 1), got \(components)") }
        k = Int(components)
        guard k <= d else { throw ClassicalError("pca: \(k) components from \(d) features") }
    }
    var comp = Matrix(zeros: d, k)
    for i in 0..<k {
        var col = (0..<d).map { vecs[$0, i] }
        let big = col.indices.max { abs(col[$0]) < abs(col[$1]) } ?? 0
        if col[big] < 0 { col = col.map { -$0 } }
        for j in 0..<d { comp[j, i] = col[j] }
    }
    return PCAFit(mean: mean, components: comp, explainedVariance: Array(ev.prefix(k)), explainedVarianceRatio: Array(ratio.prefix(k)), whiten: whiten)
}

/// `pca`: one dense node, x·W − μ·W (whitened: columns divided by √variance), so the
/// transform is a plain GEMM everywhere (predict, serve, ONNX).
public func pcaModel(_ data: FitData, components: Double, whiten: Bool, solver: String = "full", seed: UInt64 = 0) throws -> (Model, PCAFit) {
    try data.checkFeatures("pca")
    let fit = try fitPCA(data.x, components: components, whiten: whiten, solver: solver, seed: seed)
    var w = fit.components
    let k = w.cols, d = w.rows
    if whiten { for j in 0..<d { for i in 0..<k { w[j, i] /= Swift.max(fit.explainedVariance[i].squareRoot(), 1e-300) } } }
    let bias = (0..<k).map { i in -(0..<d).reduce(0.0) { $0 + fit.mean[$1] * w[$1, i] } }
    var m = try denseModel(w, bias: bias, name: "pca")
    var info = ClassicalInfo(kind: "pca", features: data.features)
    info.vectors["explained_variance"] = fit.explainedVariance
    info.vectors["explained_variance_ratio"] = fit.explainedVarianceRatio
    info.vectors["mean"] = fit.mean
    info.vectors["components"] = fit.components.data
    info.scalars["whiten"] = whiten ? 1 : 0
    var s = "PCA (\(k) of \(d) components\(whiten ? ", whitened" : "")) on \(data.x.rows) rows, \(num(fit.explainedVarianceRatio.reduce(0, +) * 100))% of the variance\n"
    s += "component  variance    ratio       cumulative\n"
    var cum = 0.0
    for i in 0..<k {
        cum += fit.explainedVarianceRatio[i]
        s += pad("pc\(i + 1)", 9) + "  " + pad(num(fit.explainedVariance[i]), 10) + "  " + pad(num(fit.explainedVarianceRatio[i]), 10) + "  " + num(cum)
        if i < k - 1 { s += "\n" }
    }
    info.summary = s
    try info.store(in: &m)
    return (m, fit)
}

/// A fitted PCA as plain numbers for a transform step: scores = (x − mean)·W, W [d, k]
/// row-major with the whitening folded in (columns divided by √variance).
public struct PCAProjection {
    public var mean: [Double]
    public var weights: [Double]
    public var k: Int
}

public func pcaProjection(_ x: Matrix, components: Double, whiten: Bool, solver: String = "full", seed: UInt64 = 0) throws -> PCAProjection {
    let fit = try fitPCA(x, components: components, whiten: whiten, solver: solver, seed: seed)
    var w = fit.components
    if whiten { for j in 0..<w.rows { for i in 0..<w.cols { w[j, i] /= Swift.max(fit.explainedVariance[i].squareRoot(), 1e-300) } } }
    return PCAProjection(mean: fit.mean, weights: w.data, k: w.cols)
}

/// Points in feature space from component scores z [n, k]: z·Wᵀ (undoing the whitening) + μ.
public func pcaInverse(_ info: ClassicalInfo, _ z: Matrix) throws -> Matrix {
    guard info.kind == "pca", let mean = info.vectors["mean"], let comp = info.vectors["components"],
          let ev = info.vectors["explained_variance"] else { throw ClassicalError("inverse_transform: the model is not a PCA") }
    let d = mean.count, k = ev.count
    guard z.cols == k else { throw ClassicalError("inverse_transform: scores have \(z.cols) columns, the PCA has \(k) components") }
    let whiten = info.scalars["whiten"] == 1
    var wt = Matrix(zeros: k, d)
    for i in 0..<k { for j in 0..<d { wt[i, j] = comp[j * k + i] * (whiten ? ev[i].squareRoot() : 1) } }
    return z.times(wt, bias: mean)
}

/// Randomized PCA (Halko, Martinsson & Tropp 2011, as scikit-learn's randomized_svd):
/// a Gaussian sketch Y = Xc·Ω with k + 10 columns, power iterations (7 when k is under a
/// tenth of the smaller side, else 4) re-orthonormalized each step, then the exact SVD
/// of the small B = Qᵀ·Xc through the eigendecomposition of B·Bᵀ.
func randomizedPCA(_ xc: Matrix, mean: [Double], k: Int, whiten: Bool, seed: UInt64) -> PCAFit {
    let n = xc.rows, d = xc.cols
    let l = Swift.min(k + 10, Swift.min(n, d))
    let iterations = Double(k) < 0.1 * Double(Swift.min(n, d)) ? 7 : 4
    var rng = SplitMix64(seed: mixSeed(seed, 0x9ca))
    var omega = Matrix(zeros: d, l)
    for i in omega.data.indices { omega.data[i] = gaussian(&rng) }
    var q = orthonormalColumns(xc.times(omega))
    for _ in 0..<iterations {
        let z = orthonormalColumns(xc.transposeTimes(q))   // [d, l]
        q = orthonormalColumns(xc.times(z))                 // [n, l]
    }
    let bt = xc.transposeTimes(q)                           // Bᵀ [d, l]
    let (vals, vecs) = symmetricEigen(bt.transposeTimes(bt)) // B·Bᵀ [l, l]
    var comp = Matrix(zeros: d, k)
    var ev = [Double](repeating: 0, count: k)
    for i in 0..<k {
        let s2 = Swift.max(vals[i], 0), s = s2.squareRoot()
        ev[i] = s2 / Double(n - 1)
        var col = (0..<d).map { j in (0..<l).reduce(0.0) { $0 + bt[j, $1] * vecs[$1, i] } / Swift.max(s, 1e-300) }
        let big = col.indices.max { abs(col[$0]) < abs(col[$1]) } ?? 0
        if col[big] < 0 { col = col.map { -$0 } }
        for j in 0..<d { comp[j, i] = col[j] }
    }
    var total = 0.0
    for v in xc.data { total += v * v }
    total /= Double(n - 1)
    return PCAFit(mean: mean, components: comp, explainedVariance: ev, explainedVarianceRatio: ev.map { total > 0 ? $0 / total : 0 }, whiten: whiten)
}

/// An orthonormal basis of the columns of y [m, c] by modified Gram-Schmidt, applied twice
/// (one pass loses orthogonality when the columns are nearly dependent). A column that
/// vanishes stays zero.
func orthonormalColumns(_ y: Matrix) -> Matrix {
    let m = y.rows, c = y.cols
    var cols = (0..<c).map { j in (0..<m).map { y.data[$0 * c + j] } }
    for _ in 0..<2 {
        for j in 0..<c {
            for i in 0..<j {
                var r = 0.0
                for t in 0..<m { r += cols[i][t] * cols[j][t] }
                for t in 0..<m { cols[j][t] -= r * cols[i][t] }
            }
            var norm = 0.0
            for t in 0..<m { norm += cols[j][t] * cols[j][t] }
            norm = norm.squareRoot()
            for t in 0..<m { cols[j][t] = norm > 1e-300 ? cols[j][t] / norm : 0 }
        }
    }
    var out = Matrix(zeros: m, c)
    for j in 0..<c { for t in 0..<m { out.data[t * c + j] = cols[j][t] } }
    return out
}

/// A standard normal draw (Box-Muller).
func gaussian(_ rng: inout SplitMix64) -> Double {
    let u1 = Swift.max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(rng.next() >> 11) / Double(1 << 53)
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
}
