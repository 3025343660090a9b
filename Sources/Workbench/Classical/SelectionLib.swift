import Classical
import Frames
import Foundation
import Lang
import Registry
import Support
import Tensor
import Train

let neighbourFunctions: [NativeFunction] = [
    NativeFunction("knn", [Param("data"), Param("k", .int, .int(5)), Param("metric", .string, .string("euclidean")),
                           Param("weights", .string, .string("uniform")), Param("classifier", .optional(.bool), .nil)],
                   doc: "k-nearest neighbours (exact): the training rows become the model, whose graph is sq_dist → top_k → knn_vote. A classifier when the labels are classes (text, or integer codes; classifier: false forces a regressor). metric \"euclidean\" or \"cosine\"; weights \"uniform\" or \"distance\".",
                   example: "let d = \(iris); evaluate(knn(d, k: 5), d).accuracy > 0.9", result: "true") { a in
        let data = try fitData(a)
        let m = try classical {
            try knnModel(data, k: try a.count("k", min: 1), metric: try a.string("metric"), weights: try a.string("weights"),
                         classifier: a.isNil("classifier") ? nil : try a.bool("classifier"))
        }
        return try fitted(m, data)
    },
    NativeFunction("kneighbors", [Param("model", .native("model")), Param("x"), Param("k", .optional(.int), .nil)],
                   doc: "The k nearest training rows of each row of x under a kNN model: {indices, distances} (lists of lists, nearest first; Euclidean or cosine distances).",
                   example: "let d = \(iris); kneighbors(knn(d, k: 3), to_tensors(d).x[0:1]).indices[0][0]", result: "0") { a in
        let m = try a.native("model", as: ModelValue.self, "model").model
        let (x, _) = try xy(a["x"], "x", a)
        let r = try classical { try kNeighbors(m, x, k: a.isNil("k") ? nil : try a.count("k", min: 1)) }
        return .record([("indices", .list(r.indices.map { .list($0.map { .int($0) }) })), ("distances", .list(r.distances.map { .doubles($0) }))])
    },
    NativeFunction("naive_bayes", [Param("data"), Param("kind", .string, .string("gaussian")), Param("alpha", .number, .float(1))],
                   doc: "Naive Bayes classifier: kind \"gaussian\" (per-class means and variances) or \"multinomial\" (counts, Laplace smoothing alpha). The graph gives each class's joint log-likelihood (standard dense/mul/add ops), so its softmax is scikit-learn's predict_proba.",
                   example: "let d = \(iris); evaluate(naive_bayes(d), d).accuracy > 0.9", result: "true") { a in
        let data = try fitData(a)
        return try fitted(try classical { try naiveBayesModel(data, kind: try a.string("kind"), alpha: try nonNegative(a, "alpha")) }, data)
    },
    NativeFunction("brier_score", [Param("probabilities"), Param("labels")],
                   doc: "Brier score of binary predictions: the mean squared difference between the positive class's probability and the 0/1 label (scikit-learn's brier_score_loss).",
                   example: "brier_score([0.9, 0.2], [1, 0])", result: "0.025") { a in
        let p = try numbers(a, "probabilities", count: try a.list("labels").count)
        let y = try numbers(a, "labels", count: p.count).map { Int($0) }
        return .float(try brierScore(p, y))
    },
    NativeFunction("adjusted_rand", [Param("a"), Param("b")],
                   doc: "Adjusted Rand index of two labelings of the same rows (scikit-learn's adjusted_rand_score): 1 for the same partition, about 0 for unrelated ones.",
                   example: "adjusted_rand([0, 0, 1, 1], [1, 1, 0, 0])", result: "1.0") { a in
        let x = try intLabels(a, "a"), y = try intLabels(a, "b")
        return .float(try adjustedRandIndex(x, y))
    },
]

/// Labels given as a list of integers or strings, or a tensor (k-means predictions).
func intLabels(_ a: Args, _ name: String) throws -> [Int] {
    if case .native(let t as TensorValue) = a[name] { return t.t.toDoubles().map { Int($0) } }
    var ids: [String: Int] = [:]
    return try a.list(name).map { v in
        switch v {
        case .int(let i): return i
        case .string(let s): if let i = ids[s] { return i }; ids[s] = ids.count + 1_000_000_000; return ids[s]!
        default: throw a.invalid(name, "must be integers or strings, found \(v.typeName)")
        }
    }
}

// MARK: - Model selection

