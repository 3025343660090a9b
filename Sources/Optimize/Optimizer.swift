import Foundation
import Graph
import Tensor
import Train

/// What one pass did in one round.
public struct PassRecord {
    public let name: String
    public let round: Int
    public let changes: [String]
    public let nodesBefore: Int
    public let nodesAfter: Int
    /// With `check: true`: max |output before − output after| on seeded sample inputs.
    public let maxAbsDiff: Double?
}

/// The result of `optimize`: per-pass records and before/after totals (FLOPs at batch 1,
/// activation memory plans at batch 1 and 64).
public struct OptimizeReport: CustomStringConvertible {
    public var passes: [PassRecord] = []
    public var nodesBefore = 0, nodesAfter = 0
    public var flopsBefore = 0, flopsAfter = 0
    public var memoryBefore: [MemoryPlan] = [], memoryAfter: [MemoryPlan] = []

    public var description: String {
        var s = "optimize: \(nodesBefore) -> \(nodesAfter) nodes, FLOPs/sample \(flopsBefore) -> \(flopsAfter)\n"
        for (b, a) in zip(memoryBefore, memoryAfter) {
            s += "  activations, batch \(b.batch): \(formatBytes(b.plannedBytes)) -> \(formatBytes(a.plannedBytes)) planned (unshared \(formatBytes(b.naiveBytes)) -> \(formatBytes(a.naiveBytes)))\n"
        }
        for p in passes where !p.changes.isEmpty || p.maxAbsDiff != nil {
            s += "  [\(p.round)] \(p.name): \(p.changes.count) change(s), nodes \(p.nodesBefore) -> \(p.nodesAfter)"
            if let d = p.maxAbsDiff { s += String(format: ", max abs diff %.3g", d) }
            s += "\n"
            for c in p.changes.prefix(20) { s += "      \(c)\n" }
            if p.changes.count > 20 { s += "      ... \(p.changes.count - 20) more\n" }
        }
        return s
    }
}

/// Seeded sample feeds for check mode: N(0,1) floats (batch 2), zeros for integer inputs.
func sampleFeeds(_ g: Graph, batch: Int = 2, seed: UInt64 = 42) throws -> [String: Tensor] {
    var feeds: [String: Tensor] = [:]
    for (k, i) in g.inputs.enumerated() {
        let n = g.nodes[i], shape = n.shape.map { $0.resolve(batch: batch) }
        feeds[n.name] = n.dtype.isInteger || n.dtype == .bool ? try Tensor.zeros(shape, dtype: n.dtype)
            : try Tensor.randn(shape, seed: mixSeed(seed, UInt64(k)), dtype: n.dtype)
    }
    return feeds
}

func maxAbsDiff(_ a: [Tensor], _ b: [Tensor]) -> Double {
    var m = 0.0
    for (x, y) in zip(a, b) {
        guard x.shape == y.shape else { return .infinity }
        for (u, v) in zip(x.toDoubles(), y.toDoubles()) { let d = abs(u - v); m = d.isNaN ? .infinity : max(m, d) }
    }
    return m
}

/// Rewrites a model for inference. Passes run in `passTable` order, in rounds until a
/// round changes nothing (at most 4): the ones at or below `level`, or exactly `passes`
/// when given (compression passes run only then), minus `disable`. After every pass the IR is re-sorted and the verifier
/// runs; with `check: true` outputs on seeded samples are compared after every pass.
///
///     let (fast, report) = try optimize(model, level: 2, check: true); print(report)
public func optimize(_ model: Model, level: Int = 2, passes: [String]? = nil, disable: [String] = [], check: Bool = false) throws -> (Model, OptimizeReport) {
    for name in (passes ?? []) + disable { _ = try pass(named: name) }
    let chosen = passTable.filter { p in
        (passes.map { $0.contains(p.name) } ?? (p.level.map { $0 <= level } ?? false)) && !disable.contains(p.name)
    }
    var g = model.graph
    try g.verify()
    var report = OptimizeReport()
    report.nodesBefore = g.nodes.count
    report.flopsBefore = totalFLOPs(g)
    report.memoryBefore = [1, 64].map { planMemory(g, batch: $0) }
    let feeds = check ? try sampleFeeds(g) : [:]
    let reference = check ? try Executor(g).run(feeds) : []
    for round in 1...4 {
        var changed = false
        for p in chosen {
            let before = g.nodes.count
            var trial = g
            let log = try p.run(&trial)
            do {
                try trial.normalize()
                try trial.verify()
            } catch { throw GraphError("optimize: pass \(p.name) broke the graph: \(error)") }
            var diff: Double? = nil
            if check { diff = maxAbsDiff(reference, try Executor(trial).run(feeds)) }
            g = trial
            if !log.isEmpty { changed = true }
            if !log.isEmpty || check {
                report.passes.append(PassRecord(name: p.name, round: round, changes: log, nodesBefore: before, nodesAfter: g.nodes.count, maxAbsDiff: diff))
            }
        }
        if !changed { break }
    }
    report.nodesAfter = g.nodes.count
    report.flopsAfter = totalFLOPs(g)
    report.memoryAfter = [1, 64].map { planMemory(g, batch: $0) }
    var out = model
    out.graph = g
    out.blobs["optimize_report"] = report.description
    return (out, report)
}
