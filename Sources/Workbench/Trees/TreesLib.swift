import Foundation
import Lang
import Optimize
import Tensor
import Train
import Trees

/// The tree family: gradient boosting, isolation forests, and what a fitted ensemble can
/// tell about itself. Every fitted model is a `tree_ensemble` graph, so predict, evaluate,
/// save, register and serve treat it like any model.
let treesLibrary = Library("trees", doc: "Tree ensembles: gradient_boosting, random_forest, decision_tree, isolation_forest; score, explain_trees, feature_importance, contributions, rules.",
                           treeFitFunctions + forestFunctions + treeInspectFunctions)

/// The iris data the examples use.
let irisCSV = "read_csv(\"Scripts/data/iris.csv\", label: \"species\")"


func fraction(_ a: Args, _ name: String) throws -> Double {
    let v = try a.finite(name)
    guard v > 0, v <= 1 else { throw a.invalid(name, "must be in (0, 1], got \(v)") }
    return v
}

func growParams(_ a: Args) throws -> GrowParams {
    var p = GrowParams()
    p.maxLeaves = try a.count("max_leaves", min: 2, max: 1 << 17)
    p.maxDepth = try a.int("max_depth")
    guard p.maxDepth <= 1000 else { throw a.invalid("max_depth", "\(p.maxDepth) is more than the limit of 1000") }
    p.minChildSamples = try a.count("min_child_samples", min: 1)
    p.l2 = try a.finite("l2"); p.l1 = try a.finite("l1"); p.minSplitGain = try a.finite("min_split_gain")
    guard p.l2 >= 0 else { throw a.invalid("l2", "must be >= 0, got \(p.l2)") }
    guard p.l1 >= 0 else { throw a.invalid("l1", "must be >= 0, got \(p.l1)") }
    guard p.minSplitGain >= 0 else { throw a.invalid("min_split_gain", "must be >= 0, got \(p.minSplitGain)") }
    return p
}

