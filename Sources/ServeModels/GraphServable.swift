import Foundation
import Frames
import Graph
import Optimize
import Serve
import Tensor
import Train

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

    /// `outputsAreLogits` defaults to: the last op is not a softmax, sigmoid or log-softmax.
    public init(_ model: Model, name: String, version: Int, outputsAreLogits: Bool? = nil) throws {
        self.name = name
        self.version = version
        compiled = try CompiledModel.of(model)
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
