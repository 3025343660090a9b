import Frames
import FileIO
import Foundation
import Lang
import Optimize
import Serve
import Tensor
import Train

/// `train`, `evaluate`, `predict`, model files, and the loss plot.
let trainLoopFunctions: [NativeFunction] = [
    NativeFunction("train", [Param("model", .native("model")), Param("data"), Param("loss", .string, .string("cross_entropy")),
                             Param("optimizer", .optional(.native("optimizer")), .nil), Param("epochs", .int, .int(10)),
                             Param("batch", .int, .int(32)), Param("val", .any, .nil), Param("seed", .int, .int(0)),
                             Param("early_stop", .optional(.record), .nil), Param("log_every", .int, .int(1)),
                             Param("schedule", .optional(.record), .nil), Param("clip_norm", .optional(.number), .nil),
                             Param("label_smoothing", .number, .float(0)), Param("class_weights", .any, .nil),
                             Param("checkpoint", .optional(.string), .nil), Param("checkpoint_every", .optional(.int), .nil),
                             Param("resume", .optional(.string), .nil), Param("deterministic", .bool, .bool(false)),
                             Param("bucket_mb", .number, .float(25))],
                   doc: "Train a copy of the model on a dataset (or {x, y} tensors); returns a run {model, history, ...}. Shuffles each epoch from the seed; progress bar on a terminal, one line per epoch otherwise; Ctrl-C stops and keeps the best model so far. "
                       + "Under mpirun (world().size > 1) trains data-parallel: each rank takes its shard of every global batch and gradients are summed over MPI in buckets of up to bucket_mb megabytes, overlapped with the backward pass (deterministic: true sums in rank order). "
                       + "checkpoint: path saves the loop's state every checkpoint_every epochs (rank 0); resume: path carries on from one (Docs/distributed.md).",
                   example: "train(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1, log_every: 0).epochs",
                   result: "1") { a in
        try trainValue(a)
    },
    NativeFunction("evaluate", [Param("model", .native("model")), Param("data")],
                   doc: "Metrics on a dataset (or {x, y}): accuracy, top-3, precision/recall/F1 (per class and macro), confusion matrix, log loss, ROC AUC (binary); mse/mae/r2 for regression.",
                   example: "evaluate(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\")).confusion[0][0] >= 0",
                   result: "true") { a in
        let m = try a.native("model", as: ModelValue.self, "model")
        let d = try labelledData(a["data"], "data", a)
        guard let y = try labelsForEvaluation(d, m.model) else { throw a.invalid("data", "has no labels to evaluate against") }
        do {
            // Under mpirun each rank predicts its share of the rows (Distributed/DistributedEvaluate.swift).
            if let e = try distributedEvaluation(try m.compiled(), x: d.x, y: y, task: m.model.task) { return .native(EvaluationValue(e)) }
            return .native(EvaluationValue(try m.compiled().evaluate(x: d.x, y: y, task: m.model.task)))
        }
        catch let e as TrainError { throw a.invalid("data", String(e.message.trimmingPrefix("evaluate: "))) }
    },
    NativeFunction("threshold", [Param("evaluation", .native("evaluation")), Param("precision", .optional(.number), .nil),
                                 Param("recall", .optional(.number), .nil)],
                   doc: "A decision threshold for a binary model from its evaluation on validation data: the lowest that reaches `precision` (most recall), or the highest that reaches `recall` (most precision). Store it with with_threshold(model, t).",
                   example: "let d = {x: tensor([[0.0], [1.0], [2.0], [3.0]]), y: tensor([0, 0, 1, 1])}; threshold(evaluate(sequential([dense(1, 1)], seed: 1) |> train(d, loss: \"bce\", epochs: 1, log_every: 0) |> |r| r.model, d), recall: 1.0) > 0",
                   result: "true") { a in
        let e = try a.native("evaluation", as: EvaluationValue.self, "evaluation").e
        guard let scores = e.scores, let labels = e.labels else {
            throw a.invalid("evaluation", "is a \(e.task.rawValue) evaluation; thresholds are for binary models")
        }
        do {
            return .float(try chooseThreshold(scores: scores, labels: labels, precision: a.isNil("precision") ? nil : try a.double("precision"),
                                              recall: a.isNil("recall") ? nil : try a.double("recall")))
        } catch let err as TrainError { throw a.invalid(a.isNil("precision") ? "recall" : "precision", String(err.message.trimmingPrefix("threshold: "))) }
    },
    NativeFunction("with_threshold", [Param("model", .native("model")), Param("threshold", .number)],
                   doc: "A copy of a binary model that predicts the positive class at probability >= threshold (saved with it; evaluate and the server use it).",
                   example: "with_threshold(sequential([dense(2, 1)]) |> train({x: ones([4, 2]), y: tensor([0, 1, 0, 1])}, loss: \"bce\", epochs: 1, log_every: 0) |> |r| r.model, 0.7).threshold",
                   result: "0.7") { a in
        var m = try a.native("model", as: ModelValue.self, "model").model
        let t = try a.double("threshold")
        guard t >= 0, t <= 1 else { throw a.invalid("threshold", "must be a probability in [0, 1], got \(t)") }
        guard var task = m.task, task.kind == .binary else {
            throw a.invalid("model", "is \(m.task.map { "a \($0.kind.rawValue)" } ?? "an untrained") model; thresholds are for binary models")
        }
        task.threshold = t
        m.task = task
        return .native(ModelValue(m))
    },
    NativeFunction("predict", [Param("model", .native("model")), Param("x")],
                   doc: "Model outputs (eval mode) for a tensor or a dataset's features; also model(x).",
                   example: "predict(sequential([dense(4, 3)]), ones([2, 4])).shape", result: "[2, 3]") { a in
        try predictValue(a)
    },
    NativeFunction("predict_class", [Param("model", .native("model")), Param("x")],
                   doc: "The predicted class name of each row of a classifier (binary models at their threshold, see with_threshold), as the server's /predict answers.",
                   example: "predict_class(train(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1, log_every: 0).model, ones([1, 4]))[0] != \"\"",
                   result: "true") { a in
        let m = try a.native("model", as: ModelValue.self, "model")
        guard let task = m.model.task, task.kind != .regression else {
            throw a.invalid("model", m.model.task == nil ? "has no task (train it first)" : "is a regression model; use predict")
        }
        let (x, _) = try xy(a["x"], "x", a)
        let out = try m.compiled().predict(x)
        let w = out.rank == 2 ? out.shape[1] : 1, raw = try out.astype(.float64).toDoubles()
        return .list((0..<out.shape[0]).map { i in
            guard case .probabilities(_, let c) = task.answer(Array(raw[(i * w)..<((i + 1) * w)])) else { return .nil }
            return .string(task.className(c))
        })
    },
    NativeFunction("save", [Param("model", .native("model")), Param("path", .string)],
                   doc: "Write the model (graph, weights, attached transforms and statistics) to one versioned file (Docs/formats.md).",
                   example: "save(sequential([dense(4, 2)]), \"/tmp/mlw-example.mlwm\")") { a in
        try Train.save(try a.native("model", as: ModelValue.self, "model").model, try a.string("path"))
        return .nil
    },
    NativeFunction("load_model", [Param("source", .string)],
                   doc: "A model from a file, or from the registry by reference (\"digits@staging\", \"digits:3\", \"digits\").",
                   example: "save(sequential([dense(4, 2)]), \"/tmp/mlw-ex.mlwm\"); load_model(\"/tmp/mlw-ex.mlwm\").params", result: "10") { a in
        var path = try a.string("source")
        if !FileManager.default.fileExists(atPath: path), let resolve = a.interpreter.builtin("resolve") {
            // Not a file: a registry reference.
            guard case .record(let r) = try a.call(resolve, [.string(path)]), case .string(let p)? = r["path"] else {
                throw a.invalid("source", "no model file or registry version '\(path)'")
            }
            path = p
        }
        return .native(ModelValue(try loadModel(path)))
    },
    NativeFunction("attach_transforms", [Param("model", .native("model")), Param("transforms", .native("transforms"))],
                   doc: "A copy of the model carrying fitted data transforms (saved with it; the server applies them to raw records).",
                   example: "attach_transforms(sequential([dense(4, 3)]), fit_transforms(read_csv(\"Scripts/data/iris.csv\", label: \"species\"), [standardize()])).has_transforms",
                   result: "true") { a in
        var m = try a.native("model", as: ModelValue.self, "model").model
        let p = try a.native("transforms", as: PipelineValue.self, "transforms").pipeline
        try attach(p, to: &m)
        // A regression model trained on the pipeline's transformed labels maps back with it.
        if var task = m.task, task.kind == .regression, task.target == nil, let t = targetTransform(p.labelTransform) {
            task.target = t
            m.task = task
        }
        return .native(ModelValue(m))
    },
    NativeFunction("register", [Param("model", .native("model")), Param("name", .string), Param("metrics", .any, .record([])),
                                Param("alias", .optional(.string), .nil), Param("transforms", .optional(.native("transforms")), .nil),
                                Param("allow_missing", .bool, .bool(false)), Param("unseen", .string, .string("error"))],
                   doc: "Register a model (with its fitted transforms, training statistics and task) as the next version of `name`; metrics: a record or an evaluation (its scalar fields); like register(path, ...) for files. "
                       + "Served records are strict: allow_missing: true lets the transforms impute missing fields, unseen: \"other\" maps unseen categories to all-zero one-hot columns.",
                   example: "register(sequential([dense(4, 3)]), name: \"iris-demo\", metrics: {accuracy: 0.9}).version >= 1", result: "true") { a in
        var m = try a.native("model", as: ModelValue.self, "model").model
        if !a.isNil("transforms") { try attach(try a.native("transforms", as: PipelineValue.self, "transforms").pipeline, to: &m) }
        // The serving policy travels with the model (blob "serve"), so `mlw serve` applies it.
        let unseen = try a.string("unseen")
        guard ServePolicy.unseenChoices.contains(unseen) else { throw a.invalid("unseen", "expected \"error\" or \"other\", got \"\(unseen)\"") }
        let policy = ServePolicy(allowMissing: try a.bool("allow_missing"), unseen: unseen)
        if policy == .strict { m.blobs[ServePolicy.blobName] = nil } else { m.blobs[ServePolicy.blobName] = policy.json }
        let dir = NSTemporaryDirectory() + "mlw-register-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + UUID().uuidString + ".mlwm"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Train.save(m, path)
        // The registry's own register(path, ...) stores the file by content hash.
        guard let register = a.interpreter.builtin("register") else { throw NativeError("the registry library is not loaded") }
        // An evaluation registers its scalar fields (accuracy, f1, ... or mae, rmse, r2, mape).
        var metrics = a["metrics"]
        if case .native(let e as EvaluationValue) = metrics { metrics = .record(e.e.scalars.map { ($0.0, .float($0.1)) }) }
        var named: [(String, Value)] = [("name", a["name"]), ("metrics", metrics)]
        if !a.isNil("alias") { named.append(("alias", a["alias"])) }
        return try a.call(register, [.string(path)], named: named)
    },
    NativeFunction("plot_history", [Param("run", .native("run")), Param("path", .string)],
                   doc: "Draw the loss and metric curves of a run as an SVG file.",
                   example: "plot_history(train(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 2, log_every: 0), \"/tmp/mlw-loss.svg\")") { a in
        let r = try a.native("run", as: RunValue.self, "run")
        do { try SafeWrite.write(historySVG(r.run.history), to: try a.string("path")) }
        catch let e as SafeWriteError { throw a.invalid("path", e.description) }
        return .nil
    },
]

