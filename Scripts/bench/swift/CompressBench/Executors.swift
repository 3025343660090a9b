import Graph
import Tensor

/// `Executor` clashes with Foundation's concurrency protocol in main.swift; this file does
/// not import Foundation.
func runner(_ g: Graph) throws -> ([String: Tensor]) throws -> Void {
    let e = try Executor(g)
    return { feeds in _ = try e.run(feeds) }
}

/// Per-layer p50 (µs) of a graph's op nodes at the given input, each called on its own:
/// the layers' share of a forward pass (kernels and op wrappers, no executor).
func stepTimes(_ g: Graph, _ x: Tensor, now: () -> UInt64) throws -> [(String, Double)] {
    var values = [Tensor?](repeating: nil, count: g.nodes.count)
    for n in g.nodes where n.op == .param { values[n.id] = g.params[n.name] }
    values[g.inputs[0]] = x
    let ctx = OpContext(training: false)
    var out: [(String, Double)] = []
    for n in g.nodes where n.op != .param && n.op != .input {
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
