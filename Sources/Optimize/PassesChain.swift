import Graph
import Tensor

// Passes over chains: elementwise-op fusion and reshape/transpose simplification.

let unaryElementwise: Set<OpName> = Set(fusableActivations.map(\.op))
let binaryElementwise: Set<OpName> = OpName.binaryElementwise

/// A maximal chain of float32 elementwise nodes, each used only by the next, all with the
/// shape of the chain's input, becomes one `elementwise` node (the last node of the chain
/// is rewritten; the rest become dead). Operands (bias, residual) become extra inputs.
func fuseElementwise(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    var taken = [Bool](repeating: false, count: g.nodes.count)
    let uses = g.useCounts(), consumers = g.consumers()
    func fusable(_ i: Int) -> Bool {
        let n = g.nodes[i]
        return !taken[i] && n.dtype == .float32 && (unaryElementwise.contains(n.op) || binaryElementwise.contains(n.op))
    }
    for head in g.nodes.indices where fusable(head) {
        // Walk forward while the value flows into exactly one elementwise consumer of the same shape.
        var chain = [head]
        while let last = chain.last, uses[last] == 1, consumers[last].count == 1, !g.outputs.contains(last),
              fusable(consumers[last][0]), g.nodes[consumers[last][0]].shape == g.nodes[head].shape {
            chain.append(consumers[last][0])
        }
        // The chain's running value must have the output shape from the start.
        let h = g.nodes[head]
        var x = h.inputs[0], headSwapped = false
        if binaryElementwise.contains(h.op), g.nodes[x].shape != h.shape {
            x = h.inputs[1]; headSwapped = true
            if g.nodes[x].shape != h.shape { continue }
        }
        guard chain.count >= 2, g.nodes[x].shape == h.shape else { continue }
        var ins = [x], steps: [ChainStep] = []
        var prev = -1
        for (k, c) in chain.enumerated() {
            let n = g.nodes[c]
            if unaryElementwise.contains(n.op) {
                steps.append(ChainStep(op: n.op, slope: n.attrs.double("slope", 0.01)))
                prev = c; continue
            }
            // Binary: which side is the running value?
            let valueLeft: Bool
            if k == 0 { valueLeft = !headSwapped } else { valueLeft = n.inputs[0] == prev }
            let other = valueLeft ? n.inputs[1] : n.inputs[0]
            if k > 0 && n.inputs[0] == prev && n.inputs[1] == prev { chain = Array(chain[..<k]); break }   // v op v: end the chain before it
            let slot = ins.firstIndex(of: other) ?? { ins.append(other); return ins.count - 1 }()
            steps.append(ChainStep(op: n.op, operand: slot, reversed: !valueLeft && (n.op == .sub || n.op == .div)))
            prev = c
        }
        guard chain.count >= 2, steps.count == chain.count else { continue }
        let last = chain[chain.count - 1]
        g.nodes[last].op = .elementwise
        g.nodes[last].inputs = ins
        g.nodes[last].attrs = ["steps": .chain(steps)]
        g.nodes[last].name = chain.map { g.nodes[$0].name }.joined(separator: "+")
        try g.reinfer(last)
        for c in chain { taken[c] = true }
        log.append("fused \(chain.count) ops into \(g.nodes[last].name): \(ChainStep.text(steps))")
    }
    return log
}

/// reshape/flatten of a reshape/flatten reads the first one's input directly (one
/// reshape, or none if the shape comes back); transpose of a transpose is one transpose
/// with the composed permutation (none if that is the identity).
func simplifyReshape(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    let reshapes: Set<OpName> = [.reshape, .flatten]
    for i in g.nodes.indices {
        let n = g.nodes[i], inner = g.nodes[n.inputs.first ?? i]
        if reshapes.contains(n.op), n.inputs.count == 1, reshapes.contains(inner.op) {
            let src = inner.inputs[0], srcShape = g.nodes[src].shape
            if srcShape == n.shape { g.replaceUses(of: i, with: src); log.append("dropped \(inner.name) + \(n.name) (shape restored)"); continue }
            // Spec: fixed sizes, 0 where the batch dim sits at the same position in the source.
            var spec: [Int] = []
            for (k, d) in n.shape.enumerated() {
                if let s = d.size { spec.append(s) } else if k < srcShape.count, srcShape[k] == .batch { spec.append(0) } else { spec = []; break }
            }
            guard !spec.isEmpty else { continue }
            g.nodes[i].op = .reshape; g.nodes[i].inputs = [src]; g.nodes[i].attrs = ["shape": .ints(spec)]
            try g.reinfer(i)
            log.append("merged \(inner.name) + \(n.name) into one reshape")
        } else if n.op == .transpose, inner.op == .transpose {
            let rank = n.shape.count
            let p1 = inner.attrs.ints("perm") ?? Array((0..<rank).reversed()), p2 = n.attrs.ints("perm") ?? Array((0..<rank).reversed())
            let perm = p2.map { p1[$0] }
            if perm == Array(0..<rank) { g.replaceUses(of: i, with: inner.inputs[0]); log.append("dropped \(inner.name) + \(n.name) (identity)"); continue }
            g.nodes[i].inputs = [inner.inputs[0]]; g.nodes[i].attrs = ["perm": .ints(perm)]
            try g.reinfer(i)
            log.append("composed \(inner.name) + \(n.name)")
        }
    }
    return log
}