let treeFitFunctions: [NativeFunction] = [
    NativeFunction("gradient_boosting", [
        Param("data"), Param("task", .string, .string("auto")), Param("trees", .int, .int(100)), Param("learning_rate", .number, .float(0.1)),
        Param("max_leaves", .int, .int(31)), Param("max_depth", .int, .int(-1)), Param("min_child_samples", .int, .int(20)),
        Param("l2", .number, .float(0)), Param("l1", .number, .float(0)), Param("min_split_gain", .number, .float(0)),
        Param("feature_fraction", .number, .float(1)), Param("bagging_fraction", .number, .float(1)), Param("bagging_freq", .int, .int(0)),
        Param("max_bins", .int, .int(255)), Param("objective", .string, .string("auto")), Param("huber_delta", .number, .float(1)),
        Param("early_stop", .optional(.record), .nil), Param("val", .any, .nil), Param("class_weights", .any, .nil), Param("seed", .int, .int(0)),
        Param("categorical", .any, .string("auto")),
    ], doc: "Histogram gradient-boosted trees (LightGBM's algorithm): features quantised once into at most max_bins bins, leaf-wise trees of at most max_leaves leaves, missing values sent the way that lowers the loss. categorical: \"auto\" (text columns), a list of column names, or []: those features split natively by sets of categories (LightGBM's sorted-gradient search; at most max_bins categories by frequency, the rest, unseen ones and missing go the \"other\" way). task: auto (class labels or 0/1: classification, else regression), regression (objective l2, l1 or huber), binary, multiclass. early_stop: {patience, metric: auc|logloss|rmse|mae} on val. A model like any other: predict, evaluate, save, register, serve.",
       example: "evaluate(gradient_boosting(\(irisCSV), trees: 20), \(irisCSV)).accuracy > 0.95", result: "true") { a in
        let maxBins = try a.count("max_bins", min: 2, max: 255)
        let t = try treeInput(a["data"], "data", a, coding: .fit(try CategoricalChoice(a), cap: maxBins))
        guard t.hasLabels else { throw a.invalid("data", "has no labels (give a dataset with a label, or {x, y})") }
        guard t.data.rows >= 1 else { throw a.invalid("data", "has no rows") }
        let (kind, classes) = try inferTask(t, try a.string("task"), a)
        var o = BoostOptions()
        o.trees = try a.count("trees", min: 0, max: 100_000)
        o.learningRate = try a.finite("learning_rate")
        guard o.learningRate > 0 else { throw a.invalid("learning_rate", "must be > 0, got \(o.learningRate)") }
        o.grow = try growParams(a)
        o.featureFraction = try fraction(a, "feature_fraction"); o.baggingFraction = try fraction(a, "bagging_fraction")
        o.baggingFreq = try a.count("bagging_freq", min: 0)
        o.maxBins = try a.count("max_bins", min: 2, max: 255)
        o.huberDelta = try a.finite("huber_delta")
        o.seed = try seedArg(a)
        var objective: BoostObjective
        switch (kind, try a.string("objective")) {
        case (.binary, "auto"): objective = .binary
        case (.multiclass, "auto"): objective = .softmax
        case (.regression, "auto"), (.regression, "l2"): objective = .l2
        case (.regression, "l1"): objective = .l1
        case (.regression, "huber"): objective = .huber
        case (_, let s): throw a.invalid("objective", "'\(s)' does not fit a \(kind.rawValue) task (regression: l2, l1, huber; classification: auto)")
        }
        var data = t.data
        if !a.isNil("class_weights") {
            guard kind != .regression else { throw a.invalid("class_weights", "is for classification; the task is regression") }
            if let w = try classWeights(a, try Tensor(data.y, shape: [data.rows]), classes: classes) {
                guard w.count == classes, w.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                    throw a.invalid("class_weights", "needs \(classes) non-negative numbers, got \(w.count)")
                }
                data.weights = data.y.map { w[Int($0)] }
            }
        }
        var val: TreeData?
        if !a.isNil("val") {
            let v = try treeInput(a["val"], "val", a, coding: .apply(t.categories))
            guard v.hasLabels else { throw a.invalid("val", "has no labels") }
            guard v.data.features == data.features else { throw a.invalid("val", "has \(v.data.features) features, the data \(data.features)") }
            val = v.data
        }
        if !a.isNil("early_stop") {
            let r = try a.record("early_stop")
            guard case .int(let p)? = r["patience"], p >= 1 else { throw a.invalid("early_stop", "needs an integer patience >= 1") }
            guard val != nil else { throw a.invalid("early_stop", "needs val: data to watch") }
            o.patience = p
            if let m = r["metric"]?.text {
                guard ["auc", "logloss", "rmse", "mae"].contains(m) else { throw a.invalid("early_stop", "metric must be auc, logloss, rmse or mae, got '\(m)'") }
                guard m != "auc" || kind == .binary else { throw a.invalid("early_stop", "metric auc is for binary tasks") }
                o.metric = m
            }
        }
        let fit: BoostResult
        do { fit = try gradientBoosting(data, objective: objective, classes: classes, options: o, val: val, featureNames: t.names) }
        catch let e as TrainError { throw a.invalid("data", String(e.message.trimmingPrefix("gradient_boosting: "))) }
        var task = ModelTask(kind: kind)
        if kind == .regression { task.target = t.target } else if let c = t.classes, c.count == classes { task.classes = c }
        var e = fit.ensemble
        e.categories = t.categories
        var m = try e.model(task: task)
        m.blobs["stats"] = try treeStats(data)
        return .native(ModelValue(m))
    },
    NativeFunction("isolation_forest", [Param("data"), Param("trees", .int, .int(100)), Param("sample_size", .int, .int(256)),
                                        Param("contamination", .any, .string("auto")), Param("seed", .int, .int(0))],
                   doc: "Isolation forest (Liu et al. 2008, as scikit-learn): random splits over sub-samples of sample_size rows; a row's anomaly score is 2^(-mean path length / c(sample_size)) in (0, 1). contamination: \"auto\" flags scores above 0.5, a number q flags the top q of the training rows. A binary model (classes normal, anomaly): predict_class gives the flag, score(model, x) the scores, evaluate on 0/1 labels reports roc_auc and pr_auc.",
                   example: "let d = {x: tensor([[0.0], [0.1], [0.2], [0.1], [9.0]])}; let s = score(isolation_forest(d, seed: 1), d.x); s[4] > s[0]",
                   result: "true") { a in
        let t = try treeInput(a["data"], "data", a)
        guard t.data.rows >= 1 else { throw a.invalid("data", "has no rows") }
        var o = IsolationOptions()
        o.trees = try a.count("trees", min: 1, max: 100_000)
        o.sampleSize = try a.count("sample_size", min: 2, max: 1 << 24)
        o.seed = try seedArg(a)
        switch a["contamination"] {
        case .string("auto"): o.contamination = nil
        case let v where v.asDouble != nil:
            let q = v.asDouble!
            guard q > 0, q <= 0.5 else { throw a.invalid("contamination", "must be \"auto\" or in (0, 0.5], got \(q)") }
            o.contamination = q
        case let v: throw a.bad("contamination", "\"auto\" or a number", v)
        }
        let r = try isolationForest(t.data.x, rows: t.data.rows, features: t.data.features, options: o, featureNames: t.names)
        var m = try r.ensemble.model(task: ModelTask(kind: .binary, classes: ["normal", "anomaly"], threshold: r.threshold))
        m.blobs["stats"] = try treeStats(t.data)
        return .native(ModelValue(m))
    },
]

