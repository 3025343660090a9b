import Graph
import Tensor
import Train

/// `m` with its graph rebuilt (see `Graph.rebuilt`); the blobs are kept.
func rewrite(_ m: Model, values: [String: Tensor] = [:], _ f: (Node, Rebuild) throws -> Int? = { _, _ in nil }) throws -> Model {
    Model(graph: try m.graph.rebuilt(values: values, f), blobs: m.blobs)
}

/// A layer that holds a weight matrix: dense (float), sparse_dense (CSR), qdense (int8), conv2d.
struct WeightLayer {
    let node: Node
    /// Name prefix of its params ("dense_0" for "dense_0.weight").
    let base: String
    var op: OpName { node.op }
}

func baseName(_ param: String) -> String {
    guard let dot = param.lastIndex(of: ".") else { return param }
    return String(param[..<dot])
}

/// Weight layers in node order, optionally restricted by `names` (a layer's node name,
/// e.g. "dense_0+relu", or its parameter prefix, e.g. "dense_0").
func weightLayers(_ g: Graph, ops: Set<OpName> = OpName.weightLayers, names: [String]? = nil) -> [WeightLayer] {
    g.nodes.compactMap { n -> WeightLayer? in
        guard ops.contains(n.op), let w = g.paramName(n, 1) else { return nil }
        let l = WeightLayer(node: n, base: baseName(w))
        if let names, !names.contains(where: { $0 == n.name || $0 == l.base }) { return nil }
        return l
    }
}

/// Runs the model with extra outputs: the values of the given nodes (eval mode).
public func capture(_ m: Model, _ x: Tensor, _ nodes: [Int]) throws -> [Tensor] {
    var g = m.graph
    g.outputs = nodes
    return try Executor(g).run([m.inputName: x])
}

/// Dense W [in, out] -> CSR of Wᵀ as (values, indices, indptr) tensors for `sparse_dense`.
func csrTensors(_ w: Tensor) throws -> (Tensor, Tensor, Tensor) {
    let csr = try CSRMatrix(dense: w.transpose().contiguous(), threshold: 0)
    return (try Tensor(csr.values, shape: [csr.values.count]),
            try Tensor(csr.indices.map { Int($0) }, shape: [csr.indices.count], dtype: .int32),
            try Tensor(csr.indptr.map { Int($0) }, shape: [csr.indptr.count], dtype: .int32))
}

/// Dense W [in, out] back from a sparse_dense node's CSR arrays.
func denseFromCSR(values: Tensor, indices: Tensor, indptr: Tensor, inFeatures: Int) throws -> Tensor {
    let v = values.toFloats(), ix = indices.toInts(), ip = indptr.toInts()
    let outF = ip.count - 1
    var w = [Float](repeating: 0, count: inFeatures * outF)
    for o in 0..<outF { for p in ip[o]..<ip[o + 1] { w[ix[p] * outF + o] = v[p] } }
    return try Tensor(w, shape: [inFeatures, outF])
}

/// Every sparse_dense node turned back into a float dense node (for training or quantizing).
func densify(_ m: Model) throws -> Model {
    try rewrite(m) { n, r in
        guard n.op == .sparseDense else { return nil }
        let g = r.old
        let w = try denseFromCSR(values: g.params[g.paramName(n, 1)!]!, indices: g.params[g.paramName(n, 2)!]!,
                                 indptr: g.params[g.paramName(n, 3)!]!, inFeatures: n.attrs.int("in", 0))
        var ins = [try r.id(n.inputs[0]), try r.trainable(baseName(g.paramName(n, 1)!) + ".weight", w)]
        if n.inputs.count == 5 { ins.append(try r.id(n.inputs[4])) }
        var attrs: Attrs = [:]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        return try r.g.op(.dense, ins, attrs, label: n.name)
    }
}

/// Dense nodes named in `layers` switched to CSR storage and the sparse kernel.
func sparsify(_ m: Model, layers: Set<String>) throws -> Model {
    try rewrite(m) { n, r in
        guard n.op == .dense, layers.contains(n.name), let wn = r.old.paramName(n, 1) else { return nil }
        let w = r.old.params[wn]!
        let (v, ix, ip) = try csrTensors(w)
        let base = baseName(wn)
        var ins = [try r.id(n.inputs[0]), try r.buffer(base + ".csr_values", v), try r.buffer(base + ".csr_indices", ix), try r.buffer(base + ".csr_indptr", ip)]
        if n.inputs.count == 3 { ins.append(try r.id(n.inputs[2])) }
        var attrs: Attrs = ["in": .int(w.shape[0])]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        return try r.g.op(.sparseDense, ins, attrs, label: n.name)
    }
}

/// Fraction of exact zeros.
func zeroFraction(_ t: Tensor) -> Double {
    let v = t.toFloats()
    return v.isEmpty ? 0 : Double(v.filter { $0 == 0 }.count) / Double(v.count)
}
