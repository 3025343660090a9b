import Graph
import Tensor
import Train

/// Ops between a pruned layer and its consumers that act per unit / per channel and carry
/// no parameters, so they simply get narrower.
private let passThrough: Set<OpName> = OpName.perValue.union([.maxPool2d, .avgPool2d])

/// What reads a layer's output units: the per-unit ops in between (`chain`) and the dense
/// or conv layers at the end (`consumers`, each with the number of its input rows per unit:
/// H·W after a flatten). Nil when some reader cannot follow a change of the units (a graph
/// output, add, concat, reshape...).
func unitReaders(_ g: Graph, users: [[Int]], of id: Int) -> (chain: [Node], consumers: [(Node, Int)])? {
    var chain: [Node] = [], consumers: [(Node, Int)] = [], ok = !g.outputs.contains(id)
    func walk(_ id: Int, factor: Int) {
        for u in users[id] {
            let n = g.nodes[u]
            let inner = passThrough.contains(n.op) || n.op == .batchNorm || n.op == .flatten
            if inner && g.outputs.contains(u) { ok = false }   // the model's output width must not change
            if passThrough.contains(n.op) { chain.append(n); walk(u, factor: factor) }
            else if n.op == .batchNorm && n.inputs[0] == id { chain.append(n); walk(u, factor: factor) }
            else if n.op == .flatten, g.nodes[id].shape.count == 4, let h = g.nodes[id].shape[2].size, let w = g.nodes[id].shape[3].size { walk(u, factor: h * w) }
            else if (n.op == .dense || n.op == .conv2d) && n.inputs[0] == id && (n.op == .dense || factor == 1) { consumers.append((n, factor)) }
            else { ok = false }
        }
    }
    walk(id, factor: 1)
    return ok ? (chain, consumers) : nil
}

/// Structured pruning: removes the `fraction` of output units (dense) or filters (conv)
/// with the smallest L1/L2 weight norm from each selected layer, and shrinks everything
/// that reads them: batch norms (sliced), following dense layers (input rows dropped; after
/// a flatten, blocks of H·W rows) and convs (input channels dropped). A removed unit whose
/// incoming weights are all zero outputs a constant act(bias); that constant is folded into
/// the next dense layer's bias, so pruning dead units changes nothing.
/// Layers feeding a graph output, or read by other ops (add, concat, reshape), are skipped.
func pruneStructured(_ m: Model, fraction: Double, pattern: PrunePattern, method: PruneMethod,
                     layers: [String]?, norm: NormKind, seed: UInt64) throws -> Model {
    let g = m.graph
    let users = g.consumers()
    let op: OpName = pattern == .neurons ? .dense : .conv2d
    var values: [String: Tensor] = [:]
    func value(_ name: String) -> Tensor { values[name] ?? g.params[name]! }
    var pruned = 0
    for (li, l) in weightLayers(g, ops: [op], names: layers).enumerated() {
        guard let (chain, consumers) = unitReaders(g, users: users, of: l.node.id), !consumers.isEmpty else { continue }
        let wName = g.paramName(l.node, 1)!, bName = g.paramName(l.node, 2)
        let w = value(wName), units = op == .dense ? w.shape[1] : w.shape[0]
        let drop = min(units - 1, Int((fraction * Double(units)).rounded(.down)))
        guard drop > 0 else { continue }
        // Score each unit by the norm of its incoming weights (random: seeded noise).
        let wf = w.toFloats(), per = wf.count / units
        var score = [Double](repeating: 0, count: units)
        for u in 0..<units { for p in 0..<per {
            let v = Double(op == .dense ? wf[p * units + u] : wf[u * per + p])
            score[u] += norm == .l1 ? Swift.abs(v) : v * v
        } }
        if method == .random { score = try Tensor.rand([units], seed: mixSeed(seed, UInt64(li))).toDoubles() }
        let ranked = (0..<units).sorted { (score[$0], $0) < (score[$1], $1) }
        let removed = Set(ranked.prefix(drop)), keep = (0..<units).filter { !removed.contains($0) }
        let keepT = try Tensor(keep, shape: [keep.count], dtype: .int32)
        // Dead units (all-zero weights) contribute the constant act(bias): fold it forward.
        let foldable = chain.allSatisfy { OpName.perValue.contains($0.op) } && op == .dense
        let bias = bName.map { value($0).toFloats() } ?? [Float](repeating: 0, count: units)
        var constants: [(Int, Float)] = []
        if foldable {
            for u in removed where score[u] == 0 && method == .magnitude {
                var c = Tensor(scalar: Double(bias[u]))
                if l.node.attrs.activation == .relu { c = c.relu() }
                for n in chain { c = try OpRegistry.op(n.op).forward([c], n.attrs, OpContext(training: false)).0 }
                constants.append((u, Float(try c.item())))
            }
        }
        values[wName] = try w.indexSelect(axis: op == .dense ? 1 : 0, indices: keepT)
        if let bName { values[bName] = try value(bName).indexSelect(axis: 0, indices: keepT) }
        for n in chain where n.op == .batchNorm {
            for k in 1...4 { let p = g.paramName(n, k)!; values[p] = try value(p).indexSelect(axis: 0, indices: keepT) }
        }
        for (c, factor) in consumers {
            let cw = g.paramName(c, 1)!, cv = value(cw)
            if c.op == .dense {
                if let cb = g.paramName(c, 2), factor == 1, !constants.isEmpty {
                    var b = value(cb).toFloats(); let wv = cv.toFloats(), outF = cv.shape[1]
                    for (u, k) in constants { for j in 0..<outF { b[j] += k * wv[u * outF + j] } }
                    values[cb] = try Tensor(b, shape: [outF])
                }
                let rows = keep.flatMap { u in (u * factor)..<((u + 1) * factor) }
                values[cw] = try cv.indexSelect(axis: 0, indices: Tensor(rows, shape: [rows.count], dtype: .int32))
            } else {
                values[cw] = try cv.indexSelect(axis: 1, indices: keepT)
            }
        }
        pruned += 1
    }
    guard pruned > 0 else { throw TrainError("prune: no \(op) layer can lose \(pattern == .neurons ? "units" : "filters") (output layers and layers read by add/concat/reshape are kept)") }
    return try rewrite(m, values: values)
}
