import Foundation
import Graph
import Train

/// Options of `linearRegression`. One objective for every mix of penalties:
///
///     1/(2n) · Σ wᵢ (yᵢ − xᵢ·β − β₀)²  +  l1 · ‖β‖₁  +  l2/(2n) · ‖β‖²     (n = Σ wᵢ)
///
/// so `l2` is scikit-learn's `Ridge(alpha = l2)`, `l1` is `Lasso(alpha = l1)`, and both
/// together are `ElasticNet(alpha = l1 + l2/n, l1_ratio = l1 / (l1 + l2/n))`. The
/// intercept is never penalized.
public struct LinearOptions {
    public var l2 = 0.0, l1 = 0.0
    public var fitIntercept = true
    public var sampleWeights: [Double]?
    /// Coordinate descent (l1 > 0): stop when no coefficient moves by more than tol · max|β|.
    public var tol = 1e-10
    public var maxSweeps = 100_000
    public init(l2: Double = 0, l1: Double = 0, fitIntercept: Bool = true, sampleWeights: [Double]? = nil) {
        self.l2 = l2; self.l1 = l1; self.fitIntercept = fitIntercept; self.sampleWeights = sampleWeights
    }
}

/// The fitted coefficients and how they were found.
public struct LinearFit {
    public var coef: [Double]
    public var intercept: Double
    /// "cholesky", "qr" (X'X was not numerically positive definite) or "coordinate_descent".
    public var solver: String
    public var sweeps = 0
}

/// Least squares / ridge by Cholesky on the normal equations (pivoted QR on the
/// square-root-weighted, penalty-augmented rows when X'X is ill-conditioned), lasso and
/// elastic net by cyclic coordinate descent on the Gram matrix.
public func fitLinear(_ x: Matrix, _ y: [Double], _ o: LinearOptions) throws -> LinearFit {
    let n = x.rows, d = x.cols
    guard o.l1 >= 0, o.l2 >= 0, o.l1.isFinite, o.l2.isFinite else { throw ClassicalError("linear_regression: l1 and l2 must be finite and >= 0") }
    let w = o.sampleWeights
    if let w {
        guard w.count == n else { throw ClassicalError("linear_regression: \(w.count) sample weights for \(n) rows") }
        for (i, v) in w.enumerated() where !(v >= 0 && v.isFinite) { throw ClassicalError("linear_regression: sample weight at row \(i) must be finite and >= 0") }
    }
    let xm = o.fitIntercept ? x.columnMeans(w) : [Double](repeating: 0, count: d)
    var ym = 0.0
    if o.fitIntercept {
        var tw = 0.0
        for i in 0..<n { let wi = w?[i] ?? 1; ym += wi * y[i]; tw += wi }
        ym /= Swift.max(tw, .leastNonzeroMagnitude)
    }
    let xc = o.fitIntercept ? x.centered(xm) : x
    let yc = y.map { $0 - ym }
    let gram = xc.gram(w)
    var xty = [Double](repeating: 0, count: d)
    for i in 0..<n {
        let wi = (w?[i] ?? 1) * yc[i]
        for j in 0..<d { xty[j] += wi * xc.data[i * d + j] }
    }
    var fit: LinearFit
    if o.l1 == 0 {
        var a = gram
        for j in 0..<d { a[j, j] += o.l2 }
        if let beta = choleskySolve(a, xty) {
            fit = LinearFit(coef: beta, intercept: 0, solver: "cholesky")
        } else {
            // Rows √wᵢ·xᵢ plus √l2·I, so the QR solves the same (ridge) problem.
            var rows = Matrix(zeros: n + (o.l2 > 0 ? d : 0), d)
            var rhs = [Double](repeating: 0, count: rows.rows)
            for i in 0..<n {
                let s = (w?[i] ?? 1).squareRoot()
                for j in 0..<d { rows.data[i * d + j] = s * xc.data[i * d + j] }
                rhs[i] = s * yc[i]
            }
            if o.l2 > 0 { for j in 0..<d { rows[n + j, j] = o.l2.squareRoot() } }
            fit = LinearFit(coef: leastSquaresQR(rows, rhs).x, intercept: 0, solver: "qr")
        }
    } else {
        let nEff = w.map { $0.reduce(0, +) } ?? Double(n)
        let (beta, sweeps) = coordinateDescent(gram: gram, xty: xty, l1: o.l1 * nEff, l2: o.l2, tol: o.tol, maxSweeps: o.maxSweeps)
        fit = LinearFit(coef: beta, intercept: 0, solver: "coordinate_descent", sweeps: sweeps)
    }
    fit.intercept = o.fitIntercept ? ym - zip(xm, fit.coef).map(*).reduce(0, +) : 0
    return fit
}

