import Frames
import Foundation
import Graph
import Hummingbird
import Lang
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

/// Loads registry artifacts for `mlw serve`: MLW model files, and dense MLPs in safetensors
/// (`denseModel(safetensors:)`, DenseFile.swift), both served through their compiled graph.
public struct MLWModelLoader: ModelLoader {
    public init() {}
    public func load(artifactPath: String, name: String, version: Int) throws -> ServableModel {
        let head = (FileHandle(forReadingAtPath: artifactPath)?.readData(ofLength: 8)).map { Array($0) } ?? []
        if head == ModelFile.magic {
            return try GraphServable(try loadModel(artifactPath), name: name, version: version)
        }
        // Their outputs were never treated as logits (a final softmax is in the file when wanted).
        return try GraphServable(try denseModel(safetensors: artifactPath), name: name, version: version, outputsAreLogits: false)
    }
}

let serveLibrary = Library("serve", doc: "Serve an in-memory model over HTTP (KServe V2 and /predict).", [
    NativeFunction("serve", [Param("model", .native("model")), Param("port", .int, .int(8080)), Param("host", .string, .string("127.0.0.1")),
                             Param("name", .string, .string("model")), Param("max_batch", .int, .int(32)), Param("max_delay_us", .int, .int(500))],
                   doc: "Serve a model from a script or the REPL until Ctrl-C (KServe V2 at /v2/models/NAME/infer, raw records at /predict). `mlw serve NAME@ALIAS` serves registry versions.",
                   example: "fn later(m) = serve(m, port: 8081, name: \"iris\")") { a in
        let m = try a.native("model", as: ModelValue.self, "model").model
        var config = ServeConfig()
        config.port = try a.int("port")
        config.host = try a.string("host")
        config.maxBatch = try positive(a, "max_batch")
        config.maxDelayMicros = try a.int("max_delay_us")
        guard (0...65535).contains(config.port) else { throw a.invalid("port", "must be 0...65535") }
        let servable = try GraphServable(m, name: try a.string("name"), version: 1)
        let server = InferenceServer(config: config)
        try server.add(servable)
        // The server runs on the concurrency pool; this (interpreter) thread waits for it.
        let done = DispatchSemaphore(value: 0)
        let box = ErrorBox()
        let out = a.interpreter.output
        let (host, port) = (config.host, config.port)
        Task.detached {
            do {
                let app = server.application { channel in
                    out("serving '\(servable.name)' on http://\(host):\(channel.localAddress?.port ?? port) (Ctrl-C stops)\n")
                }
                try await app.runService()
            } catch { box.error = error }
            done.signal()
        }
        done.wait()
        server.retireAll()
        if let e = box.error { throw NativeError("serve: \(e)") }
        return .nil
    },
])

private final class ErrorBox: @unchecked Sendable { var error: Error? }
