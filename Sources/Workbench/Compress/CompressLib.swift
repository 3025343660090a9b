import Compress
import Optimize
import Foundation
import Lang
import Tensor
import Train

/// Compression in MLW: distillation, pruning, quantization, and an honest comparison
/// (Docs/compression.md). Data arguments are datasets or {x, y} tensors, as in `train`.
let compressLibrary = Library("compress", doc: "Distillation, pruning (CSR storage), int8 quantization, QAT, reports and comparison.", [
    NativeFunction("distill", [Param("teacher", .native("model")), Param("student", .native("model")), Param("data"),
                               Param("temperature", .number, .float(4)), Param("soft_weight", .number, .float(0.7)),
                               Param("hard_weight", .number, .float(0.3)), Param("epochs", .int, .int(10)),
                               Param("optimizer", .optional(.native("optimizer")), .nil), Param("batch", .int, .int(64)),
                               Param("val", .any, .nil), Param("seed", .int, .int(0)), Param("schedule", .optional(.record), .nil)],
                   doc: "Train the student on soft_weight·T²·KL(teacher/T ‖ student/T) + hard_weight·CE(labels) (a one-logit binary teacher: binary cross-entropy at T; a regression teacher: soft_weight·MSE(teacher) + hard_weight·MSE(labels)); the teacher's outputs are computed once. schedule: a learning-rate schedule as in train. Returns a run like train.",
                   example: "distill(teacher: sequential([dense(4, 3)]), student: sequential([dense(4, 3)], seed: 1), data: read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1).epochs",
                   result: "1") { a in
        let t = try modelArg(a, "teacher"), s = try modelArg(a, "student")
        let d = try labelledData(a["data"], "data", a)
        guard var y = d.y else { throw a.invalid("data", "has no labels (give a dataset with a label, or {x, y})") }
        let x = d.x
        // The student learns in the teacher's output units: labels in the label's own
        // units go through the teacher's target transform.
        if let tt = t.task?.target, d.target == nil { y = try Tensor(y.toDoubles().map(tt.forward), shape: y.shape, dtype: y.dtype) }
        let run = try distill(teacher: t, student: s, x: x, y: y, temperature: try a.double("temperature"),
                              softWeight: try a.double("soft_weight"), hardWeight: try a.double("hard_weight"),
                              epochs: try a.count("epochs", max: 1_000_000), optimizer: try optimizerArg(a, Adam(lr: 1e-3)), batch: try a.count("batch", min: 1, max: 1 << 24),
                              val: try valArg(a), seed: try seedArg(a), schedule: try scheduleArg(a))
        return .native(RunValue(run, ModelValue(run.model)))
    },
    NativeFunction("prune", [Param("model", .native("model")), Param("sparsity", .number), Param("method", .string, .string("magnitude")),
                             Param("scope", .string, .string("layer")), Param("pattern", .string, .string("unstructured")),
                             Param("layers", .optional(.list), .nil), Param("seed", .int, .int(0))],
                   doc: "Zero the smallest weights (method \"magnitude\" or \"random\"; scope \"layer\" or \"global\"; pattern \"unstructured\", \"2:4\", \"neurons\" or \"channels\"). Unstructured layers past 50% switch to CSR storage and the sparse kernel; neurons/channels remove units and shrink the layers that consume them.",
                   example: "sparsity_report(prune(sequential([dense(64, 64)]), sparsity: 0.9)).sparsity > 0.85", result: "true") { a in
        let m = try modelArg(a, "model")
        guard let method = PruneMethod(rawValue: try a.string("method")) else { throw a.invalid("method", "must be \"magnitude\" or \"random\"") }
        guard let scope = PruneScope(rawValue: try a.string("scope")) else { throw a.invalid("scope", "must be \"layer\" or \"global\"") }
        let patterns: [String: PrunePattern] = ["unstructured": .unstructured, "2:4": .twoFour, "neurons": .neurons, "channels": .channels]
        guard let pattern = patterns[try a.string("pattern")] else { throw a.invalid("pattern", "must be unstructured, 2:4, neurons or channels") }
        return .native(ModelValue(try prune(m, sparsity: try a.double("sparsity"), method: method, scope: scope, pattern: pattern,
                                     layers: a.isNil("layers") ? nil : try stringList(a, "layers"), seed: try seedArg(a))))
    },
    NativeFunction("finetune", [Param("model", .native("model")), Param("data"), Param("epochs", .int, .int(3)),
                                Param("optimizer", .optional(.native("optimizer")), .nil), Param("batch", .int, .int(64)),
                                Param("val", .any, .nil), Param("seed", .int, .int(0))],
                   doc: "Train a pruned model further while keeping pruned weights at zero; returns the model.",
                   example: "finetune(prune(sequential([dense(4, 3)]), sparsity: 0.5), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1).params > 0",
                   result: "true") { a in
        let m = try modelArg(a, "model")
        let (x, y) = try labelled(a, "data")
        let run = try finetune(m, x: x, y: y, epochs: try a.count("epochs", max: 1_000_000), optimizer: try optimizerArg(a, Adam(lr: 1e-3)), loss: taskLoss(m),
                               batch: try a.count("batch", min: 1, max: 1 << 24), val: try valArg(a), seed: try seedArg(a))
        return .native(ModelValue(run.model))
    },
    NativeFunction("quantize", [Param("model", .native("model")), Param("mode", .string, .string("dynamic")), Param("calibrate", .any, .nil),
                                Param("method", .string, .string("minmax")), Param("per_channel", .bool, .bool(true)),
                                Param("symmetric", .bool, .bool(true)), Param("skip", .list, .list([])), Param("min_sqnr", .optional(.number), .nil)],
                   doc: "int8 weights (per channel or tensor) and int8 activations: scales calibrated on data (\"static\") or per batch (\"dynamic\"); int32 accumulation. Layers below min_sqnr dB stay float32.",
                   example: "quantize(sequential([dense(4, 3)]), mode: \"dynamic\").params > 0", result: "true") { a in
        let m = try modelArg(a, "model")
        guard let mode = QuantMode(rawValue: try a.string("mode")) else { throw a.invalid("mode", "must be \"dynamic\" or \"static\"") }
        guard let method = CalibrationMethod(rawValue: try a.string("method")) else { throw a.invalid("method", "must be minmax, percentile or entropy") }
        let calib = a.isNil("calibrate") ? nil : try xy(a["calibrate"], "calibrate", a).0
        return .native(ModelValue(try quantize(m, mode: mode, calibrate: calib, method: method, perChannel: try a.bool("per_channel"),
                                        symmetric: try a.bool("symmetric"), skip: try stringList(a, "skip"),
                                        minSQNR: a.isNil("min_sqnr") ? nil : try a.double("min_sqnr"))))
    },
    NativeFunction("qat", [Param("model", .native("model")), Param("data"), Param("epochs", .int, .int(3)),
                           Param("optimizer", .optional(.native("optimizer")), .nil), Param("batch", .int, .int(64)), Param("seed", .int, .int(0))],
                   doc: "Quantization-aware training (fake quantization in the forward pass), then conversion to the int8 model.",
                   example: "qat(sequential([dense(4, 3)]), read_csv(\"Scripts/data/iris.csv\", label: \"species\"), epochs: 1).params > 0",
                   result: "true") { a in
        let m = try modelArg(a, "model")
        let (x, y) = try labelled(a, "data")
        return .native(ModelValue(try qat(m, x: x, y: y, epochs: try a.count("epochs", max: 1_000_000), optimizer: try optimizerArg(a, Adam(lr: 1e-4)), loss: taskLoss(m),
                                   batch: try a.count("batch", min: 1, max: 1 << 24), seed: try seedArg(a)).model))
    },
    NativeFunction("quant_report", [Param("model", .native("model")), Param("data"), Param("reference", .optional(.native("model")), .nil)],
                   doc: "Per-layer error of an int8 model against float (max abs diff, SQNR dB) on sample data.",
                   example: "quant_report(quantize(sequential([dense(4, 3)])), randn([8, 4], seed: 1))") { a in
        let m = try modelArg(a, "model")
        let x = try xy(a["data"], "data", a).0
        let ref = a.isNil("reference") ? nil : try modelArg(a, "reference")
        return .string(try quantReport(m, x, reference: ref).description)
    },
    NativeFunction("sparsity_report", [Param("model", .native("model"))],
                   doc: "Per-layer and global sparsity, parameter counts and bytes as stored: {sparsity, weights, nonzeros, bytes, file_bytes, text}.",
                   example: "sparsity_report(sequential([dense(4, 3)])).sparsity", result: "0.0") { a in
        let m = try modelArg(a, "model")
        let r = try sparsityReport(m)
        return .record([("sparsity", .float(r.sparsity)), ("weights", .int(r.weights)), ("nonzeros", .int(r.nonzeros)),
                        ("bytes", .int(r.paramBytes)), ("file_bytes", .int(r.fileBytes)), ("text", .string(r.description))])
    },
    NativeFunction("compare", [Param("models", .list), Param("data"), Param("names", .optional(.list), .nil), Param("runs", .int, .int(200)),
                               Param("print", .bool, .bool(true))],
                   doc: "One table: parameters, bytes on disk, sparsity, the task's metrics (accuracy and f1; r2, rmse and mae for regression), latency p50/p99 at batch 1 and 64; prints it (unless print: false) and returns the rows.",
                   example: "len(compare([sequential([dense(4, 3)])], read_csv(\"Scripts/data/iris.csv\", label: \"species\"), runs: 3))",
                   result: "1") { a in
        let models: [Model] = try a.list("models").map { v in
            guard case .native(let m as ModelValue) = v else { throw a.invalid("models", "must be a list of models") }
            return m.model
        }
        let names = a.isNil("names") ? (0..<models.count).map { "model \($0 + 1)" } : try stringList(a, "names")
        guard names.count == models.count else { throw a.invalid("names", "needs one name per model") }
        let d = try labelledData(a["data"], "data", a)
        guard let first = models.first, let y = try labelsForEvaluation(d, first) else {
            throw a.invalid(models.isEmpty ? "models" : "data", models.isEmpty ? "must not be empty" : "has no labels (give a dataset with a label, or {x, y})")
        }
        let c: Comparison
        do { c = try compare(Array(zip(names, models)), x: d.x, y: y, runs: try a.count("runs", min: 1, max: 100_000)) }
        catch let e as TrainError { throw a.invalid("data", String(e.message.trimmingPrefix("evaluate: "))) }
        if try a.bool("print") { a.interpreter.output(c.description + "\n") }
        // Each row: the task's metric columns (accuracy, f1 or r2, rmse, mae) by name.
        return .list(c.rows.map { r in
            .record([("name", .string(r.name)), ("parameters", .int(r.parameters)), ("bytes", .int(r.fileBytes)),
                     ("sparsity", .float(r.sparsity))] + c.metricNames.map { ($0, r.metrics[$0].map { .float($0) } ?? .nil) }
                    + [("p50_batch1_ms", .float(r.p50Batch1)), ("p99_batch1_ms", .float(r.p99Batch1)),
                       ("p50_batch64_ms", .float(r.p50Batch64)), ("p99_batch64_ms", .float(r.p99Batch64))])
        })
    },
])

func modelArg(_ a: Args, _ name: String) throws -> Model { try a.native(name, as: ModelValue.self, "model").model }

/// The loss that fits a model's task, for training it further (finetune, qat): mse for
/// regression, binary cross-entropy for one logit, cross-entropy otherwise.
func taskLoss(_ m: Model) -> Loss {
    switch m.task?.kind {
    case .regression?: return .mse
    case .binary? where m.outputShape.last?.size == 1: return .binaryCrossEntropy
    default: return .crossEntropy()
    }
}

func labelled(_ a: Args, _ name: String) throws -> (Tensor, Tensor) {
    let (x, y) = try xy(a[name], name, a)
    guard let y else { throw a.invalid(name, "has no labels (give a dataset with a label, or {x, y})") }
    return (x, y)
}

func valArg(_ a: Args) throws -> (x: Tensor, y: Tensor)? {
    guard !a.isNil("val") else { return nil }
    let (x, y) = try labelled(a, "val")
    return (x, y)
}

func optimizerArg(_ a: Args, _ fallback: any Optimizer) throws -> any Optimizer {
    a.isNil("optimizer") ? fallback : try a.native("optimizer", as: OptimizerValue.self, "optimizer").optimizer
}
