import Tensor

// The one graph-edit API. The optimizer's passes and compression's rewrites (sparsify,
// densify, quantize, structured pruning) all edit graphs through it, and all of them are
// entries of one pass table (`Optimize/Pass.swift`). Two ways to finish an edit:
//
// - In place: point nodes at new inputs, change ops and attributes, append constants,
//   then `normalize()` restores the IR's invariant (inputs precede nodes, id == index)
//   with a stable topological sort. Passes that keep every shape use this.
// - `rebuilt(values:_:)`: copies the graph node by node through `op`, so every shape is
//   re-inferred (structured pruning changes widths), with a closure that may replace a node
//   by new ones; parameters are emitted right before their first user, so one no node
//   uses any more (a dense weight replaced by CSR arrays) simply disappears.

extension Graph {
    /// How many times each node is used (as an input, or as a graph output).
    public func useCounts() -> [Int] {
        var c = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for i in n.inputs { c[i] += 1 } }
        for o in outputs { c[o] += 1 }
        return c
    }

    public func isParam(_ i: Int) -> Bool { nodes[i].op == .param }
    public func param(of i: Int) -> Tensor? { isParam(i) ? params[nodes[i].name] : nil }
    /// The name of node n's input k when that input is a parameter.
    public func paramName(_ n: Node, _ k: Int) -> String? { k < n.inputs.count && isParam(n.inputs[k]) ? nodes[n.inputs[k]].name : nil }

    /// Every reader of `old` (and the graph outputs) reads `new` instead.
    public mutating func replaceUses(of old: Int, with new: Int) {
        for k in nodes.indices { nodes[k].inputs = nodes[k].inputs.map { $0 == old ? new : $0 } }
        outputs = outputs.map { $0 == old ? new : $0 }
    }

    /// A new constant (not trained: it is derived from trained weights) with a unique name.
    public mutating func addConstant(_ base: String, _ t: Tensor) -> Int {
        var name = base, k = 1
        while params[name] != nil { name = "\(base)_\(k)"; k += 1 }
        let id = nodes.count
        nodes.append(Node(id: id, op: .param, inputs: [], attrs: [:], shape: t.shape.map { .fixed($0) }, dtype: t.dtype, name: name))
        params[name] = t
        buffers.insert(name)
        return id
    }

    /// Keeps the nodes marked in `keep` (inputs of kept nodes must be kept), renumbering ids
    /// in the given order; parameters no node refers to any more are dropped.
    public mutating func compact(order: [Int]) {
        var newID = [Int](repeating: -1, count: nodes.count)
        for (k, i) in order.enumerated() { newID[i] = k }
        nodes = order.enumerated().map { k, i in
            var n = nodes[i]; n.id = k; n.inputs = n.inputs.map { newID[$0] }; return n
        }
        inputs = inputs.map { newID[$0] }.filter { $0 >= 0 }
        outputs = outputs.map { newID[$0] }
        let used = Set(nodes.filter { $0.op == .param }.map(\.name))
        params = params.filter { used.contains($0.key) }
        buffers = buffers.intersection(used)
    }

    /// Stable topological sort (inputs first, otherwise id order), then renumbering.
    public mutating func normalize() throws {
        var state = [UInt8](repeating: 0, count: nodes.count)   // 0 new, 1 on the stack, 2 done
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        for root in nodes.indices where state[root] == 0 {
            var stack: [(Int, Int)] = [(root, 0)]
            state[root] = 1
            while let (n, k) = stack.last {
                if k < nodes[n].inputs.count {
                    stack[stack.count - 1].1 += 1
                    let j = nodes[n].inputs[k]
                    if state[j] == 1 { throw GraphError("optimize: a rewrite made a cycle through node \(j) (\(nodes[j].op))") }
                    if state[j] == 0 { state[j] = 1; stack.append((j, 0)) }
                } else { state[n] = 2; order.append(n); stack.removeLast() }
            }
        }
        if order != Array(nodes.indices) { compact(order: order) }
    }

    /// A node's shape and dtype re-inferred after an edit changed its op, inputs or attrs.
    public mutating func reinfer(_ i: Int) throws {
        let n = nodes[i], def = try OpRegistry.op(n.op)
        nodes[i].shape = try def.shape(n.inputs.map { nodes[$0].shape }, n.attrs)
        nodes[i].dtype = def.dtype(n.inputs.map { nodes[$0].dtype }, n.attrs)
    }

    /// The graph copied node by node (see the top of this file), with parameter values
    /// from `values` where given (shapes may differ). `replace` sees each op node of the old
    /// graph and returns the new id of what it built instead, or nil to copy the node.
    ///
    ///     let g2 = try g.rebuilt { n, r in n.op == .fakeQuant ? try r.id(n.inputs[0]) : nil }
    public func rebuilt(values: [String: Tensor] = [:], _ replace: (Node, Rebuild) throws -> Int? = { _, _ in nil }) throws -> Graph {
        let r = Rebuild(self, values: values)
        for n in nodes {
            switch n.op {
            case .input: r.map[n.id] = try r.g.input(n.name, shape: n.shape, dtype: n.dtype)
            case .param: continue
            default:
                if let j = try replace(n, r) { r.map[n.id] = j; continue }
                r.map[n.id] = try r.g.op(n.op, try n.inputs.map { try r.id($0) }, n.attrs, label: n.name)
            }
        }
        r.g.outputs = try outputs.map { try r.id($0) }
        try r.g.verify()
        return r.g
    }
}

/// The state of `Graph.rebuilt`: the old graph, the new one being built and the map
/// between their ids.
public final class Rebuild {
    public let old: Graph
    public var g = Graph()
    /// Old node id -> new node id.
    var map: [Int: Int] = [:]
    /// Param values to use instead of the old ones.
    let values: [String: Tensor]

    init(_ old: Graph, values: [String: Tensor]) { self.old = old; self.values = values }

    /// The new id of old node `i` (emitting it first when it is a param not yet used).
    public func id(_ i: Int) throws -> Int {
        if let j = map[i] { return j }
        let n = old.nodes[i]
        guard n.op == .param else { throw GraphError("rewrite: node \(i) used before it was built") }
        let j = try g.param(n.name, values[n.name] ?? old.params[n.name]!, trainable: !old.buffers.contains(n.name))
        map[i] = j
        return j
    }

    /// A new non-trained parameter (CSR arrays, int8 weights, scales).
    public func buffer(_ name: String, _ t: Tensor) throws -> Int { try g.param(name, t, trainable: false) }
    public func trainable(_ name: String, _ t: Tensor) throws -> Int { try g.param(name, t, trainable: true) }
}
