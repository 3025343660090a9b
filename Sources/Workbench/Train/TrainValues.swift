import Frames
import Foundation
import Graph
import Lang
import Tensor
import Optimize
import Train

/// A layer recipe (`dense(64, 128)`); `sequential` builds a model from a list of them, and
/// calling a layer on a symbolic node (`dense(64, 64)(x)`) builds a graph functionally.
final class LayerValue: NativeValue {
    let layer: Layer
    let text: String
    init(_ layer: Layer, _ text: String) { self.layer = layer; self.text = text }
    var typeName: String { "layer" }
    var description: String { "<layer \(text)>" }

    var callable: NativeFunction? {
        NativeFunction("apply_layer", [Param("layer", .native("layer")), Param("input", .native("node"))],
                       doc: "Apply a layer to a symbolic node.", example: "dense(4, 2)(x)") { a in
            let l = try a.native("layer", as: LayerValue.self, "layer")
            let x = try a.native("input", as: NodeValue.self, "node")
            return .native(try x.builder.apply(l.layer, [x]))
        }
    }
}

/// A model: a graph with weights, plus the fitted data transforms and training statistics
/// that travel with it. Calling it predicts: `model(x)`.
final class ModelValue: NativeValue {
    var model: Model
    /// The compiled form `predict`, `evaluate` and `model(x)` run, kept for the model's revision.
    private var compiledForm: CompiledModel?

    init(_ m: Model) { model = m }

    var typeName: String { "model" }
    var description: String {
        let task = model.task.map { ", " + $0.summary(outputWidth: model.outputShape.last?.size ?? 1) } ?? ""
        return "<model: \(params(model)) parameters, input \(formatSym(model.inputShape)), output \(formatSym(model.outputShape))\(task)>"
    }
    var fieldNames: [String] { ["params", "input_shape", "output_shape", "summary", "has_transforms", "task", "classes", "threshold"] + classicalFieldNames(model) }

    func field(_ name: String) throws -> Value? {
        if let v = try classicalField(model, name) { return v }   // Classical/ClassicalValues.swift
        switch name {
        case "params": return .int(params(model))
        // Feature shapes, without the batch axis.
        case "input_shape": return .list(model.inputShape.compactMap { d in if case .fixed(let n) = d { return .int(n) } else { return nil } })
        case "output_shape": return .list(model.outputShape.compactMap { d in if case .fixed(let n) = d { return .int(n) } else { return nil } })
        case "summary": return .string(summary(model))
        case "has_transforms": return .bool(model.blobs["transforms"] != nil)
        // The task (Task.swift): "regression", "binary", "multiclass", or nil before training.
        case "task": return model.task.map { .string($0.kind.rawValue) } ?? .nil
        case "classes": return model.task?.classes.map { .strings($0) } ?? .nil
        case "threshold": return model.task?.threshold.map { .float($0) } ?? (model.task?.kind == .binary ? .float(0.5) : .nil)
        default: return try recommenderField(name, model)   // user_factors, item_factors, recommender (Recommend/)
        }
    }

    /// The model's `CompiledModel` (level 2 passes, static programs per batch size), made
    /// once per revision: `model` may be replaced by a changed one.
    func compiled() throws -> CompiledModel {
        if let c = compiledForm, c.revision == model.revision { return c }
        let c = try CompiledModel.of(model)
        compiledForm = c
        return c
    }

    /// Outputs in the label's units: a regression model trained on transformed targets
    /// (`standardize_target()`, `log_target()`) maps its raw outputs back.
    func predict(_ x: Tensor) throws -> Tensor {
        let out = try compiled().predict(x)
        return try model.task?.labelUnits(out) ?? out
    }

    var callable: NativeFunction? {
        NativeFunction("predict", [Param("model", .native("model")), Param("x")], doc: "Predict.", example: "model(x)") { a in
            try predictValue(a)
        }
    }
}

func formatSym(_ s: SymShape) -> String {
    "[" + s.map { d in if case .fixed(let n) = d { return String(n) } else { return "batch" } }.joined(separator: ", ") + "]"
}

/// An optimizer configuration (`adam(lr: 0.001)`).
final class OptimizerValue: NativeValue {
    let optimizer: Optimizer
    let text: String
    init(_ o: Optimizer, _ text: String) { optimizer = o; self.text = text }
    var typeName: String { "optimizer" }
    var description: String { "<optimizer \(text)>" }
}

/// The result of `train`: the model (best on validation with early stopping) and the
/// per-epoch history; prints a table and a sparkline of the loss.
final class RunValue: NativeValue {
    let run: TrainRun
    let model: ModelValue
    init(_ r: TrainRun, _ m: ModelValue) { run = r; model = m }
    var typeName: String { "run" }
    var fieldNames: [String] { ["model", "history", "stopped_early", "cancelled", "epochs", "last"] }

