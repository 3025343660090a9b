import Foundation
import Graph
import Train

/// Options of `logisticRegression`. The objective (scikit-learn's with C = 1 / l2):
///
///     Σ sᵢ · loss(xᵢ, yᵢ)  +  l2/2 · ‖W‖²  +  l1 · ‖W‖₁
///
/// where loss is the binary log loss of one logit (two classes) or the softmax cross-entropy
/// of C logits (C > 2, the multinomial model with one weight column per class), sᵢ the
/// class weight of yᵢ, and the intercepts are not penalized. l1 = 0: L-BFGS. l1 > 0
/// (lasso / elastic net, scikit-learn's `penalty="elasticnet"` with C = 1/(l1 + l2),
/// l1_ratio = l1/(l1 + l2)): accelerated proximal gradient (FISTA with restarts).
public struct LogisticOptions {
    public var l2 = 1.0, l1 = 0.0
    public var maxIter = 100
    /// Stop when the largest gradient entry of the objective divided by n is below tol
    /// (L-BFGS), or when no weight moves by more than tol/100 (proximal).
    public var tol = 1e-4
    public var classWeights: [Double]?
    public var fitIntercept = true
    public init(l2: Double = 1, l1: Double = 0, maxIter: Int = 100, tol: Double = 1e-4, classWeights: [Double]? = nil) {
        self.l2 = l2; self.l1 = l1; self.maxIter = maxIter; self.tol = tol; self.classWeights = classWeights
    }
}

/// The objective over θ = [W (d×c, row-major), b (c)] divided by n, and its gradient.
struct LogisticObjective {
    let x: Matrix
    let codes: [Int]
    let s: [Double]
    /// Output columns: 1 (binary, one logit) or C.
    let c: Int
    let l2: Double
    let n: Double

    var size: Int { x.cols * c + c }

    func value(_ theta: [Double], gradient: Bool) -> (Double, [Double]) {
        let d = x.cols
        let w = Matrix(rows: d, cols: c, data: Array(theta[0..<(d * c)]))
        let z = x.times(w, bias: Array(theta[(d * c)...]))
        var f = 0.0
        var r = Matrix(zeros: x.rows, c)   // ∂loss/∂z, per row
        for i in 0..<x.rows {
            let si = s[i]
            if si == 0 { continue }
            if c == 1 {
                let zi = z.data[i], yi = Double(codes[i])
                // log(1 + e^z) - y z, stably.
                f += si * ((zi > 0 ? zi + Foundation.log1p(Foundation.exp(-zi)) : Foundation.log1p(Foundation.exp(zi))) - yi * zi)
                let p = zi >= 0 ? 1 / (1 + Foundation.exp(-zi)) : Foundation.exp(zi) / (1 + Foundation.exp(zi))
                r.data[i] = si * (p - yi)
            } else {
                var m = -Double.infinity
                for k in 0..<c { m = Swift.max(m, z.data[i * c + k]) }
                var sum = 0.0
                for k in 0..<c { sum += Foundation.exp(z.data[i * c + k] - m) }
                let lse = m + Foundation.log(sum)
                f += si * (lse - z.data[i * c + codes[i]])
                for k in 0..<c { r.data[i * c + k] = si * Foundation.exp(z.data[i * c + k] - lse) }
                r.data[i * c + codes[i]] -= si
            }
        }
        var reg = 0.0
        for k in 0..<(d * c) { reg += theta[k] * theta[k] }
        f = (f + 0.5 * l2 * reg) / n
        guard gradient else { return (f, []) }
        let gw = x.transposeTimes(r)
        var g = [Double](repeating: 0, count: size)
        for k in 0..<(d * c) { g[k] = (gw.data[k] + l2 * theta[k]) / n }
        for i in 0..<x.rows { for k in 0..<c { g[d * c + k] += r.data[i * c + k] / n } }
        return (f, g)
    }
}

