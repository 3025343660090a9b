import Frames
import FileIO
import Foundation
import Lang
import Optimize
import Tensor
import Train

/// `train`, `evaluate`, `predict`, model files, and the loss plot.
let trainLoopFunctions: [NativeFunction] = [
    NativeFunction("train", [Param("model", .native("model")), Param("data"), Param("loss", .string, .string("cross_entropy")),
                             Param("optimizer", .optional(.native("optimizer")), .nil), Param("epochs", .int, .int(10)),
                             Param("batch", .int, .int(32)), Param("val", .any, .nil), Param("seed", .int, .int(0)),
                             Param("early_stop", .optional(.record), .nil), Param("log_every", .int, .int(1)),
                             Param("schedule", .optional(.record), .nil), Param("clip_norm", .optional(.number), .nil),
                             Param("label_smoothing", .number, .float(0)), Param("class_weights", .optional(.list), .nil)],
                   doc: "Train a copy of the model on a dataset (or {x, y} tensors); returns a run {model, history, ...}. Shuffles each epoch from the seed; progress bar on a terminal, one line per epoch otherwise; Ctrl-C stops and keeps the best model so far.",
                   example: "train(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1, log_every: 0).epochs",
                   result: "1") { a in
        try trainValue(a)
    },
    NativeFunction("evaluate", [Param("model", .native("model")), Param("data")],
                   doc: "Metrics on a dataset (or {x, y}): accuracy, top-3, precision/recall/F1 (per class and macro), confusion matrix, log loss, ROC AUC (binary); mse/mae/r2 for regression.",
                   example: "evaluate(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\")).confusion[0][0] >= 0",
                   result: "true") { a in
        let m = try a.native("model", as: ModelValue.self, "model")
        let (x, y) = try xy(a["data"], "data", a)
        guard let y else { throw a.invalid("data", "has no labels to evaluate against") }
        return .native(EvaluationValue(try m.compiled().evaluate(x: x, y: y)))
    },
    NativeFunction("predict", [Param("model", .native("model")), Param("x")],
                   doc: "Model outputs (eval mode) for a tensor or a dataset's features; also model(x).",
                   example: "predict(sequential([dense(4, 3)]), ones([2, 4])).shape", result: "[2, 3]") { a in
        try predictValue(a)
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
        try attach(try a.native("transforms", as: PipelineValue.self, "transforms").pipeline, to: &m)
        return .native(ModelValue(m))
    },
    NativeFunction("register", [Param("model", .native("model")), Param("name", .string), Param("metrics", .record, .record([])),
                                Param("alias", .optional(.string), .nil), Param("transforms", .optional(.native("transforms")), .nil)],
                   doc: "Register a model (with its fitted transforms and training statistics) as the next version of `name`; like register(path, ...) for files.",
                   example: "register(sequential([dense(4, 3)]), name: \"iris-demo\", metrics: {accuracy: 0.9}).version >= 1", result: "true") { a in
        var m = try a.native("model", as: ModelValue.self, "model").model
        if !a.isNil("transforms") { try attach(try a.native("transforms", as: PipelineValue.self, "transforms").pipeline, to: &m) }
        let dir = NSTemporaryDirectory() + "mlw-register-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + UUID().uuidString + ".mlwm"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Train.save(m, path)
        // The registry's own register(path, ...) stores the file by content hash.
        guard let register = a.interpreter.builtin("register") else { throw NativeError("the registry library is not loaded") }
        var named: [(String, Value)] = [("name", a["name"]), ("metrics", a["metrics"])]
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
    switch v {
    case .native(let d as DatasetValue):
        return try tensorPair(try d.ds.featureMatrix())
    case .record(let r):
        guard case .native(let x as TensorValue)? = r["x"] else { throw a.invalid(name, "a record must hold tensors x and y") }
        if case .native(let y as TensorValue)? = r["y"] { return (x.t, y.t) }
        return (x.t, nil)
    case .native(let t as TensorValue): return (t.t, nil)
    default: throw a.bad(name, "dataset, {x, y} record or tensor", v)
    }
}

func predictValue(_ a: Args) throws -> Value {
    let m = try a.native("model", as: ModelValue.self, "model")
    let (x, _) = try xy(a["x"], "x", a)
    return wrap(try m.predict(x))
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
    let (x, yOpt) = try xy(a["data"], "data", a)
    guard let y = yOpt else { throw a.invalid("data", "has no labels (give a dataset with a label, or {x, y})") }
    var val: (x: Tensor, y: Tensor)?
    if !a.isNil("val") {
        let (vx, vy) = try xy(a["val"], "val", a)
        guard let vy else { throw a.invalid("val", "has no labels") }
        val = (vx, vy)
    }
    var loss = try Loss.named(try a.string("loss"))
    if case .crossEntropy = loss {
        let weights = a.isNil("class_weights") ? nil : try a.list("class_weights").map { v -> Double in
            guard let d = v.asDouble else { throw a.invalid("class_weights", "must be numbers") }
            return d
        }
        loss = .crossEntropy(smoothing: try a.double("label_smoothing"), classWeights: weights)
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
    let interp = a.interpreter
    mlwInterruptRequested = 0
    var run = try Train.train(mv.model, x: x, y: y, loss: loss, optimizer: optimizer, epochs: try a.count("epochs", max: 1_000_000),
                              batch: try a.count("batch", min: 1, max: 1 << 24), val: val, seed: UInt64(bitPattern: Int64(try a.int("seed"))),
                              earlyStop: earlyStop, schedule: schedule, clipNorm: a.isNil("clip_norm") ? nil : try a.double("clip_norm"),
                              logEvery: logEvery, shouldStop: { mlwInterruptRequested != 0 }) { record in
        interp.logEpoch(record)
    }
    if run.cancelled {
        mlwInterruptRequested = 0
        FileHandle.standardError.write(Data("train: interrupted after \(run.history.count) epochs; keeping the best model so far\n".utf8))
    }
    run.model.blobs = mv.model.blobs
    if run.model.blobs["stats"] == nil { run.model.blobs["stats"] = try statsJSON(x) }
    return .native(RunValue(run, ModelValue(run.model)))
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
