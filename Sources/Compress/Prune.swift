import Graph
import Tensor
import Train

public enum PruneMethod: String, Sendable { case magnitude, random }
/// `.layer`: every layer loses the same fraction; `.global`: one magnitude threshold for all
/// selected layers (layers with many small weights lose more).
public enum PruneScope: String, Sendable { case layer, global }
/// `.unstructured`: single weights; `.twoFour`: 2 of every 4 consecutive input weights of a
/// unit (the N:M pattern sparse tensor cores run; 50% whatever `sparsity` says);
/// `.neurons` / `.channels`: whole dense units / conv filters removed (a smaller dense model).
public enum PrunePattern: String, Sendable { case unstructured, twoFour, neurons, channels }
public enum NormKind: String, Sendable { case l1, l2 }

/// Default density below which a pruned dense layer switches to CSR storage and the sparse
/// kernel: CSR costs 8 bytes per kept weight (value + column), so it is smaller than dense
/// from 50% sparsity on, and on the digits MLP the sparse kernel beats the GEMM well before 70%.
public let defaultCSRSparsity = 0.5

/// Prunes the weights of dense and conv layers (all of them, or those named in `layers`).
///
///     let p = try prune(model, sparsity: 0.9, scope: .global)            // masks + CSR switch
///     let small = try prune(model, sparsity: 0.5, pattern: .neurons)     // narrower dense model
///
/// Unstructured and 2:4 pruning zero weights; a dense layer whose sparsity reaches
/// `csrAbove` is stored as CSR and runs the sparse kernel. `neurons`/`channels` remove
/// units by their weights' L1/L2 norm (`norm`) and shrink the consumers (see Structured.swift).
public func prune(_ m: Model, sparsity: Double, method: PruneMethod = .magnitude, scope: PruneScope = .layer,
                  pattern: PrunePattern = .unstructured, layers: [String]? = nil, norm: NormKind = .l1,
                  csrAbove: Double = defaultCSRSparsity, seed: UInt64 = 0) throws -> Model {
    guard sparsity >= 0, sparsity < 1 else { throw TrainError("prune: sparsity must be in [0, 1), got \(sparsity)") }
    if weightLayers(m.graph, ops: [.qdense]).count > 0 { throw TrainError("prune: the model is quantized; prune before quantizing") }
    let wasSparse = Set(m.graph.nodes.filter { $0.op == .sparseDense }.map(\.name))
    let dense = try densify(m)
    if pattern == .neurons || pattern == .channels {
        return try pruneStructured(dense, fraction: sparsity, pattern: pattern, method: method, layers: layers, norm: norm, seed: seed)
    }
    let ls = weightLayers(dense.graph, ops: [.dense, .conv2d], names: layers)
    guard !ls.isEmpty else { throw TrainError("prune: no dense or conv layer matches \(layers ?? [])") }
    var values: [String: Tensor] = [:]
    let weights = try ls.map { l -> (String, [Float], [Int]) in
        let name = dense.graph.paramName(l.node, 1)!, t = dense.graph.params[name]!
        guard t.dtype == .float32 else { throw TrainError("prune: layer \(l.node.name) weight is \(t.dtype)") }
        return (name, t.toFloats(), t.shape)
    }
    var keep = weights.map { [Bool](repeating: true, count: $0.1.count) }
    switch (pattern, method, scope) {
    case (.twoFour, _, _):
        for (i, w) in weights.enumerated() { keep[i] = twoFourMask(w.1, shape: w.2, random: method == .random, seed: mixSeed(seed, UInt64(i))) }
    case (_, .magnitude, .global):
        // One threshold over all layers: drop the k smallest |w| of the concatenation.
        var all: [(Float, Int, Int)] = []
        for (i, w) in weights.enumerated() { for (j, v) in w.1.enumerated() { all.append((Swift.abs(v), i, j)) } }
        all.sort { $0.0 < $1.0 }
        for e in all.prefix(Int((sparsity * Double(all.count)).rounded(.down))) { keep[e.1][e.2] = false }
    default:
        for (i, w) in weights.enumerated() {
            let k = Int((sparsity * Double(w.1.count)).rounded(.down))
            let order: [Int]
            if method == .random { order = try Tensor.permutation(w.1.count, seed: mixSeed(seed, UInt64(i))).toInts() } else {
                order = w.1.indices.sorted { (Swift.abs(w.1[$0]), $0) < (Swift.abs(w.1[$1]), $1) }
            }
            for j in order.prefix(k) { keep[i][j] = false }
        }
    }
    var toCSR: Set<String> = []
    for (i, l) in ls.enumerated() {
        let masked = zip(weights[i].1, keep[i]).map { $1 ? $0 : 0 }
        values[weights[i].0] = try Tensor(masked, shape: weights[i].2)
        let s = Double(masked.filter { $0 == 0 }.count) / Double(max(masked.count, 1))
        if l.op == .dense && (s >= csrAbove || wasSparse.contains(l.node.name)) { toCSR.insert(l.node.name) }
    }
    try orderUnitsByNonZeros(dense.graph, values: &values, layers: toCSR)
    return try sparsify(rewrite(dense, values: values), layers: toCSR)
}