    var description: String {
        let losses = run.history.map(\.loss)
        var out = "<run: \(run.history.count) epochs"
        if let t = run.model.task { out += ", " + t.kind.rawValue }
        out += ", loss \(sparkline(losses))"
        if let last = run.history.last {
            out += String(format: " %.4f", last.loss)
            if let va = last.valAccuracy { out += String(format: ", val_accuracy %.4f", va) }
        }
        if run.stoppedEarly { out += ", stopped early" }
        if run.cancelled { out += ", cancelled" }
        return out + ">"
    }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "model": return .native(model)
        case "history": return .list(run.history.map(epochRecord))
        case "stopped_early": return .bool(run.stoppedEarly)
        case "cancelled": return .bool(run.cancelled)
        case "epochs": return .int(run.history.count)
        case "last": return run.history.last.map(epochRecord) ?? .nil
        default: return nil
        }
    }
}

func epochRecord(_ e: EpochRecord) -> Value {
    var pairs: [(String, Value)] = [("epoch", .int(e.epoch)), ("loss", .float(e.loss))]
    if let a = e.accuracy { pairs.append(("accuracy", .float(a))) }
    if let v = e.valLoss { pairs.append(("val_loss", .float(v))) }
    if let v = e.valAccuracy { pairs.append(("val_accuracy", .float(v))) }
    pairs.append(("seconds", .float(e.seconds)))
    pairs.append(("samples_per_second", .float(e.samplesPerSecond)))
    return .record(pairs)
}

/// ▁▂▃▅▇ of the values, at most 20 characters however many epochs (Train/Progress.swift).
func sparkline(_ xs: [Double]) -> String { Train.sparkline(xs) }

/// Evaluation metrics of one task: prints as a report (class names, not codes); its
/// fields (`keys(e)`) are the task's metrics, named as scikit-learn names them.
final class EvaluationValue: NativeValue {
    let e: Evaluation
    init(_ e: Evaluation) { self.e = e }
    var typeName: String { "evaluation" }
    var description: String { e.description }
    var fieldNames: [String] {
        if !e.isClassification { return ["task", "rows", "mae", "rmse", "r2", "mape"] }
        var names = ["task", "rows", "accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_micro", "f1_weighted",
                     "roc_auc", "pr_auc", "log_loss", "brier", "confusion", "per_class", "classes"]
        if e.top3 != nil { names.append("top3") }
        if e.threshold != nil { names += ["threshold", "scores", "labels"] }
        return names
    }

    func field(_ name: String) throws -> Value? {
        guard fieldNames.contains(name) else { return nil }
        func opt(_ d: Double?) -> Value { d.map { .float($0) } ?? .nil }
        switch name {
        case "task": return .string(e.task.rawValue)
        case "rows": return .int(e.rows)
        case "accuracy": return .float(e.accuracy)
        case "balanced_accuracy": return .float(e.balancedAccuracy)
        case "precision": return .float(e.precision)
        case "recall": return .float(e.recall)
        case "f1": return .float(e.f1)
        case "f1_micro": return .float(e.f1Micro)
        case "f1_weighted": return .float(e.f1Weighted)
        case "roc_auc": return opt(e.rocAUC)
        case "pr_auc": return opt(e.prAUC)
        case "log_loss": return opt(e.logLoss)
        case "brier": return opt(e.brier)
        case "top3": return opt(e.top3)
        case "threshold": return opt(e.threshold)
        case "confusion": return .list(e.confusion.map { .list($0.map { .int($0) }) })
        case "classes": return .strings(e.classes)
        case "per_class":
            return .list(e.perClass.map { c in
                .record([("class", .string(c.name)), ("precision", .float(c.precision)), ("recall", .float(c.recall)),
                         ("f1", .float(c.f1)), ("support", .int(c.support))])
            })
        case "scores": return .doubles(e.scores ?? [])
        case "labels": return .list((e.labels ?? []).map { .int($0) })
        case "mae": return opt(e.mae)
        case "rmse": return opt(e.rmse)
        case "r2": return opt(e.r2)
        case "mape": return opt(e.mape)
        default: return nil
        }
    }
}

/// A symbolic value while building a graph functionally (`let x = input([64])`).
final class NodeValue: NativeValue {
    let builder: BuilderBox
    let id: Int
    init(_ b: BuilderBox, _ id: Int) { builder = b; self.id = id }
    var typeName: String { "node" }
    var description: String { "<node \(builder.b.graph.nodes[id].name): \(formatSym(builder.b.graph.nodes[id].shape))>" }

    /// `a + b` joins two branches (a residual connection).
    func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
        guard op == "+", case .native(let o as NodeValue) = other, o.builder === builder else { return nil }
        return .native(NodeValue(builder, try builder.b.add(id, o.id)))
    }
}

/// The shared graph under construction behind a set of nodes.
final class BuilderBox {
    var b: ModelBuilder
    init(seed: UInt64) { b = ModelBuilder(seed: seed) }

    func apply(_ layer: Layer, _ xs: [NodeValue]) throws -> NodeValue {
        guard xs.allSatisfy({ $0.builder === self }) else { throw NativeError("nodes come from different graphs") }
        let ids = xs.map(\.id)
        return NodeValue(self, try b.apply(layer, ids[0]))
    }
}
