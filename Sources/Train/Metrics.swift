import CKernels
import Foundation
import Graph
import Tensor

/// One class's row of a classification report.
public struct ClassMetrics: Equatable, Sendable {
    public var name: String
    public var precision: Double, recall: Double, f1: Double
    /// True examples of the class.
    public var support: Int
}

/// The metrics of a task (see `ModelTask`): classification fields for binary and
/// multiclass models, regression fields for regression models. Field names follow
/// scikit-learn's metric names; the MLW value lists the task's fields in `keys()`.
public struct Evaluation: CustomStringConvertible, Equatable, Sendable {
    public var task: TaskKind
    public var rows: Int = 0

    // Classification.
    /// Class names, code i is classes[i] (codes as text when the data had none).
    public var classes: [String] = []
    public var accuracy = 0.0, balancedAccuracy = 0.0
    /// Macro averages over the classes present in the labels or the predictions (scikit-learn's rule).
    public var precision = 0.0, recall = 0.0, f1 = 0.0
    public var f1Micro = 0.0, f1Weighted = 0.0
    public var perClass: [ClassMetrics] = []
    /// Rows: true class, columns: predicted class.
    public var confusion: [[Int]] = []
    public var logLoss: Double?
    /// Brier score as scikit-learn's `brier_score_loss`: binary, mean (p₁ − y)²; multiclass,
    /// mean Σₖ (pₖ − [y = k])².
    public var brier: Double?
    /// Binary: of the positive class's score. Multiclass: one-vs-rest, macro average.
    public var rocAUC: Double?
    /// Average precision (scikit-learn's `average_precision_score`); one-vs-rest macro for multiclass.
    public var prAUC: Double?
    public var top3: Double?
    /// Binary: the decision threshold on the positive class's probability that made the predictions.
    public var threshold: Double?
    /// Binary: each row's positive-class probability and true label, kept so a threshold
    /// can be chosen from them (`chooseThreshold`).
    public var scores: [Double]?, labels: [Int]?

    // Regression (averaged over output columns, as scikit-learn's "uniform_average").
    public var mae: Double?, rmse: Double?, r2: Double?, mape: Double?, mse: Double?

    public init(task: TaskKind) { self.task = task }

    public var isClassification: Bool { task != .regression }

    /// Scalar fields by their MLW names, in report order (what `log_metric(evaluation)` logs).
    public var scalars: [(String, Double)] {
        if !isClassification {
            return [("mae", mae), ("rmse", rmse), ("r2", r2), ("mape", mape)].compactMap { k, v in v.map { (k, $0) } }
        }
        var out: [(String, Double)] = [("accuracy", accuracy), ("balanced_accuracy", balancedAccuracy), ("precision", precision),
                                       ("recall", recall), ("f1", f1), ("f1_micro", f1Micro), ("f1_weighted", f1Weighted)]
        for (k, v) in [("roc_auc", rocAUC), ("pr_auc", prAUC), ("log_loss", logLoss), ("top3", top3), ("threshold", threshold)] {
            if let v { out.append((k, v)) }
        }
        return out
    }

    public var description: String {
        if !isClassification {
            return scalars.map { "\($0.0) \(fmt($0.1))" }.joined(separator: "  ")
        }
        var s = task.rawValue + "  " + scalars.filter { !["precision", "recall", "f1", "f1_micro", "f1_weighted"].contains($0.0) }
            .map { "\($0.0) \(fmt($0.1))" }.joined(separator: "  ")
        s += "\nmacro precision \(fmt(precision))  recall \(fmt(recall))  f1 \(fmt(f1))  (f1 micro \(fmt(f1Micro)), weighted \(fmt(f1Weighted)))\n"
        let w = max(5, perClass.map(\.name.count).max() ?? 0)
        func pad(_ t: String, _ n: Int) -> String { t + String(repeating: " ", count: max(0, n - t.count)) }
        s += pad("class", w) + "  precision  recall  f1      support\n"
        for c in perClass {
            s += pad(c.name, w) + "  " + pad(fmt(c.precision), 9) + "  " + pad(fmt(c.recall), 6) + "  " + pad(fmt(c.f1), 6) + "  \(c.support)\n"
        }
        s += "confusion (rows: true, columns: predicted)\n"
        // Columns as wide as their class name or largest count, numbers right-aligned.
        let widths = classes.indices.map { j in max(classes[j].count, confusion.map { String($0[j]).count }.max() ?? 1) }
        func right(_ t: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - t.count)) + t }
        s += String(repeating: " ", count: w) + "  " + classes.indices.map { right(classes[$0], widths[$0]) }.joined(separator: "  ") + "\n"
        s += zip(classes, confusion).map { name, row in
            pad(name, w) + "  " + row.indices.map { right(String(row[$0]), widths[$0]) }.joined(separator: "  ")
        }.joined(separator: "\n")
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

