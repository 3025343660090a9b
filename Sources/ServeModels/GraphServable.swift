import Foundation
import Frames
import Graph
import Optimize
import Serve
import Tensor
import Train
import Trees

/// A trained MLW model served over HTTP: its `CompiledModel` (the optimized graph and its
/// static programs), its fitted data transforms (for `/predict` raw records), training
/// statistics (for drift), its task (blob "task", `ModelTask`) and serving policy (blob
/// "serve", `ServePolicy`).
///
/// With a stored task, `predict` answers by it, and V2 sees that tensor: `predictions`
/// (regression, in the label's units: the target transform inverted) or `probabilities`
/// (classification: softmax or sigmoid applied; one logit gives two columns). Without one,
/// `predict` is the raw model output (`output`) and the task is inferred: one output is
/// regression unless the graph ends in a sigmoid (binary), two are binary, more multiclass.
public final class GraphServable: ServableModel, @unchecked Sendable {
    public let name: String
    public let version: Int
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    public let transforms: FittedPipeline?
    public let trainingStats: FeatureStats?
    public let outputsAreLogits: Bool
    public let task: ServeTask
    public let policy: ServePolicy
    /// The task `answer` reads rows with (stored, else inferred).
    private let modelTask: ModelTask
    /// Thread-safe: it serializes calls (the batcher already gathers concurrent requests into one).
    private let compiled: CompiledModel
    /// The fitted trees when the graph is x -> tree_ensemble (`explain` reads them).
    private let ensemble: Ensemble?
    public let modelKind: String

    /// `outputsAreLogits` defaults to: the last op is not a softmax, sigmoid or log-softmax.
    public init(_ model: Model, name: String, version: Int, outputsAreLogits: Bool? = nil) throws {
        self.name = name
        self.version = version
        compiled = try CompiledModel.of(model)
        let g = model.graph
        let out = g.nodes[g.outputs[0]]
        // Only a graph whose output is the ensemble of the raw input explains by its trees
        // (ops after it, or before it, would change what the contributions add up to).
        if g.outputs.count == 1, out.op == .treeEnsemble, g.nodes[out.inputs[0]].op == .input, let e = try? Ensemble.of(model) {
            ensemble = e
            switch e.transform {
            case .raw: modelKind = "gradient_boosting"
            case .mean, .logMean: modelKind = e.trees.count == 1 ? "decision_tree" : "random_forest"
            case .isolation: modelKind = "isolation_forest"
            }
        } else {
            ensemble = nil
            var ops: [String] = []
            for n in g.nodes where n.op != .input && n.op != .param && !ops.contains(n.op.rawValue) { ops.append(n.op.rawValue) }
            modelKind = "graph (" + ops.prefix(6).joined(separator: ", ") + (ops.count > 6 ? ", ..." : "") + ")"
        }
        func spec(_ n: String, _ s: SymShape) -> TensorSpec {
            TensorSpec(name: n, shape: s.map { d in if case .fixed(let k) = d { return k } else { return -1 } })
        }
        let last = model.graph.nodes[model.graph.outputs[0]].op
        self.outputsAreLogits = outputsAreLogits ?? ![.softmax, .sigmoid, .logSoftmax].contains(last)
        inputs = [spec(model.inputName, model.inputShape)]
        transforms = try model.blobs["transforms"].map { try FittedPipeline(json: Data($0.utf8)) }
        trainingStats = try model.blobs["stats"].map { try JSONDecoder().decode(FeatureStats.self, from: Data($0.utf8)) }
        policy = try ServePolicy.stored(in: model.blobs)
        let raw = spec("output", model.outputShape)
        let width = raw.shape.last ?? 1
        let levels = transforms?.labelLevels
        if let stored = try ModelTask.stored(in: model.blobs) {
            modelTask = stored
            let classes = stored.classes ?? levels
            task = ServeTask(kind: stored.kind.rawValue, classes: stored.kind == .regression ? nil : classes,
                             threshold: stored.threshold, stored: true)
            if stored.kind == .regression {
                outputs = [TensorSpec(name: "predictions", shape: raw.shape)]
            } else {
                outputs = [TensorSpec(name: "probabilities", shape: Array(raw.shape.dropLast()) + [width == 1 ? 2 : width])]
            }
        } else {
            var t = ServeTask.inferred(width: width, classes: levels)
            if width == 1, last == .sigmoid {
                t = ServeTask(kind: "binary", classes: levels.flatMap { $0.count == 2 ? $0 : nil }, stored: false)
            }
            task = t
            modelTask = ModelTask(kind: TaskKind(rawValue: t.kind) ?? .regression, classes: t.classes)
            outputs = [raw]
        }
    }