/// Reorders the output units of each layer going to CSR by their number of non-zeros (most
/// first), and the input rows of the dense layers that read them to match: the same function
/// (up to the rounding of those layers' sums, which now add in the new order), but the batch-1
/// ELL kernel runs 16 rows at a time for as many steps as the longest of them, so rows of
/// similar length waste less (the digits MLP's 30%-dense first layer: a third fewer steps).
/// Layers whose units reach anything but per-unit activations and dense layers keep their order.
func orderUnitsByNonZeros(_ g: Graph, values: inout [String: Tensor], layers: Set<String>) throws {
    let users = g.consumers()
    let elementwise: Set<OpName> = OpName.perValue
    for l in weightLayers(g, ops: [.dense]) where layers.contains(l.node.name) {
        guard let (chain, consumers) = unitReaders(g, users: users, of: l.node.id), !consumers.isEmpty,
              chain.allSatisfy({ elementwise.contains($0.op) }), consumers.allSatisfy({ $0.0.op == .dense && $0.1 == 1 }),
              let wName = g.paramName(l.node, 1), let w = values[wName] ?? g.params[wName], w.rank == 2 else { continue }
        let (k, units) = (w.shape[0], w.shape[1]), wf = w.toFloats()
        var count = [Int](repeating: 0, count: units)
        for i in 0..<k { for u in 0..<units where wf[i * units + u] != 0 { count[u] += 1 } }
        let order = (0..<units).sorted { (count[$0], -$0) > (count[$1], -$1) }
        guard order != Array(0..<units) else { continue }
        let perm = try Tensor(order, shape: [units], dtype: .int32)
        values[wName] = try w.indexSelect(axis: 1, indices: perm)
        if let b = g.paramName(l.node, 2), let bt = values[b] ?? g.params[b] { values[b] = try bt.indexSelect(axis: 0, indices: perm) }
        for (c, _) in consumers {
            let cw = g.paramName(c, 1)!
            values[cw] = try (values[cw] ?? g.params[cw]!).indexSelect(axis: 0, indices: perm)
        }
    }
}

/// 2:4 mask for a dense W [in, out] (groups of 4 consecutive inputs of one output unit) or a
/// conv W [O, C, kh, kw] (groups of 4 consecutive entries of one filter): keeps the 2 largest
/// |w| (or 2 random ones) of each group. A last group shorter than 4 keeps half, rounded up.
func twoFourMask(_ w: [Float], shape: [Int], random: Bool, seed: UInt64) -> [Bool] {
    var keep = [Bool](repeating: false, count: w.count)
    // Element (unit u, position p) -> flat index.
    let (units, len, at): (Int, Int, (Int, Int) -> Int) = shape.count == 2
        ? (shape[1], shape[0], { u, p in p * shape[1] + u })
        : (shape[0], w.count / max(shape[0], 1), { u, p in u * (w.count / max(shape[0], 1)) + p })
    let noise = random ? ((try? Tensor.rand([w.count], seed: seed).toFloats()) ?? []) : []
    for u in 0..<units {
        var p0 = 0
        while p0 < len {
            let idx = (p0..<min(p0 + 4, len)).map { at(u, $0) }
            let score = { (i: Int) -> Float in random ? noise[i] : Swift.abs(w[i]) }
            let ranked = idx.sorted { (score($0), -$0) > (score($1), -$1) }
            for i in ranked.prefix((idx.count + 1) / 2) { keep[i] = true }
            p0 += 4
        }
    }
    return keep
}
