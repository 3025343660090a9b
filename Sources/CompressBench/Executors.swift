import Graph
import Tensor

/// `Executor` clashes with Foundation's concurrency protocol in main.swift; this file does
/// not import Foundation.
func runner(_ g: Graph) throws -> ([String: Tensor]) throws -> Void {
    let e = try Executor(g)
    return { feeds in _ = try e.run(feeds) }
}

/// The graph's ops called in order, with params and op definitions looked up once: what a
/// forward pass costs without the executor's per-node bookkeeping. A diagnostic for the
/// batch-1 floor (kernels + op wrappers only), not a second executor.
func opsOnly(_ g: Graph) throws -> ([String: Tensor]) throws -> Tensor {
    var base = [Tensor?](repeating: nil, count: g.nodes.count)
    var steps: [(id: Int, inputs: [Int], attrs: Attrs, forward: ([Tensor], Attrs, OpContext) throws -> (Tensor, [Tensor]))] = []
    for n in g.nodes {
        switch n.op {
        case "input": continue
        case "param": base[n.id] = g.params[n.name]
        default: steps.append((n.id, n.inputs, n.attrs, try OpRegistry.op(n.op).forward))
        }
    }
    let inputs = g.inputs.map { (id: $0, name: g.nodes[$0].name) }, out = g.outputs[0]
    let ctx = OpContext(training: false)
    return { feeds in
        var values = base
        for i in inputs { values[i.id] = feeds[i.name] }
        for s in steps { values[s.id] = try s.forward(s.inputs.map { values[$0]! }, s.attrs, ctx).0 }
        return values[out]!
    }
}

/// Per-step p50 (µs) of opsOnly's steps: where a forward pass's time goes.
func stepTimes(_ g: Graph, _ x: Tensor, now: () -> UInt64) throws -> [(String, Double)] {
    var values = [Tensor?](repeating: nil, count: g.nodes.count)
    for n in g.nodes where n.op == "param" { values[n.id] = g.params[n.name] }
    values[g.inputs[0]] = x
    let ctx = OpContext(training: false)
    var out: [(String, Double)] = []
    for n in g.nodes where n.op != "param" && n.op != "input" {
        let f = try OpRegistry.op(n.op).forward
        let ins = n.inputs.map { values[$0]! }
        var ts: [Double] = []
        for _ in 0..<3000 { let t0 = now(); _ = try f(ins, n.attrs, ctx); ts.append(Double(now() - t0) / 1000) }
        ts.sort()
        values[n.id] = try f(ins, n.attrs, ctx).0
        out.append(("\(n.name) \(n.op) \(ins[0].shape)", ts[1500]))
    }
    return out
}