/// Average precision (area under the precision-recall curve as scikit-learn's
/// `average_precision_score` sums it: Σ (Rₙ − Rₙ₋₁) Pₙ over score thresholds, ties together).
/// Nil without positives.
public func averagePrecision(_ scores: [Double], _ labels: [Int]) -> Double? {
    let positives = labels.filter { $0 == 1 }.count
    guard positives > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var tp = 0, fp = 0, ap = 0.0, lastRecall = 0.0, i = 0
    while i < order.count {
        var j = i
        while j < order.count && scores[order[j]] == scores[order[i]] {
            if labels[order[j]] == 1 { tp += 1 } else { fp += 1 }
            j += 1
        }
        let recall = Double(tp) / Double(positives), precision = Double(tp) / Double(tp + fp)
        ap += (recall - lastRecall) * precision
        lastRecall = recall
        i = j
    }
    return ap
}

/// Classification metrics from class probabilities (rows of `probs`, each summing to 1),
/// the predicted class of each row and the true labels.
public func classificationMetrics(probs rows: [[Double]], predicted: [Int], labels: [Int], classes: [String],
                                  task: TaskKind) -> Evaluation {
    let n = labels.count, c = classes.count
    var e = Evaluation(task: task)
    e.rows = n; e.classes = classes
    e.confusion = Array(repeating: Array(repeating: 0, count: c), count: c)
    var ll = 0.0, brier = 0.0
    for ((row, y), p) in zip(zip(rows, labels), predicted) {
        e.confusion[y][p] += 1
        ll -= Foundation.log(Swift.max(row[y], 1e-15))
        if c == 2 { brier += (row[1] - Double(y)) * (row[1] - Double(y)) }
        else { for k in 0..<Swift.min(c, row.count) { let t = row[k] - (k == y ? 1 : 0); brier += t * t } }
    }
    e.brier = brier / Double(max(n, 1))
    let correct = (0..<c).map { e.confusion[$0][$0] }.reduce(0, +)
    e.accuracy = Double(correct) / Double(max(n, 1))
    e.f1Micro = e.accuracy
    e.logLoss = ll / Double(max(n, 1))
    if c > 3 { e.top3 = topK(rows, labels, k: 3) }
    var present: [Int] = [], recalls: [Double] = []
    for k in 0..<c {
        let tp = e.confusion[k][k], predictedK = (0..<c).map { e.confusion[$0][k] }.reduce(0, +)
        let actual = e.confusion[k].reduce(0, +)
        let p = predictedK > 0 ? Double(tp) / Double(predictedK) : 0, r = actual > 0 ? Double(tp) / Double(actual) : 0
        e.perClass.append(ClassMetrics(name: classes[k], precision: p, recall: r, f1: p + r > 0 ? 2 * p * r / (p + r) : 0, support: actual))
        if actual > 0 || predictedK > 0 { present.append(k) }
        if actual > 0 { recalls.append(r) }
    }
    func macro(_ f: (ClassMetrics) -> Double) -> Double { present.isEmpty ? 0 : present.map { f(e.perClass[$0]) }.reduce(0, +) / Double(present.count) }
    e.precision = macro(\.precision); e.recall = macro(\.recall); e.f1 = macro(\.f1)
    e.balancedAccuracy = recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
    e.f1Weighted = e.perClass.map { $0.f1 * Double($0.support) }.reduce(0, +) / Double(max(n, 1))
    if c == 2 {
        let scores = rows.map { $0[1] }
        e.rocAUC = rocAUC(scores, labels); e.prAUC = averagePrecision(scores, labels)
        e.scores = scores; e.labels = labels
    } else {
        // One-vs-rest, macro over the classes that have both positives and negatives.
        var aucs: [Double] = [], aps: [Double] = []
        for k in 0..<c {
            let s = rows.map { $0[k] }, l = labels.map { $0 == k ? 1 : 0 }
            if let a = rocAUC(s, l) { aucs.append(a) }
            if let p = averagePrecision(s, l) { aps.append(p) }
        }
        if !aucs.isEmpty { e.rocAUC = aucs.reduce(0, +) / Double(aucs.count) }
        if !aps.isEmpty { e.prAUC = aps.reduce(0, +) / Double(aps.count) }
    }
    return e
}

/// Classification metrics from class scores (logits) [N, C] and labels: softmax
/// probabilities, arg-max predictions (kept for callers with raw scores).
public func classificationMetrics(scores: Tensor, labels: [Int], classes: [String]? = nil) throws -> Evaluation {
    let task = ModelTask(kind: scores.shape[1] == 2 ? .binary : .multiclass, classes: classes)
    return try classificationMetrics(outputs: scores, labels: labels, task: task)
}

