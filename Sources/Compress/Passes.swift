import Graph
import Tensor
import Train

// Compression's storage rewrites as graph passes: entries of the optimizer's pass table
// (`Optimize/Pass.swift`) that no level enables, run by name
// (`optimize(m, passes: ["sparsify"])`, in scripts `optimize(m, passes: ["sparsify"])`).
// `prune`, `quantize` and `finetune` call the same rewrites with their own choices.

/// The names of the nodes with op `op`.
private func names(_ g: Graph, _ op: OpName) -> [String] { g.nodes.filter { $0.op == op }.map(\.name) }

/// Every CSR layer back to a float dense layer.
public func densifyPass(_ g: inout Graph) throws -> [String] {
    let layers = names(g, .sparseDense)
    guard !layers.isEmpty else { return [] }
    g = try densify(Model(graph: g)).graph
    return layers.map { "densified \($0)" }
}

/// Float dense layers whose weights are at least `defaultCSRSparsity` zeros switched to
/// CSR storage and the sparse kernel (what `prune` does after masking).
public func sparsifyPass(_ g: inout Graph) throws -> [String] {
    let layers = weightLayers(g, ops: [.dense]).filter { l in
        guard let w = g.paramName(l.node, 1).flatMap({ g.params[$0] }), w.dtype == .float32 else { return false }
        return zeroFraction(w) >= defaultCSRSparsity
    }.map(\.node.name)
    guard !layers.isEmpty else { return [] }
    g = try sparsify(Model(graph: g), layers: Set(layers)).graph
    return layers.map { "sparsified \($0) (CSR)" }
}

/// Float dense layers to int8 `qdense` with the defaults of `quantize` (dynamic
/// activation scales, per-channel symmetric weights).
public func quantizePass(_ g: inout Graph) throws -> [String] {
    guard weightLayers(g, ops: [.dense, .sparseDense]).count > 0 else { return [] }
    let before = Set(names(g, .qdense))
    g = try quantize(Model(graph: g)).graph
    return names(g, .qdense).filter { !before.contains($0) }.map { "quantized \($0) (int8)" }
}

/// int8 layers back to float dense layers with dequantized weights.
public func dequantizePass(_ g: inout Graph) throws -> [String] {
    let layers = names(g, .qdense)
    guard !layers.isEmpty else { return [] }
    g = try dequantized(Model(graph: g)).graph
    return layers.map { "dequantized \($0)" }
}
