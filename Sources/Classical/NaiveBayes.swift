import Foundation
import Graph
import Tensor
import Train

/// `naive_bayes`: the joint log-likelihood of each class as standard graph ops, so a
/// softmax of the outputs is scikit-learn's predict_proba.
///  - gaussian: log P(c) − ½Σ log 2πσ² − ½Σ (x − μ)²/σ² expanded into
///    dense(x, μ/σ², const) + dense(x², −1/(2σ²)) (variances smoothed by
///    var_smoothing · the largest feature variance, scikit-learn's 1e-9).
///  - multinomial: dense(x, log θ, log P(c)) with θ smoothed by alpha (counts ≥ 0).
public func naiveBayesModel(_ data: FitData, kind: String, alpha: Double = 1, varSmoothing: Double = 1e-9) throws -> Model {
    let fn = "naive_bayes"
    try data.checkFeatures(fn)
    let (codes, names) = try data.classCodes(fn)
    let n = data.x.rows, d = data.x.cols, c = names.count
    var counts = [Double](repeating: 0, count: c)
    for k in codes { counts[k] += 1 }
    let logPrior = counts.map { $0 > 0 ? Foundation.log($0 / Double(n)) : -1e30 }
    var m: Model
    var info = ClassicalInfo(kind: "naive_bayes", features: data.features)
    switch kind {
    case "gaussian":
        var mean = Matrix(zeros: c, d), varc = Matrix(zeros: c, d)
        for i in 0..<n { for j in 0..<d { mean[codes[i], j] += data.x[i, j] } }
        for k in 0..<c { for j in 0..<d { mean[k, j] /= Swift.max(counts[k], 1) } }
        for i in 0..<n { for j in 0..<d { let v = data.x[i, j] - mean[codes[i], j]; varc[codes[i], j] += v * v } }
        let all = data.x.columnMeans()
        var maxVar = 0.0
        for j in 0..<d {
            var s = 0.0
            for i in 0..<n { s += (data.x[i, j] - all[j]) * (data.x[i, j] - all[j]) }
            maxVar = Swift.max(maxVar, s / Double(n))
        }
        let eps = varSmoothing * maxVar
        for k in 0..<c { for j in 0..<d { varc[k, j] = varc[k, j] / Swift.max(counts[k], 1) + eps } }
        var w1 = Matrix(zeros: d, c), w2 = Matrix(zeros: d, c), b = [Double](repeating: 0, count: c)
        for k in 0..<c {
            b[k] = logPrior[k]
            for j in 0..<d {
                let v = Swift.max(varc[k, j], 1e-300)
                w1[j, k] = mean[k, j] / v
                w2[j, k] = -0.5 / v
                b[k] -= 0.5 * Foundation.log(2 * Double.pi * v) + 0.5 * mean[k, j] * mean[k, j] / v
            }
        }
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(d)])
        let x2 = try g.op(.mul, [x, x], [:], label: "nb.square")
        let lin = try g.op(.dense, [x, try g.param("nb.linear.weight", w1.tensor()), try g.param("nb.linear.bias", Tensor(b.map { Float($0) }, shape: [c]))], [:], label: "nb.linear")
        let quad = try g.op(.dense, [x2, try g.param("nb.quadratic.weight", w2.tensor())], [:], label: "nb.quadratic")
        g.outputs = [try g.op(.add, [lin, quad], [:], label: "nb.log_likelihood")]
        try g.verify()
        m = Model(graph: g)
        info.vectors["means"] = mean.data; info.vectors["variances"] = varc.data
    case "multinomial":
        guard alpha >= 0 else { throw ClassicalError("\(fn): alpha must be >= 0") }
        var fc = Matrix(zeros: c, d)
        for i in 0..<n {
            for j in 0..<d {
                let v = data.x[i, j]
                guard v >= 0 else { throw ClassicalError("\(fn): multinomial needs counts >= 0; feature '\(data.features[j])' at row \(i) is \(v)") }
                fc[codes[i], j] += v
            }
        }
        var w = Matrix(zeros: d, c)
        for k in 0..<c {
            let total = (0..<d).reduce(0.0) { $0 + fc[k, $1] } + alpha * Double(d)
            for j in 0..<d { w[j, k] = Foundation.log(Swift.max((fc[k, j] + alpha) / total, 1e-300)) }
        }
        m = try denseModel(w, bias: logPrior, name: "nb")
    default:
        throw ClassicalError("\(fn): kind must be \"gaussian\" or \"multinomial\", got \"\(kind)\"")
    }
    m.task = ModelTask(kind: c == 2 ? .binary : .multiclass, classes: names)
    info.vectors["class_counts"] = counts
    info.summary = "naive Bayes (\(kind), \(c) classes) on \(n) rows\nclass  rows   prior\n"
        + (0..<c).map { pad(names[$0], 5) + "  " + pad(num(counts[$0]), 5) + "  " + num(counts[$0] / Double(n)) }.joined(separator: "\n")
    try info.store(in: &m)
    return m
}