    public func predict(_ batch: Tensor) throws -> Tensor {
        let y = try compiled.predict(batch)
        guard task.stored else { return y }
        // Answer by the stored task: values in label units, or class probabilities.
        let rows = y.shape[0], width = y.rank == 2 ? y.shape[1] : 1
        let raw = y.toFloats()
        var out: [Float] = []
        out.reserveCapacity(rows * max(width, 2))
        for r in 0..<rows {
            switch modelTask.answer(raw[r * width ..< (r + 1) * width].map(Double.init), outputsAreProbabilities: !outputsAreLogits) {
            case .values(let v): out.append(contentsOf: v.map { Float($0) })
            case .probabilities(let p, _): out.append(contentsOf: p.map { Float($0) })
            }
        }
        return try Tensor(out, shape: [rows, out.count / max(rows, 1)])
    }

    /// TreeSHAP contributions of each row (`Ensemble.contributions`) in the units the
    /// model answers in where that is linear: boosted regression in label units (a
    /// standardized target scaled back), classifiers as logits (several classes: the
    /// predicted class's), forest classifiers as the class's mean probability, isolation
    /// forests as log2 of the anomaly score.
    public func explain(_ batch: Tensor) throws -> ServeExplanations {
        guard let e = ensemble else {
            throw ServeError(400, "explain=true is not supported for \(modelKind) models (model '\(name)'); tree models (gradient_boosting, random_forest, decision_tree, isolation_forest) explain their predictions")
        }
        guard batch.rank == 2, batch.shape[1] == e.features else { throw ServeError(400, "explain: rows must have \(e.features) features, got shape \(batch.shape)") }
        let rows = batch.shape[0], f = e.features, w = f + 1
        let x = batch.toFloats()
        let c = e.contributions(x, rows: rows)
        let raw = e.outputs > 1 ? e.rawScores(x, rows: rows) : []
        // Linear maps of the score the contributions add up to: value = a · score + b.
        var a = 1.0, b = 0.0, units: String
        switch e.transform {
        case .raw, .mean:
            switch modelTask.kind {
            case .regression:
                units = "value"
                if case .standardize(let m, let s)? = modelTask.target { a = s; b = m }
                if case .log1p? = modelTask.target { units = "log1p_value" }
            case .binary, .multiclass: units = task.stored ? "logit" : "raw_score"
            }
            if e.transform == .mean, modelTask.kind != .regression { units = "raw_score" }
        case .logMean: units = "probability"; a = e.scale
        case .isolation: units = "log2_anomaly_score"; a = -1 / e.scale
        }
        var out: [ServeExplanations.Row] = []
        out.reserveCapacity(rows)
        for i in 0..<rows {
            var k = 0
            if e.outputs > 1 {
                let r = raw[i * e.outputs ..< (i + 1) * e.outputs]
                k = r.indices.max { r[$0] < r[$1] || (r[$0] == r[$1] && $0 > $1) }! - i * e.outputs
            }
            let at = (i * e.outputs + k) * w
            out.append(ServeExplanations.Row(output: e.outputs > 1 ? k : nil, bias: a * c[at + f] + b,
                                             contributions: c[at ..< at + f].map { a * $0 }))
        }
        let names = transforms?.featureNames.count == f ? transforms!.featureNames : e.featureNames
        return ServeExplanations(units: units, featureNames: names, rows: out)
    }

    public func answer(_ row: ArraySlice<Float>) -> ServeAnswer {
        let values = row.map(Double.init)
        let a: ModelTask.Answer
        if task.stored {
            // `predict` already answered; only the class choice is left.
            a = modelTask.kind == .regression ? .values(values) : modelTask.answer(values, outputsAreProbabilities: true)
        } else {
            a = modelTask.answer(values, outputsAreProbabilities: !outputsAreLogits)
        }
        switch a {
        case .values(let v): return .values(v)
        case .probabilities(let p, let choice): return .probabilities(p, choice: choice)
        }
    }
}