/// Features and optional labels from a dataset or an {x, y} record of tensors.
func xy(_ v: Value, _ name: String, _ a: Args) throws -> (Tensor, Tensor?) {
    let d = try labelledData(v, name, a)
    return (d.x, d.y)
}

/// Data as `train` and `evaluate` read it: features, labels, the label's class names
/// (a text label column, or `classes` of a `to_tensors` record) and the transform its
/// labels went through (`standardize_target()`/`log_target()`, from the dataset's lineage).
struct LabelledData {
    var x: Tensor
    var y: Tensor?
    var classes: [String]?
    var target: TargetTransform?
    /// The dataset's tensor memo, when the data came from a dataset (keeps its statistics).
    var memo: TensorMemo?
}

func labelledData(_ v: Value, _ name: String, _ a: Args) throws -> LabelledData {
    switch v {
    case .native(let d as DatasetValue):
        let t = try d.memo.tensors(of: d.ds)
        if let coded = try categoricalData(d, a) { return coded }   // a tree model's text categories (Trees/TreesData.swift)
        return LabelledData(x: t.x, y: t.y, classes: t.labelNames, target: targetTransform(FittedPipeline.labelTransform(of: d.ds)), memo: d.memo)
    case .record(let r):
        guard case .native(let x as TensorValue)? = r["x"] else { throw a.invalid(name, "a record must hold tensors x and y") }
        var classes: [String]?
        if case .list(let l)? = r["classes"] { classes = l.compactMap { if case .string(let s) = $0 { return s } else { return nil } } }
        if case .native(let y as TensorValue)? = r["y"] { return LabelledData(x: x.t, y: y.t, classes: classes) }
        return LabelledData(x: x.t)
    case .native(let t as TensorValue): return LabelledData(x: t.t)
    default: throw a.bad(name, "dataset, {x, y} record or tensor", v)
    }
}

