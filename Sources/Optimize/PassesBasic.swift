import Graph
import Tensor

// Level-1 passes: dead nodes, common subexpressions, constant folding, identities.

/// Removes every node the outputs do not need (graph inputs stay: they are the interface).
func deadNodes(_ g: inout Graph) throws -> [String] {
    var live = [Bool](repeating: false, count: g.nodes.count)
    for o in g.outputs { live[o] = true }
    for i in g.inputs { live[i] = true }
    for i in stride(from: g.nodes.count - 1, through: 0, by: -1) where live[i] { for j in g.nodes[i].inputs { live[j] = true } }
    let dead = g.nodes.indices.filter { !live[$0] }
    guard !dead.isEmpty else { return [] }
    let log = dead.map { "removed \(g.nodes[$0].name) (\(g.nodes[$0].op))" }
    g.compact(order: g.nodes.indices.filter { live[$0] })
    return log
}

/// Ops whose result depends on more than their inputs and attributes (never merged or folded).
let impureOps: Set<OpName> = [.dropout]

private struct CSEKey: Hashable { let op: OpName; let inputs: [Int]; let attrs: Attrs }

/// Later duplicates of (op, inputs, attrs) read the first copy instead.
func commonSubexpressions(_ g: inout Graph) throws -> [String] {
    var seen: [CSEKey: Int] = [:], log: [String] = []
    var alias = Array(g.nodes.indices)
    for i in g.nodes.indices {
        g.nodes[i].inputs = g.nodes[i].inputs.map { alias[$0] }
        let n = g.nodes[i]
        guard n.op != .input, n.op != .param, !impureOps.contains(n.op) else { continue }
        let key = CSEKey(op: n.op, inputs: n.inputs, attrs: n.attrs)
        if let first = seen[key] { alias[i] = first; log.append("\(n.name) = \(g.nodes[first].name)") } else { seen[key] = i }
    }
    g.outputs = g.outputs.map { alias[$0] }
    return log
}

/// Nodes whose inputs are all constants are computed once (eval mode) and become
/// constants. Results larger than 4M elements stay ops (folding would bloat the model).
func constantFold(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    for i in g.nodes.indices {
        let n = g.nodes[i]
        guard n.op != .input, n.op != .param, !impureOps.contains(n.op), !n.inputs.isEmpty,
              n.inputs.allSatisfy({ g.isParam($0) }) else { continue }
        if let c = n.shape.reduce(Optional(1), { acc, d in d.size.flatMap { s in acc.map { $0 * s } } }), c > 4 << 20 { continue }
        let def = try OpRegistry.op(n.op)
        let y = try def.forward(n.inputs.map { g.param(of: $0)! }, n.attrs, OpContext(training: false)).0
        let c = g.addConstant("\(n.name).folded", y)
        g.replaceUses(of: i, with: c)
        log.append("folded \(n.name) (\(n.op)) into constant \(g.nodes[c].name)")
    }
    return log
}

private func isConstant(_ g: Graph, _ i: Int, _ value: Double) -> Bool {
    guard let t = g.param(of: i), t.count <= 1 << 16 else { return false }
    return t.toDoubles().allSatisfy { $0 == value }
}

/// Nodes that return their (first) input unchanged in eval mode.
func eliminateIdentity(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    for i in g.nodes.indices {
        let n = g.nodes[i]
        var source: Int? = nil
        switch n.op {
        case .dropout: source = n.inputs[0]
        case .reshape, .flatten: if g.nodes[n.inputs[0]].shape == n.shape { source = n.inputs[0] }
        case .transpose: if let p = n.attrs.ints("perm"), p == Array(p.indices) { source = n.inputs[0] }
        case .concat: if n.inputs.count == 1 { source = n.inputs[0] }
        case .add, .mul, .sub, .div:
            let unit: Double = n.op == .add || n.op == .sub ? 0 : 1
            let (a, b) = (n.inputs[0], n.inputs[1])
            if isConstant(g, b, unit), g.nodes[a].shape == n.shape, g.nodes[a].dtype == n.dtype { source = a }
            else if (n.op == .add || n.op == .mul), isConstant(g, a, unit), g.nodes[b].shape == n.shape, g.nodes[b].dtype == n.dtype { source = b }
        default: break
        }
        guard let s = source, g.nodes[s].dtype == n.dtype else { continue }
        g.replaceUses(of: i, with: s)
        log.append("dropped \(n.name) (\(n.op))")
    }
    return log
}

/// quantize(dequantize(q)) with the same scale and zero point is q. The op table has no
/// quantize ops yet, so this finds nothing; it becomes live when `quantize`/`dequantize` exist.
func eliminateQDQ(_ g: inout Graph) throws -> [String] {
    guard OpRegistry.ops[.quantize] != nil, OpRegistry.ops[.dequantize] != nil else { return [] }
    var log: [String] = []
    for i in g.nodes.indices where g.nodes[i].op == .quantize {
        let q = g.nodes[i], d = g.nodes[q.inputs[0]]
        guard d.op == .dequantize, d.attrs == q.attrs, Array(d.inputs.dropFirst()) == Array(q.inputs.dropFirst()),
              g.nodes[d.inputs[0]].dtype == q.dtype, g.nodes[d.inputs[0]].shape == q.shape else { continue }
        g.replaceUses(of: i, with: d.inputs[0])
        log.append("dropped \(d.name) + \(q.name)")
    }
    return log
}
