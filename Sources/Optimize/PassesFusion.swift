import Graph
import Tensor

// Level-2 passes that merge a layer with what follows it: batch-norm folding and
// dense/conv + bias + activation fusion.

/// batch_norm(dense(x) or conv2d(x)) in eval mode is an affine map per output channel,
/// so it folds into the layer: s = γ/√(var+ε), W' = W·s (per output), b' = (b−μ)·s + β.
/// Needs: the layer's result used only by the batch norm, constant weights and stats,
/// no activation yet, and (dense) a 2-D output so channel axis 1 is the feature axis.
func foldBatchNorm(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    for i in g.nodes.indices where g.nodes[i].op == .batchNorm {
        let bn = g.nodes[i], p = g.nodes[bn.inputs[0]]
        let uses = g.useCounts()
        guard [.dense, .conv2d].contains(p.op), p.attrs.activation == Activation.none, uses[p.id] == 1,
              p.op == .conv2d || p.shape.count == 2,
              let w = g.param(of: p.inputs[1]), bn.inputs[1...4].allSatisfy({ g.isParam($0) }) else { continue }
        let bias = p.inputs.count == 3 ? g.param(of: p.inputs[2]) : nil
        if p.inputs.count == 3 && bias == nil { continue }
        let eps = bn.attrs.double("eps", 1e-5)
        let (gamma, beta, mean, variance) = (g.param(of: bn.inputs[1])!.toDoubles(), g.param(of: bn.inputs[2])!.toDoubles(),
                                             g.param(of: bn.inputs[3])!.toDoubles(), g.param(of: bn.inputs[4])!.toDoubles())
        let outC = gamma.count
        let scale = (0..<outC).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
        var wv = w.toDoubles()
        if p.op == .dense {            // W [in, out]: scale columns
            for k in wv.indices { wv[k] *= scale[k % outC] }
        } else {                        // W [O, C, kh, kw]: scale each output filter
            let per = wv.count / outC
            for k in wv.indices { wv[k] *= scale[k / per] }
        }
        let bv = bias?.toDoubles() ?? [Double](repeating: 0, count: outC)
        let nb = (0..<outC).map { (bv[$0] - mean[$0]) * scale[$0] + beta[$0] }
        let newW = g.addConstant("\(p.name).bn_weight", try Tensor(wv, shape: w.shape, dtype: w.dtype))
        let newB = g.addConstant("\(p.name).bn_bias", try Tensor(nb, shape: [outC], dtype: w.dtype))
        g.nodes[p.id].inputs = [p.inputs[0], newW, newB]
        g.nodes[p.id].name = "\(p.name)+\(bn.name)"
        g.replaceUses(of: i, with: p.id)
        log.append("folded \(bn.name) into \(p.name)")
    }
    return log
}

/// matmul(x, W) + b with constant W [in, out] and b [out] becomes one dense node; then a
/// dense or conv2d followed only by an activation applies it in the same kernel call:
/// dense+relu in the GEMM's store loop, others through `dense_act` / `conv2d_act`.
func fuseDenseActivation(_ g: inout Graph) throws -> [String] {
    var log: [String] = []
    for i in g.nodes.indices {
        let n = g.nodes[i]
        // matmul + bias add -> dense (the add node becomes the dense node).
        if n.op == .add {
            for (mi, bi) in [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])] {
                let m = g.nodes[mi]
                guard m.op == .matmul, g.useCounts()[mi] == 1, let w = g.param(of: m.inputs[1]), w.rank == 2,
                      let b = g.param(of: bi), b.shape == [w.shape[1]], n.shape == m.shape, n.dtype == m.dtype else { continue }
                g.nodes[i].op = .dense; g.nodes[i].inputs = [m.inputs[0], m.inputs[1], bi]; g.nodes[i].attrs = [:]
                g.nodes[i].name = "\(m.name)+\(n.name)"
                try g.reinfer(i)
                log.append("fused \(m.name) + \(n.name) into dense")
                break
            }
            continue
        }
        guard let act = Activation(op: n.op), fusableActivations.contains(act) else { continue }
        let p = g.nodes[n.inputs[0]]
        guard [.dense, .conv2d].contains(p.op), p.attrs.activation == Activation.none,
              g.useCounts()[p.id] == 1, p.dtype == .float32 else { continue }
        var attrs = p.attrs
        if p.op == .dense && act == .relu {
            attrs["activation"] = .activation(.relu)
        } else {
            g.nodes[p.id].op = p.op == .dense ? .denseAct : .conv2dAct
            attrs["activation"] = .activation(act)
            if act == .leakyRelu { attrs["slope"] = .double(n.attrs.double("slope", 0.01)) }
        }
        g.nodes[p.id].attrs = attrs
        g.nodes[p.id].name = "\(p.name)+\(n.name)"
        g.replaceUses(of: i, with: p.id)
        log.append("fused \(p.name) + \(n.name) into \(g.nodes[p.id].op)")
    }
    return log
}