/// The task-level form of a fitted label transform step.
func targetTransform(_ s: FittedStep?) -> TargetTransform? {
    switch s {
    case .standardizeTarget(_, let m, let sd)?: return .standardize(mean: m, std: sd)
    case .logTarget?: return .log1p
    default: return nil
    }
}

/// Labels in the label's own units: undoes the data's target transform when the model
/// maps its outputs back (so outputs and labels are compared in the same units).
func labelsForEvaluation(_ d: LabelledData, _ model: Model) throws -> Tensor? {
    guard let y = d.y, let t = d.target, model.task?.target != nil else { return d.y }
    return try Tensor(y.toDoubles().map(t.inverse), shape: y.shape, dtype: y.dtype)
}

func predictValue(_ a: Args) throws -> Value {
    let m = try a.native("model", as: ModelValue.self, "model")
    let (x, _) = try xy(a["x"], "x", a)
    return wrap(try m.predict(x))
}

/// Class weights for `class_weights:`: a list (one per class) or "balanced", scikit-learn's
/// n / (C · count_c) over the training labels.
func classWeights(_ a: Args, _ y: Tensor, classes c: Int) throws -> [Double]? {
    if a.isNil("class_weights") { return nil }
    if case .string(let s) = a["class_weights"] {
        guard s == "balanced" else { throw a.invalid("class_weights", "must be \"balanced\" or a list of numbers (one per class), got '\(s)'") }
        var counts = [Int](repeating: 0, count: c)
        for v in y.toDoubles() where v >= 0 && v < Double(c) { counts[Int(v)] += 1 }
        if let k = counts.firstIndex(of: 0) {
            throw a.invalid("class_weights", "\"balanced\" needs every class in the training labels; class \(k) has no rows")
        }
        let n = Double(counts.reduce(0, +))
        return counts.map { n / (Double(c) * Double($0)) }
    }
    guard case .list = a["class_weights"] else { throw a.bad("class_weights", "\"balanced\" or a list of numbers", a["class_weights"]) }
    return try a.list("class_weights").map { v -> Double in
        guard let d = v.asDouble else { throw a.invalid("class_weights", "must be numbers") }
        return d
    }
}

