import Foundation
import Tensor

// Where each activation of a graph lives at a given batch size: values whose lifetimes do
// not overlap share a buffer. `explain` reports it; the executor's static programs
// (StaticProgram.swift) allocate exactly these buffers, once per batch size.

extension Graph {
    public func concreteShape(_ i: Int, batch: Int) -> [Int] { nodes[i].shape.map { $0.resolve(batch: batch) } }
    /// The nodes the outputs need, in order.
    public func neededNodes() -> [Int] {
        var need = [Bool](repeating: false, count: nodes.count)
        for o in outputs { need[o] = true }
        for i in stride(from: nodes.count - 1, through: 0, by: -1) where need[i] { for j in nodes[i].inputs { need[j] = true } }
        return nodes.indices.filter { need[$0] }
    }

    /// The nodes that read each node (each reader once), by node id.
    public func consumers() -> [[Int]] {
        var c = [[Int]](repeating: [], count: nodes.count)
        for n in nodes { for i in n.inputs where !c[i].contains(n.id) { c[i].append(n.id) } }
        return c
    }
}

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

/// Ops whose result is a view of their input in the executor (no new buffer): those the
/// op table lowers to a view.
public let viewOps: Set<OpName> = Set(OpRegistry.ops.values.filter { $0.lower?.isView == true }.map(\.name))
/// Ops that may write their output over an input that dies at this node.
public let inPlaceOps: Set<OpName> = Set(fusableActivations.map(\.op)).union(OpName.binaryElementwise).union([.elementwise, .batchNorm])

/// The inputs whose buffer a node may write over: any input of an elementwise op, but an
/// `elementwise` chain only over its running value (input 0; its other operands are read
/// after earlier steps wrote), and not at all when a later step reads that value again.
func inPlaceCandidates(_ n: Node) -> [Int] {
    guard n.op == .elementwise else { return n.inputs }
    guard let steps = n.attrs.chain("steps"), !ChainProgram(steps).readsInput else { return [] }
    return [n.inputs[0]]
}

/// Greedy liveness plan (as in TVM/XLA's static planners): walk nodes in order, free the
/// buffers of values after their last use, give each new value an input's buffer when the
/// op can work in place, else the smallest free buffer that fits, else a new buffer.
public func planMemory(_ g: Graph, batch: Int) -> MemoryPlan {
    let order = g.neededNodes()
    func isActivation(_ i: Int) -> Bool { g.nodes[i].op != .input && g.nodes[i].op != .param }
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
            if let r = inPlaceCandidates(g.nodes[i]).map({ root[$0] }).first(where: { r in isActivation(r) && lastUse[r] == i && live.contains(r) && sizes[buffer[r]!] >= need }) {
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
