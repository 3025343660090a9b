import Graph
import Tensor

/// Classification or regression metrics, with a printable report.
public struct Evaluation: CustomStringConvertible, Equatable {
    public var accuracy: Double = 0
    public var top3: Double?
    public var precision: [Double] = [], recall: [Double] = [], f1: [Double] = []
    public var macroPrecision = 0.0, macroRecall = 0.0, macroF1 = 0.0
    public var confusion: [[Int]] = []
    public var logLoss: Double?
    public var rocAUC: Double?
    public var mse: Double?, mae: Double?, r2: Double?

    public var description: String {
        if let mse, let mae, let r2 { return "mse \(fmt(mse))  mae \(fmt(mae))  r2 \(fmt(r2))" }
        var s = "accuracy \(fmt(accuracy))"
        if let t = top3 { s += "  top3 \(fmt(t))" }
        if let l = logLoss { s += "  log_loss \(fmt(l))" }
        if let a = rocAUC { s += "  roc_auc \(fmt(a))" }
        s += "\nmacro precision \(fmt(macroPrecision))  recall \(fmt(macroRecall))  f1 \(fmt(macroF1))\nclass  precision  recall  f1\n"
        for c in precision.indices { s += "\(c)  \(fmt(precision[c]))  \(fmt(recall[c]))  \(fmt(f1[c]))\n" }
        s += "confusion (rows: true, columns: predicted)\n" + confusion.map { $0.map(String.init).joined(separator: " ") }.joined(separator: "\n")
        return s
    }
}

/// Top-k accuracy from scores [N, C].
public func topK(_ scores: [[Double]], _ labels: [Int], k: Int) -> Double {
    var hit = 0
    for (row, y) in zip(scores, labels) {
        let better = row.enumerated().filter { $0.element > row[y] || ($0.element == row[y] && $0.offset < y) }.count
        if better < k { hit += 1 }
    }
    return Double(hit) / Double(max(labels.count, 1))
}

/// ROC AUC for binary labels (0/1) and scores: the probability a positive outranks a negative (ties half).
public func rocAUC(_ scores: [Double], _ labels: [Int]) -> Double? {
    let pos = zip(scores, labels).filter { $0.1 == 1 }.map(\.0), neg = zip(scores, labels).filter { $0.1 != 1 }.map(\.0)
    guard !pos.isEmpty, !neg.isEmpty else { return nil }
    // Rank-sum (Mann-Whitney) with average ranks for ties.
    let all = (pos.map { ($0, 1) } + neg.map { ($0, 0) }).sorted { $0.0 < $1.0 }
    var rankSum = 0.0, i = 0
    while i < all.count {
        var j = i
        while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
        let avg = Double(i + j) / 2 + 1
        for k in i...j where all[k].1 == 1 { rankSum += avg }
        i = j + 1
    }
    let np = Double(pos.count), nn = Double(neg.count)
    return (rankSum - np * (np + 1) / 2) / (np * nn)
}

/// Classification metrics from class scores (logits or probabilities) [N, C] and labels.
public func classificationMetrics(scores: Tensor, labels: [Int]) throws -> Evaluation {
    let n = scores.shape[0], c = scores.shape[1]
    let probs = try scores.astype(.float64).softmax(axis: -1).toDoubles()
    let rows = (0..<n).map { Array(probs[($0 * c)..<(($0 + 1) * c)]) }
    var e = Evaluation()
    e.confusion = Array(repeating: Array(repeating: 0, count: c), count: c)
    var ll = 0.0
    for (row, y) in zip(rows, labels) {
        let p = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
        e.confusion[y][p] += 1
        ll -= Swift.max(row[y], 1e-15).logValue
    }
    e.accuracy = Double((0..<c).map { e.confusion[$0][$0] }.reduce(0, +)) / Double(max(n, 1))
    e.logLoss = ll / Double(max(n, 1))
    if c > 3 { e.top3 = topK(rows, labels, k: 3) }
    for k in 0..<c {
        let tp = Double(e.confusion[k][k]), predicted = Double((0..<c).map { e.confusion[$0][k] }.reduce(0, +))
        let actual = Double(e.confusion[k].reduce(0, +))
        let p = predicted > 0 ? tp / predicted : 0, r = actual > 0 ? tp / actual : 0
        e.precision.append(p); e.recall.append(r); e.f1.append(p + r > 0 ? 2 * p * r / (p + r) : 0)
    }
    e.macroPrecision = e.precision.reduce(0, +) / Double(c)
    e.macroRecall = e.recall.reduce(0, +) / Double(c)
    e.macroF1 = e.f1.reduce(0, +) / Double(c)
    if c == 2 { e.rocAUC = rocAUC(rows.map { $0[1] }, labels) }
    return e
}

/// Regression metrics.
public func regressionMetrics(predictions: [Double], targets: [Double]) -> Evaluation {
    var e = Evaluation()
    let n = Double(max(targets.count, 1))
    let mean = targets.reduce(0, +) / n
    var se = 0.0, ae = 0.0, tot = 0.0
    for (p, t) in zip(predictions, targets) { se += (p - t) * (p - t); ae += Swift.abs(p - t); tot += (t - mean) * (t - mean) }
    e.mse = se / n; e.mae = ae / n; e.r2 = tot > 0 ? 1 - se / tot : 0
    return e
}

/// Metrics of a model's outputs against labels: classification when the output has > 1
/// column and labels are class indices, regression otherwise. `evaluate(model, x:, y:)`
/// (module Optimize) runs the model's compiled form and calls this on its outputs.
public func metrics(outputs out: Tensor, labels y: Tensor) throws -> Evaluation {
    guard out.shape.first == y.shape.first else { throw TrainError("evaluate: \(out.shape.first ?? 0) predictions for \(y.shape.first ?? 0) labels") }
    if out.rank == 2 && out.shape[1] > 1 {
        let labels = y.toDoubles().map { Int($0) }
        for l in labels where l < 0 || l >= out.shape[1] { throw TrainError("evaluate: label \(l) out of range for \(out.shape[1]) classes") }
        return try classificationMetrics(scores: out, labels: labels)
    }
    return regressionMetrics(predictions: out.toDoubles(), targets: y.toDoubles())
}

extension Double { var logValue: Double { _log(self) } }
#if canImport(Glibc)
import Glibc
func _log(_ x: Double) -> Double { Glibc.log(x) }
#endif