/// Regression metrics of predictions against targets, both [N, k] row-major with `columns` k
/// (each metric averaged over the columns; MAPE as a fraction, as scikit-learn's).
public func regressionMetrics(predictions: [Double], targets: [Double], columns: Int = 1) -> Evaluation {
    var e = Evaluation(task: .regression)
    let k = max(columns, 1), n = targets.count / k
    e.rows = n
    var mae = 0.0, rmse = 0.0, r2 = 0.0, mape = 0.0, mse = 0.0
    for j in 0..<k {
        var mean = 0.0
        for i in 0..<n { mean += targets[i * k + j] }
        mean /= Double(max(n, 1))
        var se = 0.0, ae = 0.0, tot = 0.0, pe = 0.0
        for i in 0..<n {
            let p = predictions[i * k + j], t = targets[i * k + j]
            se += (p - t) * (p - t); ae += Swift.abs(p - t); tot += (t - mean) * (t - mean)
            pe += Swift.abs(p - t) / Swift.max(Swift.abs(t), Double.ulpOfOne)
        }
        let d = Double(max(n, 1))
        mse += se / d; mae += ae / d; rmse += (se / d).squareRoot(); mape += pe / d
        // A constant target column: 1 when predicted exactly, else 0 (scikit-learn's convention).
        r2 += tot > 0 ? 1 - se / tot : (se == 0 ? 1 : 0)
    }
    let kk = Double(k)
    e.mae = mae / kk; e.rmse = rmse / kk; e.r2 = r2 / kk; e.mape = mape / kk; e.mse = mse / kk
    return e
}

/// Metrics of a model's raw outputs against labels for `task`:
/// regression compares outputs in the label's units (after the target transform's
/// inverse) with the labels; binary takes one logit (sigmoid) or two (softmax) and
/// predicts the positive class at the task's threshold; multiclass takes C logits.
/// Without a task: classification when the output has more than one column, regression otherwise.
public func metrics(outputs out: Tensor, labels y: Tensor, task: ModelTask? = nil) throws -> Evaluation {
    guard out.shape.first == y.shape.first else { throw TrainError("evaluate: \(out.shape.first ?? 0) predictions for \(y.shape.first ?? 0) labels") }
    let width = out.rank == 2 ? out.shape[1] : 1
    let t = task ?? ModelTask(kind: width > 1 ? (width == 2 ? .binary : .multiclass) : .regression)
    if t.kind == .regression {
        let pred = try t.labelUnits(out)
        guard y.count == out.count else {
            throw TrainError("evaluate: outputs \(out.shape) and labels \(y.shape) differ (a regression model's labels must match its outputs)")
        }
        return regressionMetrics(predictions: pred.toDoubles(), targets: y.toDoubles(), columns: width)
    }
    let labels = try classLabels(y, classes: max(width, 2))
    return try classificationMetrics(outputs: out, labels: labels, task: t)
}

/// Integer class labels from a label tensor [N] or [N, 1]; errors name the row.
func classLabels(_ y: Tensor, classes c: Int) throws -> [Int] {
    guard y.rank == 1 || (y.rank == 2 && y.shape[1] == 1) else {
        throw TrainError("evaluate: class labels must be [N], got \(y.shape)")
    }
    return try y.toDoubles().enumerated().map { i, v in
        guard v >= 0, v < Double(c), v == v.rounded() else { throw TrainError("evaluate: label \(v) at row \(i) is not a class index in 0..<\(c)") }
        return Int(v)
    }
}

/// Classification metrics of raw outputs (one logit or C logits) for a binary or multiclass task.
func classificationMetrics(outputs out: Tensor, labels: [Int], task t: ModelTask) throws -> Evaluation {
    let n = out.shape[0], width = out.rank == 2 ? out.shape[1] : 1
    let raw = try out.astype(.float64).toDoubles()
    var rows: [[Double]] = [], predicted: [Int] = []
    rows.reserveCapacity(n); predicted.reserveCapacity(n)
    for i in 0..<n {
        guard case .probabilities(let p, let choice) = t.answer(Array(raw[(i * width)..<((i + 1) * width)])) else { continue }
        rows.append(p); predicted.append(choice)
    }
    let c = rows.first?.count ?? max(width, 2)
    let names = (0..<c).map { t.className($0) }
    var e = classificationMetrics(probs: rows, predicted: predicted, labels: labels, classes: names, task: t.kind)
    if c == 2 { e.threshold = t.threshold ?? 0.5 }
    return e
}

// MARK: - Brier score, adjusted Rand index, silhouette (checked against sklearn.metrics).