/// Attaches the fitted transforms (and the training-feature statistics they carry).
func attach(_ p: FittedPipeline, to m: inout Model) throws {
    m.blobs["transforms"] = String(decoding: try p.jsonData(), as: UTF8.self)
    m.blobs["stats"] = String(decoding: try p.stats.jsonData(), as: UTF8.self)
}

/// Per-feature statistics of training inputs, in `FeatureStats` JSON (for drift monitoring);
/// computed with tensor reductions over the rows.
func statsJSON(_ x: Tensor) throws -> String {
    guard x.rank == 2, x.shape[0] > 0 else { return "" }
    // One pass over the rows (the axis-0 reductions would transpose the whole set four times).
    let (mean, std, lo, hi) = try x.astype(.float32).columnStats()
    let features = (0..<x.shape[1]).map { j in
        FeatureStats.Feature(name: "f\(j)", mean: mean[j], std: std[j], min: lo[j], max: hi[j], count: x.shape[0])
    }
    return String(decoding: try FeatureStats(rows: x.shape[0], features: features).jsonData(), as: UTF8.self)
}

func trainValue(_ a: Args) throws -> Value {
    let mv = try a.native("model", as: ModelValue.self, "model")
    let data = try labelledData(a["data"], "data", a)
    let x = data.x
    guard let y = data.y else { throw a.invalid("data", "has no labels (give a dataset with a label, or {x, y})") }
    var val: (x: Tensor, y: Tensor)?
    if !a.isNil("val") {
        let (vx, vy) = try xy(a["val"], "val", a)
        guard let vy else { throw a.invalid("val", "has no labels") }
        val = (vx, vy)
    }
    var loss = try Loss.named(try a.string("loss"))
    let width = mv.model.outputShape.last?.size ?? 1
    if case .crossEntropy = loss {
        loss = .crossEntropy(smoothing: try a.double("label_smoothing"), classWeights: try classWeights(a, y, classes: width))
    } else if !a.isNil("class_weights") {
        throw a.invalid("class_weights", "needs loss \"cross_entropy\" (got \"\(try a.string("loss"))\")")
    }
    let optimizer = a.isNil("optimizer") ? Adam() : try a.native("optimizer", as: OptimizerValue.self, "optimizer").optimizer
    var earlyStop: EarlyStop?
    if !a.isNil("early_stop") {
        let r = try a.record("early_stop")
        guard case .int(let p)? = r["patience"] else { throw a.invalid("early_stop", "needs an integer patience") }
        earlyStop = EarlyStop(patience: p, metric: r["metric"]?.text ?? "val_loss")
    }
    let schedule = try scheduleArg(a)
    let logEvery = try a.int("log_every")
    let parallel = try dataParallel(a)   // Distributed/WorldLib.swift
    let (checkpoint, resume) = try checkpointArgs(a)
    let interp = a.interpreter
    mlwInterruptRequested = 0
    var run = try Train.train(mv.model, x: x, y: y, loss: loss, optimizer: optimizer, epochs: try a.count("epochs", max: 1_000_000),
                              batch: try a.count("batch", min: 1, max: 1 << 24), val: val, seed: UInt64(bitPattern: Int64(try a.int("seed"))),
                              earlyStop: earlyStop, schedule: schedule, clipNorm: a.isNil("clip_norm") ? nil : try a.double("clip_norm"),
                              logEvery: logEvery, parallel: parallel, checkpoint: checkpoint, resume: resume,
                              shouldStop: { mlwInterruptRequested != 0 }) { record in
        interp.logEpoch(record)
    }
    if run.cancelled {
        mlwInterruptRequested = 0
        FileHandle.standardError.write(Data("train: interrupted after \(run.history.count) epochs; keeping the best model so far\n".utf8))
    }
    // The task the loop inferred, with what only the data knows: class names and the
    // labels' target transform.
    var task = run.model.task
    run.model.blobs = mv.model.blobs
    if task?.kind == .regression { task?.target = data.target }
    else if let names = data.classes, names.count == max(width, 2) { task?.classes = names }
    run.model.task = task
    if run.model.blobs["stats"] == nil { run.model.blobs["stats"] = try data.memo?.statistics { try statsJSON(x) } ?? statsJSON(x) }
    return .native(RunValue(run, ModelValue(run.model)))
}

