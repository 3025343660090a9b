import Graph
import Tensor

// Static costs of a graph at a given batch size: FLOPs per node (the liveness memory
// plan is in Graph/MemoryPlan.swift: the executor runs it).

/// Floating-point operations of one node (a multiply-add counts 2).
public func nodeFLOPs(_ g: Graph, _ i: Int, batch: Int = 1) -> Int {
    let n = g.nodes[i]
    let out = g.concreteShape(i, batch: batch).reduce(1, *)
    func inCount(_ k: Int) -> Int { g.concreteShape(n.inputs[k], batch: batch).reduce(1, *) }
    switch n.op {
    case .input, .param, .reshape, .flatten, .transpose, .concat, .dropout, .embedding: return 0
    case .dense, .denseAct, .matmul:
        let k = g.nodes[n.inputs[0]].shape.last?.resolve(batch: batch) ?? 1
        return 2 * out * k + (n.inputs.count == 3 ? out : 0) + (n.attrs.activation == Activation.none ? 0 : out)
    case .conv2d, .conv2dAct:
        let w = g.concreteShape(n.inputs[1], batch: batch)
        return 2 * out * w[1] * w[2] * w[3] + out * (n.inputs.count == 3 ? 1 : 0) + (n.op == .conv2dAct ? out : 0)
    case .maxPool2d, .avgPool2d:
        let k = n.attrs.ints("kernel") ?? [n.attrs.int("kernel", 2)]
        return out * k.reduce(1, *) * (k.count == 1 ? k[0] : 1)
    case .batchNorm: return 2 * out
    case .layerNorm: return 7 * out
    case .softmax, .logSoftmax: return 4 * out
    case .sum, .mean: return inCount(0)
    case .elementwise: return out * max(1, n.attrs.chain("steps")?.count ?? 0)
    default: return out
    }
}

public func totalFLOPs(_ g: Graph, batch: Int = 1) -> Int { g.neededNodes().reduce(0) { $0 + nodeFLOPs(g, $1, batch: batch) } }