/// Brier score of binary predictions: mean (pᵢ − yᵢ)² of the positive class's probability
/// (scikit-learn's `brier_score_loss`). Labels 0/1.
public func brierScore(_ probs: [Double], _ labels: [Int]) throws -> Double {
    guard probs.count == labels.count, !probs.isEmpty else { throw TrainError("brier_score: \(probs.count) probabilities for \(labels.count) labels") }
    var s = 0.0
    for (i, (p, y)) in zip(probs, labels).enumerated() {
        guard y == 0 || y == 1 else { throw TrainError("brier_score: label \(y) at row \(i) is not 0 or 1") }
        guard p >= 0, p <= 1 else { throw TrainError("brier_score: probability \(p) at row \(i) is not in [0, 1]") }
        s += (p - Double(y)) * (p - Double(y))
    }
    return s / Double(probs.count)
}

/// Adjusted Rand index of two labelings of the same rows (scikit-learn's
/// `adjusted_rand_score`): 1 for identical partitions, about 0 for random ones.
public func adjustedRandIndex(_ a: [Int], _ b: [Int]) throws -> Double {
    guard a.count == b.count else { throw TrainError("adjusted_rand: \(a.count) labels against \(b.count)") }
    let n = a.count
    // scikit-learn's pair confusion matrix and formula, in float64.
    var table: [Int: [Int: Int]] = [:], rowSums: [Int: Int] = [:], colSums: [Int: Int] = [:]
    for (x, y) in zip(a, b) { table[x, default: [:]][y, default: 0] += 1; rowSums[x, default: 0] += 1; colSums[y, default: 0] += 1 }
    let sumSquares = table.values.flatMap(\.values).map { Double($0) * Double($0) }.reduce(0, +)
    let nn = Double(n)
    let c11 = sumSquares - nn
    let c01 = colSums.values.map { Double($0) * Double($0) }.reduce(0, +) - sumSquares
    let c10 = rowSums.values.map { Double($0) * Double($0) }.reduce(0, +) - sumSquares
    let c00 = nn * nn - c01 - c10 - sumSquares
    if c10 == 0 && c01 == 0 { return 1 }
    return 2 * (c11 * c00 - c10 * c01) / ((c11 + c10) * (c10 + c00) + (c11 + c01) * (c01 + c00))
}

/// Mean silhouette coefficient (Euclidean) of x [rows, cols] row-major under `labels`
/// (scikit-learn's `silhouette_score`): per row (b − a) / max(a, b) with a the mean distance
/// to its own cluster's other rows, b the smallest mean distance to another cluster; 0 for
/// a row alone in its cluster. Distances of a block of rows at a time (one product each).
public func silhouetteScore(_ x: [Double], rows n: Int, cols d: Int, labels: [Int]) throws -> Double {
    guard labels.count == n else { throw TrainError("silhouette: \(labels.count) labels for \(n) rows") }
    var ids: [Int: Int] = [:]
    let codes = labels.map { l -> Int in if let c = ids[l] { return c }; ids[l] = ids.count; return ids.count - 1 }
    let k = ids.count
    guard k >= 2, k <= n - 1 else { throw TrainError("silhouette: needs 2 to rows - 1 clusters, got \(k) for \(n) rows") }
    var sizes = [Int](repeating: 0, count: k)
    for c in codes { sizes[c] += 1 }
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<n { for j in 0..<d { norms[i] += x[i * d + j] * x[i * d + j] } }
    var xt = [Double](repeating: 0, count: d * n)
    for i in 0..<n { for j in 0..<d { xt[j * n + i] = x[i * d + j] } }
    let block = 256
    var total = 0.0
    var prod = [Double](repeating: 0, count: block * n)
    for start in stride(from: 0, to: n, by: block) {
        let rows = Swift.min(block, n - start)
        x.withUnsafeBufferPointer { xp in
            xt.withUnsafeBufferPointer { tp in
                prod.withUnsafeMutableBufferPointer { pp in mlw_matmul_f64(xp.baseAddress! + start * d, rows, d, tp.baseAddress, n, nil, pp.baseAddress) }
            }
        }
        for r in 0..<rows {
            let i = start + r
            guard sizes[codes[i]] > 1 else { continue }
            var sums = [Double](repeating: 0, count: k)
            for j in 0..<n where j != i {
                sums[codes[j]] += Swift.max(0, norms[i] - 2 * prod[r * n + j] + norms[j]).squareRoot()
            }
            let a = sums[codes[i]] / Double(sizes[codes[i]] - 1)
            var b = Double.infinity
            for c in 0..<k where c != codes[i] { b = Swift.min(b, sums[c] / Double(sizes[c])) }
            let m = Swift.max(a, b)
            total += m > 0 ? (b - a) / m : 0
        }
    }
    return total / Double(n)
}
