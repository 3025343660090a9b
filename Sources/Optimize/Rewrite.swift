import Graph
import Tensor

// Editing helpers shared by the passes. A pass may point a node at inputs that come
// later (a new parameter appended at the end); `normalize()` then restores the IR's
// invariant (inputs precede nodes, id == index) with a stable topological sort.

extension Graph {
    /// How many times each node is used (as an input, or as a graph output).
    func useCounts() -> [Int] {
        var c = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for i in n.inputs { c[i] += 1 } }
        for o in outputs { c[o] += 1 }
        return c
    }

    func isParam(_ i: Int) -> Bool { nodes[i].op == "param" }
    func param(of i: Int) -> Tensor? { isParam(i) ? params[nodes[i].name] : nil }

    /// Every reader of `old` (and the graph outputs) reads `new` instead.
    mutating func replaceUses(of old: Int, with new: Int) {
        for k in nodes.indices { nodes[k].inputs = nodes[k].inputs.map { $0 == old ? new : $0 } }
        outputs = outputs.map { $0 == old ? new : $0 }
    }

    /// A new constant (not trained: it is derived from trained weights) with a unique name.
    mutating func addConstant(_ base: String, _ t: Tensor) -> Int {
        var name = base, k = 1
        while params[name] != nil { name = "\(base)_\(k)"; k += 1 }
        let id = nodes.count
        nodes.append(Node(id: id, op: "param", inputs: [], attrs: [:], shape: t.shape.map { .fixed($0) }, dtype: t.dtype, name: name))
        params[name] = t
        buffers.insert(name)
        return id
    }

    /// Keeps the nodes marked in `keep` (inputs of kept nodes must be kept), renumbering ids
    /// in the given order; parameters no node refers to any more are dropped.
    mutating func compact(order: [Int]) {
        var newID = [Int](repeating: -1, count: nodes.count)
        for (k, i) in order.enumerated() { newID[i] = k }
        nodes = order.enumerated().map { k, i in
            var n = nodes[i]; n.id = k; n.inputs = n.inputs.map { newID[$0] }; return n
        }
        inputs = inputs.map { newID[$0] }.filter { $0 >= 0 }
        outputs = outputs.map { newID[$0] }
        let used = Set(nodes.filter { $0.op == "param" }.map(\.name))
        params = params.filter { used.contains($0.key) }
        buffers = buffers.intersection(used)
    }

    /// Stable topological sort (inputs first, otherwise id order), then renumbering.
    mutating func normalize() throws {
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

    /// A node's shape and dtype re-inferred after a pass changed its op, inputs or attrs.
    mutating func reinfer(_ i: Int) throws {
        let n = nodes[i], def = try OpRegistry.op(n.op)
        nodes[i].shape = try def.shape(n.inputs.map { nodes[$0].shape }, n.attrs)
        nodes[i].dtype = def.dtype(n.inputs.map { nodes[$0].dtype }, n.attrs)
    }
}