/// Row indices of each fold: a seeded shuffle, dealt round-robin (per class when stratified,
/// so every fold keeps the class proportions).
func foldIndices(rows n: Int, labels: [Double]?, folds k: Int, stratify: Bool, seed: UInt64) -> [[Int]] {
    var rng = SplitMix64(seed: seed)
    func shuffled(_ xs: [Int]) -> [Int] {
        var v = xs
        if v.count > 1 { for i in stride(from: v.count - 1, to: 0, by: -1) { v.swapAt(i, Int(rng.next() % UInt64(i + 1))) } }
        return v
    }
    var out = [[Int]](repeating: [], count: k)
    if stratify, let labels {
        var byClass: [Double: [Int]] = [:]
        for (i, y) in labels.enumerated() { byClass[y, default: []].append(i) }
        var next = 0
        for key in byClass.keys.sorted() {
            for i in shuffled(byClass[key]!) { out[next % k].append(i); next += 1 }
        }
    } else {
        for (j, i) in shuffled(Array(0..<n)).enumerated() { out[j % k].append(i) }
    }
    return out.map { $0.sorted() }
}

/// Metrics where smaller is better (a search minimizes them).
let lowerIsBetter: Set<String> = ["mae", "rmse", "mape", "mse", "log_loss", "brier"]

/// Fits `fit` on each training part and evaluates on the held-out fold; returns the
/// per-fold values of each metric.
func crossValidate(_ a: Args, fit: Value, data: Frames.Dataset, folds k: Int, stratify: Bool, seed: UInt64,
                   metrics wanted: [String]?, named: [(String, Value)]) throws -> [(String, [Double])] {
    guard data.rowCount >= k else { throw a.invalid("folds", "\(k) folds need at least \(k) rows, the data has \(data.rowCount)") }
    let labels = try data.featureColumns().labels.map { $0.map(Double.init) }
    let parts = foldIndices(rows: data.rowCount, labels: stratify ? labels : nil, folds: k, stratify: stratify && labels != nil, seed: seed)
    var names = wanted
    var values: [String: [Double]] = [:]
    for f in 0..<k {
        let held = Set(parts[f])
        let train = data.gather((0..<data.rowCount).filter { !held.contains($0) }), test = data.gather(parts[f])
        var fittedValue = try a.call(fit, [.native(DatasetValue(train))], named: named)
        if case .native(let r as RunValue) = fittedValue { fittedValue = .native(r.model) }
        guard case .native(let m as ModelValue) = fittedValue else {
            throw a.invalid("fit", "must return a model (or a training run), returned \(fittedValue.typeName)")
        }
        let d = try labelledData(.native(DatasetValue(test)), "data", a)
        guard let y = try labelsForEvaluation(d, m.model) else { throw a.invalid("data", "has no labels to evaluate against") }
        let e = try m.compiled().evaluate(x: d.x, y: y, task: m.model.task)
        var scalars: [String: Double] = [:]
        for (key, v) in e.scalars where scalars[key] == nil { scalars[key] = v }
        if let b = e.brier { scalars["brier"] = b }
        if names == nil { names = e.isClassification ? ["accuracy"] : ["r2", "rmse"] }
        for name in names! {
            guard let v = scalars[name] else {
                throw a.invalid("metrics", "'\(name)' is not a metric of this model's evaluation (it has \(scalars.keys.sorted().joined(separator: ", ")))")
            }
            values[name, default: []].append(v)
        }
    }
    return names!.map { ($0, values[$0] ?? []) }
}

func summaryRecord(_ xs: [Double]) -> Value {
    let mean = xs.reduce(0, +) / Double(max(xs.count, 1))
    let std = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(xs.count, 1))).squareRoot()
    return .record([("mean", .float(mean)), ("std", .float(std)), ("folds", .doubles(xs))])
}

/// Records a search trial as a child run of the script's run (when `mlw run` records one).
func recordTrial(_ a: Args, params: [(String, Value)], metric: String, mean: Double) {
    let session = a.interpreter.registrySession
    guard let parent = session.runID, !session.recordingDisabled, let reg = try? session.registry() else { return }
    guard let id = try? reg.startRun(script: "<search trial>", scriptHash: SHA256.hex(Data()), params: RunParams.paramValues(params),
                                     host: RunRecorder.hostName(), mlwVersion: Workbench.version, parentRun: parent) else { return }
    _ = try? reg.logMetric(run: id, key: metric, value: mean)
    try? reg.finishRun(id, status: .finished)
}

/// Runs every parameter set through cross-validation, then refits the best on all the data.
func search(_ a: Args, candidates: [[(String, Value)]]) throws -> Value {
    let fit = a["fit"], data = try ds(a)
    let metric = try a.string("metric"), k = try a.count("folds", min: 2, max: 1000), seed = try seedArg(a)
    let stratify = try a.bool("stratify")
    var results: [Value] = [], best: (score: Double, params: [(String, Value)])?
    for params in candidates {
        let cv = try crossValidate(a, fit: fit, data: data, folds: k, stratify: stratify, seed: seed, metrics: [metric], named: params)
        let xs = cv[0].1, mean = xs.reduce(0, +) / Double(xs.count)
        recordTrial(a, params: params, metric: metric, mean: mean)
        results.append(.record([("params", .record(params)), (metric, summaryRecord(xs))]))
        let better = lowerIsBetter.contains(metric) ? mean < (best?.score ?? .infinity) : mean > (best?.score ?? -.infinity)
        if best == nil || better { best = (mean, params) }
    }
    let model = try a.call(fit, [.native(DatasetValue(data))], named: best!.params)
    return .record([("best_params", .record(best!.params)), ("best_score", .float(best!.score)), ("best_model", model), ("results", .list(results))])
}