/// Fits a forest for `random_forest` and `decision_tree` (their shared arguments).
func forestValue(_ a: Args, trees: Int, bootstrap: Bool, featuresPerSplit: (Int) throws -> Int?) throws -> (Model, Double?) {
    let t = try treeInput(a["data"], "data", a, coding: .fit(try CategoricalChoice(a), cap: 255))
    guard t.hasLabels else { throw a.invalid("data", "has no labels (give a dataset with a label, or {x, y})") }
    guard t.data.rows >= 1 else { throw a.invalid("data", "has no rows") }
    let (kind, classes) = try inferTask(t, try a.string("task"), a)
    var o = ForestOptions()
    o.trees = trees; o.bootstrap = bootstrap
    o.maxDepth = a.isNil("max_depth") ? -1 : try a.count("max_depth", min: 1, max: 1000)
    o.minChildSamples = try a.count("min_samples_leaf", min: 1)
    o.featuresPerSplit = try featuresPerSplit(t.data.features)
    o.seed = try seedArg(a)
    let r: ForestResult
    do { r = try randomForest(t.data, classes: kind == .regression ? 0 : classes, options: o, featureNames: t.names) }
    catch let e as TrainError { throw a.invalid("data", String(e.message.trimmingPrefix("random_forest: "))) }
    var task = ModelTask(kind: kind)
    if kind == .regression { task.target = t.target } else if let c = t.classes, c.count == classes { task.classes = c }
    var e = r.ensemble
    e.categories = t.categories
    var m = try e.model(task: task)
    m.blobs["stats"] = try treeStats(t.data)
    return (m, r.oobScore)
}

/// The ensemble of a model argument, or a clear error.
func ensembleArg(_ a: Args) throws -> (Model, Ensemble) {
    let m = try a.native("model", as: ModelValue.self, "model").model
    do {
        guard let e = try Ensemble.of(m) else { throw a.invalid("model", "is not a tree model (no tree_ensemble node)") }
        return (m, e)
    } catch let e as TrainError { throw a.invalid("model", e.message) }
}

/// Rows of features from a tensor, dataset or {x} record, checked against the model's width
/// (a dataset's text categories coded with the model's category names).
func treeRows(_ a: Args, _ name: String, features: Int, categories: [[String]?]? = nil) throws -> TreeData {
    let t = try treeInput(a[name], name, a, coding: categories.map { .apply($0) } ?? .none)
    guard t.data.features == features else { throw a.invalid(name, "has \(t.data.features) features, the model takes \(features)") }
    return t.data
}

