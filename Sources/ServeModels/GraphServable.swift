import Foundation
import Frames
import Graph
import Optimize
import Serve
import Tensor
import Train

/// A trained MLW model served over HTTP: its `CompiledModel` (the optimized graph and its
/// static programs), its fitted data transforms (for `/predict` raw records) and training
/// statistics (for drift).
public final class GraphServable: ServableModel, @unchecked Sendable {
    public let name: String
    public let version: Int
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    public let transforms: FittedPipeline?
    public let trainingStats: FeatureStats?
    public let outputsAreLogits: Bool
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
        outputs = [spec("output", model.outputShape)]
        transforms = try model.blobs["transforms"].map { try FittedPipeline(json: Data($0.utf8)) }
        trainingStats = try model.blobs["stats"].map { try JSONDecoder().decode(FeatureStats.self, from: Data($0.utf8)) }
    }

    public func predict(_ batch: Tensor) throws -> Tensor { try compiled.predict(batch) }
}
