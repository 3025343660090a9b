import Graph
import Tensor

// Static costs of a graph at a given batch size: FLOPs per node and an activation
// memory plan by liveness.

extension Graph {
    func concreteShape(_ i: Int, batch: Int) -> [Int] { nodes[i].shape.map { $0.resolve(batch: batch) } }
    /// The nodes the outputs need, in order.
    func neededNodes() -> [Int] {
        var need = [Bool](repeating: false, count: nodes.count)
        for o in outputs { need[o] = true }
        for i in stride(from: nodes.count - 1, through: 0, by: -1) where need[i] { for j in nodes[i].inputs { need[j] = true } }
        return nodes.indices.filter { need[$0] }
    }
}

/// Floating-point operations of one node (a multiply-add counts 2).
public func nodeFLOPs(_ g: Graph, _ i: Int, batch: Int = 1) -> Int {
    let n = g.nodes[i]
    let out = g.concreteShape(i, batch: batch).reduce(1, *)
    func inCount(_ k: Int) -> Int { g.concreteShape(n.inputs[k], batch: batch).reduce(1, *) }
    switch n.op {
    case "input", "param", "reshape", "flatten", "transpose", "concat", "dropout", "embedding": return 0
    case "dense", "dense_act", "matmul":
        let k = g.nodes[n.inputs[0]].shape.last?.resolve(batch: batch) ?? 1
        return 2 * out * k + (n.inputs.count == 3 ? out : 0) + (n.attrs.string("activation", "none") == "none" ? 0 : out)
    case "conv2d", "conv2d_act":
        let w = g.concreteShape(n.inputs[1], batch: batch)
        return 2 * out * w[1] * w[2] * w[3] + out * (n.inputs.count == 3 ? 1 : 0) + (n.op == "conv2d_act" ? out : 0)
    case "max_pool2d", "avg_pool2d":
        let k = n.attrs.ints("kernel") ?? [n.attrs.int("kernel", 2)]
        return out * k.reduce(1, *) * (k.count == 1 ? k[0] : 1)
    case "batch_norm": return 2 * out
    case "layer_norm": return 7 * out
    case "softmax", "log_softmax": return 4 * out
    case "sum", "mean": return inCount(0)
    case "elementwise": return out * max(1, n.attrs.string("steps", "").split(separator: ";").count)
    default: return out
    }
}

public func totalFLOPs(_ g: Graph, batch: Int = 1) -> Int { g.neededNodes().reduce(0) { $0 + nodeFLOPs(g, $1, batch: batch) } }

/// Where each activation lives: values whose lifetimes do not overlap share a buffer.
public struct MemoryPlan: CustomStringConvertible {
    public let batch: Int
    /// Node id -> buffer index (views such as reshape share their source's buffer).
    public let buffer: [Int: Int]
    public let bufferBytes: [Int]
    /// Bytes if every intermediate had its own buffer.
    public let naiveBytes: Int
    /// Largest sum of simultaneously live intermediates (a lower bound for any plan).
    public let peakLiveBytes: Int
    /// Bytes of the shared buffers of this plan.
    public var plannedBytes: Int { bufferBytes.reduce(0, +) }
    public var description: String {
        "batch \(batch): \(formatBytes(naiveBytes)) unshared -> \(formatBytes(plannedBytes)) in \(bufferBytes.count) shared buffers (peak live \(formatBytes(peakLiveBytes)))"
    }
}

public func formatBytes(_ b: Int) -> String {
    b >= 1 << 20 ? String(format: "%.2f MB", Double(b) / 1048576) : b >= 1024 ? String(format: "%.1f KB", Double(b) / 1024) : "\(b) B"
}

/// Ops whose result is a view of their input in the executor (no new buffer).
let viewOps: Set<String> = ["reshape", "flatten", "dropout"]
/// Ops that may write their output over an input that dies at this node.
let inPlaceOps: Set<String> = fusableActivations.union(["add", "sub", "mul", "div", "elementwise", "batch_norm"])

/// Greedy liveness plan (as in TVM/XLA's static planners): walk nodes in order, free the
/// buffers of values after their last use, give each new value an input's buffer when the
/// op can work in place, else the smallest free buffer that fits, else a new buffer.
public func planMemory(_ g: Graph, batch: Int) -> MemoryPlan {
    let order = g.neededNodes()
    func isActivation(_ i: Int) -> Bool { g.nodes[i].op != "input" && g.nodes[i].op != "param" }
    var root = Array(g.nodes.indices)
    for i in order where viewOps.contains(g.nodes[i].op) && isActivation(g.nodes[i].inputs[0]) { root[i] = root[g.nodes[i].inputs[0]] }
    var lastUse = [Int](repeating: -1, count: g.nodes.count)
    for i in order { lastUse[root[i]] = max(lastUse[root[i]], i); for j in g.nodes[i].inputs { lastUse[root[j]] = max(lastUse[root[j]], i) } }
    for o in g.outputs { lastUse[root[o]] = Int.max }
    func bytes(_ i: Int) -> Int { g.concreteShape(i, batch: batch).reduce(1, *) * g.nodes[i].dtype.size }
    var buffer: [Int: Int] = [:], sizes: [Int] = [], free: [Int] = [], naive = 0, peak = 0
    var live: [Int] = []   // roots currently holding a buffer
    for i in order where isActivation(i) {
        if root[i] != i { buffer[i] = buffer[root[i]]; continue }
        if viewOps.contains(g.nodes[i].op) { continue }   // a view of a graph input: no buffer
        let need = bytes(i)
        naive += need
        // Values whose last use was before this node give their buffers back.
        for r in live where lastUse[r] < i { free.append(buffer[r]!) }
        live.removeAll { lastUse[$0] < i }
        var chosen: Int? = nil
        if inPlaceOps.contains(g.nodes[i].op) {
            if let r = g.nodes[i].inputs.map({ root[$0] }).first(where: { r in isActivation(r) && lastUse[r] == i && live.contains(r) && sizes[buffer[r]!] >= need }) {
                chosen = buffer[r]!
                live.removeAll { $0 == r }   // the buffer passes to this node
            }
        }
        if chosen == nil, let best = free.filter({ sizes[$0] >= need }).min(by: { sizes[$0] < sizes[$1] }) { chosen = best; free.removeAll { $0 == best } }
        if chosen == nil, let grow = free.max(by: { sizes[$0] < sizes[$1] }) { sizes[grow] = need; chosen = grow; free.removeAll { $0 == grow } }
        if chosen == nil { sizes.append(need); chosen = sizes.count - 1 }
        buffer[i] = chosen!
        live.append(i)
        peak = max(peak, live.reduce(0) { $0 + bytes($1) })
    }
    return MemoryPlan(batch: batch, buffer: buffer, bufferBytes: sizes, naiveBytes: naive, peakLiveBytes: peak)
}