let forestFunctions: [NativeFunction] = [
    NativeFunction("random_forest", [Param("data"), Param("task", .string, .string("auto")), Param("trees", .int, .int(100)),
                                     Param("max_depth", .optional(.int), .nil), Param("max_features", .any, .string("sqrt")),
                                     Param("min_samples_leaf", .int, .int(1)), Param("bootstrap", .bool, .bool(true)), Param("seed", .int, .int(0)),
                                     Param("categorical", .any, .string("auto"))],
                   doc: "Random forest on the histogram engine: each tree sees a bootstrap sample and, at every split, max_features features (\"sqrt\", \"log2\", \"all\", a count or a fraction). Returns {model, oob_score} (out-of-bag accuracy or R²; nil without bootstrap).",
                   example: "random_forest(\(irisCSV), trees: 20, seed: 1).oob_score > 0.9", result: "true") { a in
        let trees = try a.count("trees", min: 1, max: 100_000)
        let (m, oob) = try forestValue(a, trees: trees, bootstrap: try a.bool("bootstrap")) { f in
            switch a["max_features"] {
            case .string("sqrt"): return Swift.max(1, Int(Double(f).squareRoot()))
            case .string("log2"): return Swift.max(1, Int(Foundation.log2(Double(f))))
            case .string("all"): return nil
            case .int(let k):
                guard k >= 1 else { throw a.invalid("max_features", "must be at least 1, got \(k)") }
                return Swift.min(k, f)
            case .float(let q):
                guard q > 0, q <= 1 else { throw a.invalid("max_features", "a fraction must be in (0, 1], got \(q)") }
                return Swift.max(1, Int(q * Double(f)))
            case let v: throw a.bad("max_features", "\"sqrt\", \"log2\", \"all\", a count or a fraction", v)
            }
        }
        return .record([("model", .native(ModelValue(m))), ("oob_score", oob.map { .float($0) } ?? .nil)])
    },
    NativeFunction("decision_tree", [Param("data"), Param("task", .string, .string("auto")), Param("max_depth", .optional(.int), .nil),
                                     Param("min_samples_leaf", .int, .int(1)), Param("seed", .int, .int(0)),
                                     Param("categorical", .any, .string("auto"))],
                   doc: "One decision tree (all rows, all features, variance/Gini splits; categorical: as gradient_boosting's, text columns split by category sets): a model; rules(model) prints it.",
                   example: "evaluate(decision_tree(\(irisCSV), max_depth: 3), \(irisCSV)).accuracy > 0.95", result: "true") { a in
        .native(ModelValue(try forestValue(a, trees: 1, bootstrap: false) { _ in nil }.0))
    },
]