let selectionFunctions: [NativeFunction] = [
    NativeFunction("cross_validate", [Param("fit", .function), Param("data", .native("dataset")), Param("folds", .int, .int(5)),
                                      Param("stratify", .bool, .bool(true)), Param("seed", .int, .int(0)), Param("metrics", .optional(.list), .nil)],
                   doc: "k-fold cross-validation of any function from a dataset to a model (or training run): a record with one field per metric, each {mean, std, folds}. Folds are a seeded shuffle, stratified by the label when it has classes. Default metrics: accuracy (classification) or r2 and rmse (regression).",
                   example: "cross_validate(naive_bayes, \(iris), folds: 3).accuracy.mean > 0.9", result: "true") { a in
        let data = try ds(a)
        let metrics = a.isNil("metrics") ? nil : try stringList(a, "metrics")
        let cv = try crossValidate(a, fit: a["fit"], data: data, folds: try a.count("folds", min: 2, max: 1000), stratify: try a.bool("stratify"),
                                   seed: try seedArg(a), metrics: metrics, named: [])
        return .record(cv.map { ($0.0, summaryRecord($0.1)) })
    },
    NativeFunction("grid_search", [Param("fit", .function), Param("data", .native("dataset")), Param("grid", .record), Param("folds", .int, .int(5)),
                                   Param("metric", .string, .string("accuracy")), Param("stratify", .bool, .bool(true)), Param("seed", .int, .int(0))],
                   doc: "Every combination of the grid's values ({l2: [0.1, 1], ...}, passed to fit as named arguments) cross-validated on `metric`; returns {best_params, best_score, best_model (refitted on all the data), results}. Under `mlw run` every trial is a child run in the registry (mlw registry runs --parent RUN).",
                   example: "grid_search(logistic_regression, \(iris), grid: {l2: [0.1, 1.0]}, folds: 3).best_score > 0.9", result: "true") { a in
        var combos: [[(String, Value)]] = [[]]
        for (name, v) in try a.record("grid").pairs {
            guard case .list(let options) = v, !options.isEmpty else { throw a.invalid("grid", "'\(name)' must be a non-empty list of values") }
            combos = combos.flatMap { c in options.map { c + [(name, $0)] } }
            guard combos.count <= 10_000 else { throw a.invalid("grid", "has more than 10000 combinations") }
        }
        return try search(a, candidates: combos)
    },
    NativeFunction("random_search", [Param("fit", .function), Param("data", .native("dataset")), Param("space", .record), Param("trials", .int, .int(20)),
                                     Param("folds", .int, .int(5)), Param("metric", .string, .string("accuracy")), Param("stratify", .bool, .bool(true)),
                                     Param("seed", .int, .int(0))],
                   doc: "Like grid_search over `trials` seeded draws: each field of space is a list (one value picked) or {min, max, log: bool} (a number drawn uniformly, or log-uniformly).",
                   example: "random_search(logistic_regression, \(iris), space: {l2: {min: 0.01, max: 10, log: true}}, trials: 2, folds: 3).best_score > 0.9", result: "true") { a in
        var rng = SplitMix64(seed: try seedArg(a))
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        let space = try a.record("space").pairs
        var candidates: [[(String, Value)]] = []
        for _ in 0..<(try a.count("trials", min: 1, max: 10_000)) {
            var c: [(String, Value)] = []
            for (name, v) in space {
                switch v {
                case .list(let options) where !options.isEmpty: c.append((name, options[Int(rng.next() % UInt64(options.count))]))
                case .record(let r):
                    guard let lo = r["min"]?.asDouble, let hi = r["max"]?.asDouble, lo <= hi else { throw a.invalid("space", "'\(name)' needs numbers min <= max") }
                    if case .bool(true)? = r["log"] {
                        guard lo > 0 else { throw a.invalid("space", "'\(name)' with log: true needs min > 0") }
                        c.append((name, .float(Foundation.exp(Foundation.log(lo) + uniform() * (Foundation.log(hi) - Foundation.log(lo))))))
                    } else { c.append((name, .float(lo + uniform() * (hi - lo)))) }
                default: throw a.invalid("space", "'\(name)' must be a non-empty list or {min, max, log}")
                }
            }
            candidates.append(c)
        }
        return try search(a, candidates: candidates)
    },
]