/// Limited-memory BFGS (m = 10) with a backtracking Armijo line search; returns θ and the
/// iterations used.
func lbfgs(_ f: (([Double], Bool) -> (Double, [Double])), start: [Double], maxIter: Int, tol: Double,
           fixed: Set<Int> = []) -> ([Double], Int) {
    var x = start
    var (fx, g) = f(x, true)
    var ss: [[Double]] = [], ys: [[Double]] = []
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    var iter = 0
    while iter < maxIter {
        if (g.map(abs).max() ?? 0) <= tol { break }
        iter += 1
        // Two-loop recursion: direction = -H g.
        var q = g
        var alphas: [Double] = []
        for k in stride(from: ss.count - 1, through: 0, by: -1) {
            let a = dot(ss[k], q) / dot(ys[k], ss[k])
            alphas.append(a)
            for i in q.indices { q[i] -= a * ys[k][i] }
        }
        if let s = ss.last, let y = ys.last {
            let gamma = dot(s, y) / dot(y, y)
            for i in q.indices { q[i] *= gamma }
        } else {
            let gn = dot(g, g).squareRoot()
            for i in q.indices { q[i] /= Swift.max(gn, 1) }
        }
        for k in 0..<ss.count {
            let b = dot(ys[k], q) / dot(ys[k], ss[k])
            let a = alphas[ss.count - 1 - k]
            for i in q.indices { q[i] += ss[k][i] * (a - b) }
        }
        var dir = q.map { -$0 }
        var slope = dot(g, dir)
        if slope >= 0 { dir = g.map { -$0 }; slope = dot(g, dir); ss = []; ys = [] }
        var step = 1.0, accepted = false
        var nx = x, nf = fx
        for _ in 0..<60 {
            for i in x.indices { nx[i] = x[i] + step * dir[i] }
            nf = f(nx, false).0
            if nf <= fx + 1e-4 * step * slope { accepted = true; break }
            step *= 0.5
        }
        guard accepted else { break }
        let (_, ng) = f(nx, true)
        let s = zip(nx, x).map { $0 - $1 }, y = zip(ng, g).map { $0 - $1 }
        if dot(s, y) > 1e-12 * dot(y, y) {
            ss.append(s); ys.append(y)
            if ss.count > 10 { ss.removeFirst(); ys.removeFirst() }
        }
        let change = abs(fx - nf)
        x = nx; fx = nf; g = ng
        if change <= 1e-16 * Swift.max(abs(fx), 1) { break }
    }
    return (x, iter)
}

/// FISTA with backtracking and adaptive restart for the objective plus l1/n · ‖W‖₁.
func proximalGradient(_ obj: LogisticObjective, l1: Double, maxIter: Int, tol: Double) -> ([Double], Int) {
    let dc = obj.x.cols * obj.c, thresh = l1 / obj.n
    func prox(_ v: [Double], _ step: Double) -> [Double] {
        var out = v
        let t = thresh * step
        for k in 0..<dc { out[k] = v[k] > t ? v[k] - t : (v[k] < -t ? v[k] + t : 0) }
        return out
    }
    func full(_ th: [Double]) -> Double { obj.value(th, gradient: false).0 + thresh * th[0..<dc].map(abs).reduce(0, +) }
    var x = [Double](repeating: 0, count: obj.size), yv = x, t = 1.0, lip = 1.0
    var iter = 0, prevF = full(x)
    while iter < maxIter {
        iter += 1
        let (fy, gy) = obj.value(yv, gradient: true)
        var nx: [Double] = []
        while true {
            nx = prox(zip(yv, gy).map { $0 - $1 / lip }, 1 / lip)
            let diff = zip(nx, yv).map { $0 - $1 }
            let quad = fy + zip(gy, diff).reduce(0) { $0 + $1.0 * $1.1 } + 0.5 * lip * diff.reduce(0) { $0 + $1 * $1 }
            if obj.value(nx, gradient: false).0 <= quad + 1e-14 * abs(quad) || lip > 1e12 { break }
            lip *= 2
        }
        let nf = full(nx)
        // Momentum that raised the objective: restart from x (a plain proximal step from x
        // never raises it, up to rounding, so that step is always taken).
        if t > 1 && nf > prevF + 1e-14 * Swift.max(1, abs(prevF)) {
            t = 1; yv = x
            continue
        }
        let maxMove = zip(nx, x).map { abs($0 - $1) }.max() ?? 0
        let scale = Swift.max(nx.map(abs).max() ?? 0, 1)
        let nt = (1 + (1 + 4 * t * t).squareRoot()) / 2
        yv = zip(nx, x).map { $0 + (t - 1) / nt * ($0 - $1) }
        x = nx; t = nt; prevF = Swift.min(prevF, nf)
        lip /= 1.5   // let the step grow back
        if maxMove <= tol * scale { break }
    }
    return (x, iter)
}

