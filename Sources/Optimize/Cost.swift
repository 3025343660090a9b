import Graph
import Tensor

// Static costs of a graph at a given batch size: FLOPs per node (the liveness memory
// plan is in Graph/MemoryPlan.swift: the executor runs it).
//
// Counts saturate at Int.max instead of trapping: a batch or a shape large enough to
// overflow (explain(model, batch: 2^63 - 1)) gives a count that reads as "too many",
// never a crash. Callers bound the batch too (explain takes at most 2^24).

/// `a * b` for counts (non-negative), Int.max when it overflows.
@inline(__always) func satMul(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o || r < 0 ? Int.max : r
}

/// `a + b` for counts, Int.max when it overflows.
@inline(__always) func satAdd(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? Int.max : r
}

/// Floating-point operations of one node (a multiply-add counts 2).
public func nodeFLOPs(_ g: Graph, _ i: Int, batch: Int = 1) -> Int {
    let n = g.nodes[i]
    func count(_ shape: [Int]) -> Int { shape.reduce(1) { satMul($0, max(0, $1)) } }
    let out = count(g.concreteShape(i, batch: batch))
    func inCount(_ k: Int) -> Int { count(g.concreteShape(n.inputs[k], batch: batch)) }
    func sum(_ xs: Int...) -> Int { xs.reduce(0, satAdd) }
    func product(_ xs: Int...) -> Int { xs.reduce(1, satMul) }
    switch n.op {
    case .input, .param, .reshape, .flatten, .transpose, .concat, .dropout, .embedding: return 0
    case .dense, .denseAct, .matmul:
        let k = max(0, g.nodes[n.inputs[0]].shape.last?.resolve(batch: batch) ?? 1)
        return sum(product(2, out, k), n.inputs.count == 3 ? out : 0, n.attrs.activation == Activation.none ? 0 : out)
    case .conv2d, .conv2dAct:
        let w = g.concreteShape(n.inputs[1], batch: batch).map { max(0, $0) }
        return sum(product(2, out, w[1], w[2], w[3]), n.inputs.count == 3 ? out : 0, n.op == .conv2dAct ? out : 0)
    case .maxPool2d, .avgPool2d:
        let k = (n.attrs.ints("kernel") ?? [n.attrs.int("kernel", 2)]).map { max(0, $0) }
        return satMul(satMul(out, count(k)), k.count == 1 ? k[0] : 1)
    case .batchNorm: return satMul(2, out)
    case .layerNorm: return satMul(7, out)
    case .softmax, .logSoftmax: return satMul(4, out)
    case .sum, .mean: return inCount(0)
    case .elementwise: return satMul(out, max(1, n.attrs.chain("steps")?.count ?? 0))
    default: return out
    }
}

public func totalFLOPs(_ g: Graph, batch: Int = 1) -> Int {
    g.neededNodes().reduce(0) { satAdd($0, nodeFLOPs(g, $1, batch: batch)) }
}