let treeInspectFunctions: [NativeFunction] = [
    NativeFunction("rules", [Param("model", .native("model")), Param("tree", .int, .int(0))],
                   doc: "One tree of a tree model as if/else rules with feature names (leaves: the class and its share for decision trees, else the leaf value).",
                   example: "rules(decision_tree(\(irisCSV), max_depth: 1)).split(\"\\n\")[0]", result: "\"if petal_length <= 1.9:\"") { a in
        let (m, e) = try ensembleArg(a)
        let k = try a.int("tree")
        guard k >= 0, k < e.trees.count else { throw a.invalid("tree", "must be in 0..<\(e.trees.count), got \(k)") }
        var leaf: (Double) -> String = { "value " + shortValue($0) }
        if e.transform == .logMean, let task = m.task {
            let c = e.output[k]
            leaf = { "\(task.className(c)): " + shortValue($0) }
        }
        return .string(rules(e, tree: k, leaf: leaf))
    },
    NativeFunction("score", [Param("model", .native("model")), Param("x")],
                   doc: "Scores of a tree model for rows of x: anomaly scores in (0, 1) for an isolation forest (higher: more anomalous; scikit-learn's score_samples is their negation), positive-class probabilities for a binary model, the raw outputs otherwise.",
                   example: "score(gradient_boosting({x: tensor([[0.0], [1.0], [2.0], [3.0]]), y: tensor([0, 0, 1, 1])}, min_child_samples: 1, trees: 5), tensor([[3.0]]))[0] > 0.5",
                   result: "true") { a in
        let (m, e) = try ensembleArg(a)
        let d = try treeRows(a, "x", features: e.features, categories: e.categories)
        let out = try Optimize.predict(m, try Tensor(d.x, shape: [d.rows, d.features])).toFloats()
        if e.transform == .isolation || (m.task?.kind == .binary && e.outputs == 1) {
            return wrap(try Tensor(out.map { 1 / (1 + Foundation.exp(-$0)) }, shape: [d.rows]))
        }
        return wrap(try Tensor(out, shape: e.outputs == 1 ? [d.rows] : [d.rows, e.outputs]))
    },
    NativeFunction("contributions", [Param("model", .native("model")), Param("x")],
                   doc: "Per-feature contributions of each row by TreeSHAP: [rows, features + 1] (the last column the bias), or [rows, outputs, features + 1] for several outputs. Each row sums to the raw score (a boosted model's logit or value; a forest's mean; an isolation forest's total path length).",
                   example: "let m = gradient_boosting(\(irisCSV), trees: 5); contributions(m, tensor([[5.1, 3.5, 1.4, 0.2]])).shape", result: "[1, 3, 5]") { a in
        let (_, e) = try ensembleArg(a)
        let d = try treeRows(a, "x", features: e.features, categories: e.categories)
        guard d.rows <= 1_000_000 else { throw a.invalid("x", "\(d.rows) rows is more than the limit of 1000000") }
        let c = e.contributions(d.x, rows: d.rows)
        return wrap(try Tensor(c.map(Float.init), shape: e.outputs == 1 ? [d.rows, e.features + 1] : [d.rows, e.outputs, e.features + 1]))
    },
    NativeFunction("explain_trees", [Param("model", .native("model"))],
                   doc: "A summary of a tree model: {kind, trees, leaves, max_depth, mean_depth, nodes, outputs, features}.",
                   example: "explain_trees(gradient_boosting(\(irisCSV), trees: 3)).trees", result: "9") { a in
        let (_, e) = try ensembleArg(a)
        let depths = e.trees.map(\.depth)
        let kind: String
        switch e.transform {
        case .raw: kind = "gradient_boosting"
        case .isolation: kind = "isolation_forest"
        case .logMean, .mean: kind = "random_forest"
        }
        return .record([("kind", .string(kind)), ("trees", .int(e.trees.count)), ("leaves", .int(e.trees.reduce(0) { $0 + $1.leafCount })),
                        ("max_depth", .int(depths.max() ?? 0)),
                        ("mean_depth", .float(depths.isEmpty ? 0 : Double(depths.reduce(0, +)) / Double(depths.count))),
                        ("nodes", .int(e.trees.reduce(0) { $0 + $1.nodeCount })), ("outputs", .int(e.outputs)), ("features", .int(e.features))])
    },
    NativeFunction("feature_importance", [Param("model", .native("model")), Param("kind", .string, .string("gain"))],
                   doc: "Per-feature importance of a tree model, most important first: kind \"gain\" (total split gain) or \"split\" (number of splits). A list of {feature, importance}.",
                   example: "feature_importance(gradient_boosting(\(irisCSV), trees: 5))[0].feature", result: "\"petal_width\"") { a in
        let (_, e) = try ensembleArg(a)
        let kind = try a.string("kind")
        guard kind == "gain" || kind == "split" else { throw a.invalid("kind", "must be \"gain\" or \"split\", got '\(kind)'") }
        let imp = featureImportance(e, byGain: kind == "gain")
        let order = imp.indices.sorted { imp[$0] > imp[$1] || (imp[$0] == imp[$1] && $0 < $1) }
        return .list(order.map { .record([("feature", .string(e.featureNames[$0])), ("importance", kind == "gain" ? .float(imp[$0]) : .int(Int(imp[$0])))]) })
    },
]
