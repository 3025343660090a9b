import Foundation
import Graph
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
public func fitPCA(_ x: Matrix, components: Double, whiten: Bool) throws -> PCAFit {
    let n = x.rows, d = x.cols
    guard n >= 2 else { throw ClassicalError("pca: needs at least 2 rows, got \(n)") }
    let mean = x.columnMeans()
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
public func pcaModel(_ data: FitData, components: Double, whiten: Bool) throws -> (Model, PCAFit) {
    try data.checkFeatures("pca")
    let fit = try fitPCA(data.x, components: components, whiten: whiten)
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
