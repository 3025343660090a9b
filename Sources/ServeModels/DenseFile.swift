import Foundation
import Frames
import Serve
import Tensor
import Train

/// A dense MLP stored as safetensors — `layer.N.weight` [in, out], `layer.N.bias` [out],
/// metadata `mlw.kind = "dense"`, `mlw.activations = "relu,relu,softmax"` (none, relu,
/// tanh, sigmoid, softmax), optional `mlw.transforms` (FittedPipeline JSON), `mlw.stats`
/// (FeatureStats JSON), `mlw.task` (ModelTask JSON) and `mlw.serve` (ServePolicy JSON) — as a graph model with input "input", so `mlw serve` runs it like
/// any other model. Python can write these files (Scripts/bench/serve/make_model.py).
func denseModel(safetensors path: String) throws -> Model {
    let (tensors, meta) = try Safetensors.load(path)
    guard meta["mlw.kind"] == "dense", let acts = meta["mlw.activations"] else {
        throw badModel("\(path) is not a dense model file (metadata mlw.kind = dense expected)")
    }
    let byName = Dictionary(tensors, uniquingKeysWith: { a, _ in a })
    let activations: [String: Layer] = ["relu": relu(), "tanh": Train.tanh(), "sigmoid": sigmoid(), "softmax": softmax()]
    var b = ModelBuilder()
    var x = -1, weights: [(node: Int, weight: Tensor, bias: Tensor)] = []
    for (i, a) in acts.split(separator: ",").map(String.init).enumerated() {
        guard a == "none" || activations[a] != nil else { throw badModel("unknown activation '\(a)'") }
        guard let w = byName["layer.\(i).weight"], let bias = byName["layer.\(i).bias"] else {
            throw badModel("\(path): missing tensors of layer \(i)")
        }
        guard w.rank == 2, bias.shape == [w.shape[1]] else {
            throw badModel("layer \(i): weight \(w.shape) and bias \(bias.shape) do not fit")
        }
        if x < 0 { x = try b.input("input", shape: [w.shape[0]]) }
        guard b.graph.nodes[x].shape.last?.size == w.shape[0] else {
            throw badModel("layer \(i) takes \(w.shape[0]) features, layer \(i - 1) gives \(b.graph.nodes[x].shape.last?.size ?? 0)")
        }
        x = try b.apply(dense(w.shape[0], w.shape[1], initializer: .zeros), x)
        weights.append((x, w, bias))
        if let act = activations[a] { x = try b.apply(act, x) }
    }
    guard x >= 0 else { throw badModel("a dense model needs at least one layer") }
    var m = try b.model(outputs: [x])
    for l in weights {
        let ins = m.graph.nodes[l.node].inputs
        m.graph.params[m.graph.nodes[ins[1]].name] = l.weight.astype(.float32).contiguous()
        m.graph.params[m.graph.nodes[ins[2]].name] = l.bias.astype(.float32).contiguous()
    }
    if let t = meta["mlw.transforms"] { m.blobs["transforms"] = t }
    // Optional task record (ModelTask JSON) and serving policy (ServePolicy JSON).
    if let t = meta["mlw.task"] { m.blobs[ModelTask.blobName] = t }
    if let p = meta["mlw.serve"] { m.blobs[ServePolicy.blobName] = p }
    // Drift statistics: the file's own, else those of its transforms.
    if let s = meta["mlw.stats"] { m.blobs["stats"] = s } else if let t = meta["mlw.transforms"] {
        m.blobs["stats"] = String(decoding: try FittedPipeline(json: Data(t.utf8)).stats.jsonData(), as: UTF8.self)
    }
    return m
}

private func badModel(_ m: String) -> ServeError { ServeError(500, "bad model: \(m)") }