/// Minimizes ½ βᵀGβ − cᵀβ + l1‖β‖₁ + ½ l2‖β‖² (the n-scaled objective) one coordinate at
/// a time, keeping q = Gβ up to date so a sweep costs O(d²) whatever the row count.
func coordinateDescent(gram g: Matrix, xty c: [Double], l1: Double, l2: Double, tol: Double, maxSweeps: Int) -> ([Double], Int) {
    let d = g.rows
    var beta = [Double](repeating: 0, count: d), q = [Double](repeating: 0, count: d)
    var sweep = 0
    while sweep < maxSweeps {
        sweep += 1
        var maxDelta = 0.0, maxBeta = 0.0
        for j in 0..<d {
            let gjj = g[j, j]
            guard gjj + l2 > 0 else { continue }
            let rho = c[j] - q[j] + gjj * beta[j]
            let new = (rho > l1 ? rho - l1 : (rho < -l1 ? rho + l1 : 0)) / (gjj + l2)
            let delta = new - beta[j]
            if delta != 0 {
                for k in 0..<d { q[k] += g.data[k * d + j] * delta }
                beta[j] = new
            }
            maxDelta = Swift.max(maxDelta, abs(delta)); maxBeta = Swift.max(maxBeta, abs(new))
        }
        if maxDelta <= tol * Swift.max(maxBeta, 1e-300) || maxDelta == 0 { break }
    }
    return (beta, sweep)
}

/// `linear_regression`: the fitted model is one dense node (weight [d, 1], bias [1]) with
/// a regression task, so every model path (predict, evaluate, save, serve, ONNX) takes it.
public func linearRegression(_ data: FitData, _ o: LinearOptions) throws -> Model {
    try data.checkFeatures("linear_regression")
    let y = try data.labels("linear_regression")
    let fit = try fitLinear(data.x, y, o)
    var m = try denseModel(Matrix(rows: data.x.cols, cols: 1, data: fit.coef), bias: [fit.intercept], name: "linear")
    m.task = ModelTask(kind: .regression)
    var info = ClassicalInfo(kind: "linear_regression", features: data.features)
    info.vectors["coefficients"] = fit.coef
    info.scalars["intercept"] = fit.intercept
    info.scalars["l1"] = o.l1; info.scalars["l2"] = o.l2
    let penalty = o.l1 > 0 ? (o.l2 > 0 ? "elastic net" : "lasso") : (o.l2 > 0 ? "ridge" : "least squares")
    info.summary = "linear regression (\(penalty), \(fit.solver)) on \(data.x.rows) rows\n" + coefficientTable(data.features, [fit.coef], ["coef"], intercepts: [fit.intercept])
    try info.store(in: &m)
    return m
}

/// feature | one column per output, then the intercepts.
func coefficientTable(_ features: [String], _ columns: [[Double]], _ names: [String], intercepts: [Double]) -> String {
    let w = Swift.max(9, features.map(\.count).max() ?? 0)
    let cw = names.map { Swift.max(12, $0.count) }
    var s = pad("feature", w) + "  " + zip(names, cw).map { pad($0, $1) }.joined(separator: "  ") + "\n"
    for (j, f) in features.enumerated() {
        s += pad(f, w) + "  " + columns.indices.map { pad(num(columns[$0][j]), cw[$0]) }.joined(separator: "  ") + "\n"
    }
    s += pad("intercept", w) + "  " + intercepts.indices.map { pad(num(intercepts[$0]), cw[$0]) }.joined(separator: "  ")
    return s
}
