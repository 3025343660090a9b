import Foundation
import Frames
@testable import Serve

/// The Serve tests' model (Serve itself knows models only through `ServableModel`): a
/// multi-layer perceptron, each layer act(x @ W + b) with one fused `Tensor.linear`.
/// Stored as safetensors (the format `mlw serve` also loads, through Workbench's
/// `denseModel(safetensors:)`): `layer.N.weight` [in, out], `layer.N.bias` [out], and metadata
/// `mlw.kind = "dense"`, `mlw.activations = "relu,relu,softmax"`, optional
/// `mlw.transforms` (FittedPipeline JSON) and `mlw.stats` (FeatureStats JSON).
///
///     try DenseModel.save(model, to: "/tmp/m.safetensors")
///     let m = try DenseModel.load(path: "/tmp/m.safetensors", name: "digits", version: 1)
public final class DenseModel: ServableModel, @unchecked Sendable {
    public struct Layer: @unchecked Sendable {
        public var weight: Tensor
        public var bias: Tensor
        public var activation: Activation
        public init(weight: Tensor, bias: Tensor, activation: Activation) {
            self.weight = weight; self.bias = bias; self.activation = activation
        }
    }

    public let name: String
    public let version: Int
    public let layers: [Layer]
    public let transforms: FittedPipeline?
    private let stats: FeatureStats?
    public var trainingStats: FeatureStats? { stats ?? transforms?.stats }
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]

    public init(name: String, version: Int, layers: [Layer], transforms: FittedPipeline? = nil,
                trainingStats: FeatureStats? = nil) throws {
        guard let first = layers.first, let last = layers.last else {
            throw ServeError.badModel("a dense model needs at least one layer")
        }
        for (i, l) in layers.enumerated() {
            guard l.weight.rank == 2, l.bias.shape == [l.weight.shape[1]] else {
                throw ServeError.badModel("layer \(i): weight \(l.weight.shape) and bias \(l.bias.shape) do not fit")
            }
            if i > 0, layers[i - 1].weight.shape[1] != l.weight.shape[0] {
                throw ServeError.badModel("layer \(i) takes \(l.weight.shape[0]) features, layer \(i - 1) gives \(layers[i - 1].weight.shape[1])")
            }
        }
        self.name = name; self.version = version
        // Contiguous float32 once, so the forward pass never converts.
        self.layers = layers.map { Layer(weight: $0.weight.astype(.float32).contiguous(),
                                         bias: $0.bias.astype(.float32).contiguous(), activation: $0.activation) }
        self.transforms = transforms; self.stats = trainingStats
        inputs = [TensorSpec(name: "input", shape: [-1, first.weight.shape[0]])]
        outputs = [TensorSpec(name: "output", shape: [-1, last.weight.shape[1]])]
    }

    public func predict(_ batch: Tensor) throws -> Tensor {
        var x = batch
        for l in layers {
            // ReLU fuses into the GEMM's store loop; the others run after it.
            x = try Tensor.linear(x, weight: l.weight, bias: l.bias, activation: l.activation)
        }
        return x
    }

    /// Random weights (seeded), for tests and benchmarks: sizes [64, 128, 64, 10] gives three layers.
    public static func random(name: String, version: Int, sizes: [Int], seed: UInt64 = 1,
                              transforms: FittedPipeline? = nil) throws -> DenseModel {
        var layers: [Layer] = []
        for i in 0..<(sizes.count - 1) {
            let w = try Tensor.randn([sizes[i], sizes[i + 1]], seed: seed &+ UInt64(i), dtype: .float32) * (1 / Double(sizes[i]).squareRoot())
            let b = try Tensor.randn([sizes[i + 1]], seed: seed &+ 1000 &+ UInt64(i), dtype: .float32) * 0.1
            layers.append(Layer(weight: w, bias: b, activation: i == sizes.count - 2 ? .softmax : .relu))
        }
        return try DenseModel(name: name, version: version, layers: layers, transforms: transforms)
    }

    public static func save(_ m: DenseModel, to path: String) throws {
        var ts: [(String, Tensor)] = []
        for (i, l) in m.layers.enumerated() { ts.append(("layer.\(i).weight", l.weight)); ts.append(("layer.\(i).bias", l.bias)) }
        var meta = ["mlw.kind": "dense", "mlw.activations": m.layers.map(\.activation.rawValue).joined(separator: ",")]
        if let t = m.transforms { meta["mlw.transforms"] = String(decoding: try t.jsonData(), as: UTF8.self) }
        if let s = m.stats { meta["mlw.stats"] = String(decoding: try s.jsonData(), as: UTF8.self) }
        try Safetensors.save(path, ts, metadata: meta)
    }

    public static func load(path: String, name: String, version: Int) throws -> DenseModel {
        let (tensors, meta) = try Safetensors.load(path)
        guard meta["mlw.kind"] == "dense", let acts = meta["mlw.activations"] else {
            throw ServeError.badModel("\(path) is not a dense model file (metadata mlw.kind = dense expected)")
        }
        let byName = Dictionary(tensors, uniquingKeysWith: { a, _ in a })
        var layers: [Layer] = []
        for (i, a) in acts.split(separator: ",").enumerated() {
            guard let act = Activation(rawValue: String(a)) else { throw ServeError.badModel("unknown activation '\(a)'") }
            guard let w = byName["layer.\(i).weight"], let b = byName["layer.\(i).bias"] else {
                throw ServeError.badModel("\(path): missing tensors of layer \(i)")
            }
            layers.append(Layer(weight: w, bias: b, activation: act))
        }
        let transforms = try meta["mlw.transforms"].map { try FittedPipeline(json: Data($0.utf8)) }
        let stats = try meta["mlw.stats"].map { try JSONDecoder().decode(FeatureStats.self, from: Data($0.utf8)) }
        return try DenseModel(name: name, version: version, layers: layers, transforms: transforms, trainingStats: stats)
    }
}

/// Loads safetensors dense-model artifacts as `DenseModel`s.
public struct DenseModelLoader: ModelLoader {
    public init() {}
    public func load(artifactPath: String, name: String, version: Int) throws -> ServableModel {
        try DenseModel.load(path: artifactPath, name: name, version: version)
    }
}