/// The fitted weights [d, c], intercepts [c] and iterations.
public struct LogisticFit {
    public var coef: Matrix
    public var intercept: [Double]
    public var iterations: Int
    public var classes: [String]
}

public func fitLogistic(_ data: FitData, _ o: LogisticOptions) throws -> LogisticFit {
    let fn = "logistic_regression"
    try data.checkFeatures(fn)
    guard o.l2 >= 0, o.l1 >= 0, o.l2.isFinite, o.l1.isFinite else { throw ClassicalError("\(fn): l1 and l2 must be finite and >= 0") }
    let (codes, names) = try data.classCodes(fn)
    let classes = names.count
    var counts = [Int](repeating: 0, count: classes)
    for k in codes { counts[k] += 1 }
    guard counts.filter({ $0 > 0 }).count >= 2 else { throw ClassicalError("\(fn): the labels hold one class only; need at least two") }
    if let cw = o.classWeights, cw.count != classes { throw ClassicalError("\(fn): \(cw.count) class weights for \(classes) classes") }
    let s = codes.map { o.classWeights?[$0] ?? 1 }
    let c = classes == 2 ? 1 : classes
    let obj = LogisticObjective(x: data.x, codes: codes, s: s, c: c, l2: o.l2, n: Double(data.x.rows))
    let (theta, iters): ([Double], Int)
    if o.l1 > 0 { (theta, iters) = proximalGradient(obj, l1: o.l1, maxIter: o.maxIter * 100, tol: o.tol) }
    else { (theta, iters) = lbfgs({ obj.value($0, gradient: $1) }, start: [Double](repeating: 0, count: obj.size), maxIter: o.maxIter, tol: o.tol) }
    let d = data.x.cols
    return LogisticFit(coef: Matrix(rows: d, cols: c, data: Array(theta[0..<(d * c)])), intercept: Array(theta[(d * c)...]),
                       iterations: iters, classes: names)
}

/// `logistic_regression`: one dense node giving logits (one for two classes, read through
/// a sigmoid like a `binary_cross_entropy` net's; C for more, through a softmax), so
/// evaluate, the server and ONNX read it as they read a trained net's outputs.
public func logisticRegression(_ data: FitData, _ o: LogisticOptions) throws -> Model {
    let fit = try fitLogistic(data, o)
    var m = try denseModel(fit.coef, bias: fit.intercept, name: "logistic")
    m.task = ModelTask(kind: fit.classes.count == 2 ? .binary : .multiclass, classes: fit.classes)
    var info = ClassicalInfo(kind: "logistic_regression", features: data.features)
    info.vectors["coefficients"] = fit.coef.data
    info.vectors["intercept"] = fit.intercept
    info.scalars["iterations"] = Double(fit.iterations)
    info.scalars["l1"] = o.l1; info.scalars["l2"] = o.l2
    let cols = (0..<fit.coef.cols).map { k in (0..<fit.coef.rows).map { fit.coef[$0, k] } }
    let names = fit.coef.cols == 1 ? ["coef (\(fit.classes[1]))"] : fit.classes
    info.summary = "logistic regression (\(fit.classes.count) classes, \(o.l1 > 0 ? "proximal gradient" : "L-BFGS"), \(fit.iterations) iterations) on \(data.x.rows) rows\n"
        + coefficientTable(data.features, cols, names, intercepts: fit.intercept)
    try info.store(in: &m)
    return m
}