/// `checkpoint:`/`checkpoint_every:` (every epoch when only the path is given) and `resume:`.
func checkpointArgs(_ a: Args) throws -> (CheckpointPlan?, TrainCheckpoint?) {
    var plan: CheckpointPlan?
    if !a.isNil("checkpoint") {
        let every = a.isNil("checkpoint_every") ? 1 : try a.int("checkpoint_every")
        guard every >= 1 else { throw a.invalid("checkpoint_every", "must be >= 1, got \(every)") }
        plan = CheckpointPlan(path: try a.string("checkpoint"), every: every)
    } else if !a.isNil("checkpoint_every") {
        throw a.invalid("checkpoint_every", "needs checkpoint: a file path to save to")
    }
    guard !a.isNil("resume") else { return (plan, nil) }
    do { return (plan, try TrainCheckpoint.load(try a.string("resume"))) }
    catch let e as TrainError { throw a.invalid("resume", String(e.message.trimmingPrefix("resume: "))) }
}

func scheduleArg(_ a: Args) throws -> LRSchedule {
    guard !a.isNil("schedule") else { return .constant }
    let r = try a.record("schedule")
    func int(_ k: String) throws -> Int {
        guard case .int(let v)? = r[k] else { throw a.invalid("schedule", "needs an integer '\(k)'") }
        return v
    }
    var base: LRSchedule
    switch r["kind"]?.text ?? "" {
    case "step": base = .step(every: try int("every"), gamma: r["gamma"]?.asDouble ?? 0.1)
    case "cosine": base = .cosine(total: try int("total"), minFactor: r["min_factor"]?.asDouble ?? 0)
    case "constant": base = .constant
    default: throw a.invalid("schedule", "kind must be \"step\", \"cosine\" or \"constant\" (with optional warmup: steps)")
    }
    if case .int(let w)? = r["warmup"] { base = .warmup(steps: w, then: base) }
    return base
}

