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
    var description: String { "<model: \(params(model)) parameters, input \(formatSym(model.inputShape)), output \(formatSym(model.outputShape))>" }
    var fieldNames: [String] { ["params", "input_shape", "output_shape", "summary", "has_transforms"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "params": return .int(params(model))
        // Feature shapes, without the batch axis.
        case "input_shape": return .list(model.inputShape.compactMap { d in if case .fixed(let n) = d { return .int(n) } else { return nil } })
        case "output_shape": return .list(model.outputShape.compactMap { d in if case .fixed(let n) = d { return .int(n) } else { return nil } })
        case "summary": return .string(summary(model))
        case "has_transforms": return .bool(model.blobs["transforms"] != nil)
        default: return nil
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

    func predict(_ x: Tensor) throws -> Tensor { try compiled().predict(x) }

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
        var out = "<run: \(run.history.count) epochs, loss \(sparkline(losses))"
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

/// Evaluation metrics: prints as a report, fields as numbers and lists.
final class EvaluationValue: NativeValue {
    let e: Evaluation
    init(_ e: Evaluation) { self.e = e }
    var typeName: String { "evaluation" }
    var description: String { e.description }
    var fieldNames: [String] { ["accuracy", "top3", "precision", "recall", "f1", "macro_precision", "macro_recall", "macro_f1",
                                "confusion", "log_loss", "roc_auc", "mse", "mae", "r2"] }

    func field(_ name: String) throws -> Value? {
        func opt(_ d: Double?) -> Value { d.map { .float($0) } ?? .nil }
        switch name {
        case "accuracy": return .float(e.accuracy)
        case "top3": return opt(e.top3)
        case "precision": return .doubles(e.precision)
        case "recall": return .doubles(e.recall)
        case "f1": return .doubles(e.f1)
        case "macro_precision": return .float(e.macroPrecision)
        case "macro_recall": return .float(e.macroRecall)
        case "macro_f1": return .float(e.macroF1)
        case "confusion": return .list(e.confusion.map { .list($0.map { .int($0) }) })
        case "log_loss": return opt(e.logLoss)
        case "roc_auc": return opt(e.rocAUC)
        case "mse": return opt(e.mse)
        case "mae": return opt(e.mae)
        case "r2": return opt(e.r2)
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
