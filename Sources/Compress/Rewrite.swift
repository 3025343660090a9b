import Graph
import Tensor
import Train

/// Rebuilds a graph node by node through the public `Graph` API, so every shape is
/// re-inferred (structured pruning changes widths) and node order stays topological.
/// Params are emitted lazily, right before their first user: a param no node uses any
/// more (a dense weight replaced by CSR arrays) simply disappears.
final class GraphRewriter {
    let old: Graph
    var g = Graph()
    /// Old node id -> new node id.
    var map: [Int: Int] = [:]
    /// Param values to use instead of the old ones (shapes may differ).
    var values: [String: Tensor] = [:]

    init(_ old: Graph) { self.old = old }

    /// The new id of old node `i` (emitting it first when it is a param not yet used).
    func id(_ i: Int) throws -> Int {
        if let j = map[i] { return j }
        let n = old.nodes[i]
        guard n.op == "param" else { throw GraphError("rewrite: node \(i) used before it was built") }
        let j = try g.param(n.name, values[n.name] ?? old.params[n.name]!, trainable: !old.buffers.contains(n.name))
        map[i] = j
        return j
    }

    /// A new non-trained parameter (CSR arrays, int8 weights, scales).
    func buffer(_ name: String, _ t: Tensor) throws -> Int { try g.param(name, t, trainable: false) }
    func trainable(_ name: String, _ t: Tensor) throws -> Int { try g.param(name, t, trainable: true) }

    /// Copies every node; `rewrite` returns the new id of a node it replaced, or nil to copy it.
    func run(_ rewrite: (Node, GraphRewriter) throws -> Int? = { _, _ in nil }) throws -> Graph {
        for n in old.nodes {
            switch n.op {
            case "input": map[n.id] = try g.input(n.name, shape: n.shape, dtype: n.dtype)
            case "param": continue
            default:
                if let j = try rewrite(n, self) { map[n.id] = j; continue }
                map[n.id] = try g.op(n.op, try n.inputs.map { try id($0) }, n.attrs, label: n.name)
            }
        }
        g.outputs = try old.outputs.map { try id($0) }
        try g.verify()
        return g
    }
}

func rewrite(_ m: Model, values: [String: Tensor] = [:], _ f: (Node, GraphRewriter) throws -> Int? = { _, _ in nil }) throws -> Model {
    let r = GraphRewriter(m.graph)
    r.values = values
    return Model(graph: try r.run(f), blobs: m.blobs)
}

/// A layer that holds a weight matrix: dense (float), sparse_dense (CSR), qdense (int8), conv2d.
struct WeightLayer {
    let node: Node
    /// Name prefix of its params ("dense_0" for "dense_0.weight").
    let base: String
    var op: String { node.op }
}

func paramName(_ g: Graph, _ n: Node, _ k: Int) -> String? {
    k < n.inputs.count && g.nodes[n.inputs[k]].op == "param" ? g.nodes[n.inputs[k]].name : nil
}

func baseName(_ param: String) -> String {
    guard let dot = param.lastIndex(of: ".") else { return param }
    return String(param[..<dot])
}

/// Weight layers in node order, optionally restricted by `names` (a layer's node name,
/// e.g. "dense_0+relu", or its parameter prefix, e.g. "dense_0").
func weightLayers(_ g: Graph, ops: Set<String> = ["dense", "sparse_dense", "qdense", "conv2d"], names: [String]? = nil) -> [WeightLayer] {
    g.nodes.compactMap { n -> WeightLayer? in
        guard ops.contains(n.op), let w = paramName(g, n, 1) else { return nil }
        let l = WeightLayer(node: n, base: baseName(w))
        if let names, !names.contains(where: { $0 == n.name || $0 == l.base }) { return nil }
        return l
    }
}

/// Runs the model with extra outputs: the values of the given nodes (eval mode).
func capture(_ m: Model, _ x: Tensor, _ nodes: [Int]) throws -> [Tensor] {
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
        guard n.op == "sparse_dense" else { return nil }
        let g = r.old
        let w = try denseFromCSR(values: g.params[paramName(g, n, 1)!]!, indices: g.params[paramName(g, n, 2)!]!,
                                 indptr: g.params[paramName(g, n, 3)!]!, inFeatures: n.attrs.int("in", 0))
        var ins = [try r.id(n.inputs[0]), try r.trainable(baseName(paramName(g, n, 1)!) + ".weight", w)]
        if n.inputs.count == 5 { ins.append(try r.id(n.inputs[4])) }
        var attrs: Attrs = [:]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        return try r.g.op("dense", ins, attrs, label: n.name)
    }
}

/// Dense nodes named in `layers` switched to CSR storage and the sparse kernel.
func sparsify(_ m: Model, layers: Set<String>) throws -> Model {
    try rewrite(m) { n, r in
        guard n.op == "dense", layers.contains(n.name), let wn = paramName(r.old, n, 1) else { return nil }
        let w = r.old.params[wn]!
        let (v, ix, ip) = try csrTensors(w)
        let base = baseName(wn)
        var ins = [try r.id(n.inputs[0]), try r.buffer(base + ".csr_values", v), try r.buffer(base + ".csr_indices", ix), try r.buffer(base + ".csr_indptr", ip)]
        if n.inputs.count == 3 { ins.append(try r.id(n.inputs[2])) }
        var attrs: Attrs = ["in": .int(w.shape[0])]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        return try r.g.op("sparse_dense", ins, attrs, label: n.name)
    }
}

/// Fraction of exact zeros.
func zeroFraction(_ t: Tensor) -> Double {
    let v = t.toFloats()
    return v.isEmpty ? 0 : Double(v.filter { $0 == 0 }.count) / Double(v.count)
}