extension Interpreter {
    /// Each epoch's metrics go to the registry run of `mlw run` (when one is recording).
    func logEpoch(_ e: EpochRecord) {
        guard let logMetric = builtin("log_metric"), registrySession.runID != nil else { return }
        var metrics: [(String, Double)] = [("loss", e.loss), ("epoch_seconds", e.seconds)]
        if let v = e.accuracy { metrics.append(("accuracy", v)) }
        if let v = e.valLoss { metrics.append(("val_loss", v)) }
        if let v = e.valAccuracy { metrics.append(("val_accuracy", v)) }
        for (k, v) in metrics { _ = try? call(logMetric, [.string(k), .float(v)], named: [("step", .int(e.epoch))]) }
    }
}

/// `log_metric`'s (key, value) pairs: a name and a number, an evaluation (its scalar
/// fields under their names) or a name and an evaluation (`name_field`).
func metricPairs(_ a: Args) throws -> [(String, Double)] {
    if case .native(let e as EvaluationValue) = a["key"] {
        guard a.isNil("value") else { throw a.invalid("value", "must be left out when the key is an evaluation") }
        return e.e.scalars
    }
    guard case .string(let key) = a["key"] else { throw a.bad("key", "string or evaluation", a["key"]) }
    if case .native(let e as EvaluationValue) = a["value"] { return e.e.scalars.map { ("\(key)_\($0.0)", $0.1) } }
    guard !a.isNil("value") else { throw a.invalid("value", "is missing (a number, or an evaluation)") }
    return [(key, try a.double("value"))]
}
