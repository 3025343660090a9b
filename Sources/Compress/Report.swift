import Graph
import Tensor
import Train

/// One weight layer in a `SparsityReport`.
public struct LayerSparsity: Sendable {
    public var layer: String
    public var op: String
    /// "f32 dense", "f32 csr", "int8 dense".
    public var storage: String
    /// Logical weight count (in × out, or O × C × kh × kw) and the non-zero ones.
    public var weights: Int
    public var nonzeros: Int
    public var sparsity: Double { weights == 0 ? 0 : 1 - Double(nonzeros) / Double(weights) }
    /// Bytes of all the layer's parameters as stored (CSR arrays, int8 weights and scales, bias).
    public var bytes: Int
}

public struct SparsityReport: CustomStringConvertible, Sendable {
    public var layers: [LayerSparsity]
    public var weights: Int { layers.reduce(0) { $0 + $1.weights } }
    public var nonzeros: Int { layers.reduce(0) { $0 + $1.nonzeros } }
    public var sparsity: Double { weights == 0 ? 0 : 1 - Double(nonzeros) / Double(weights) }
    /// Bytes of every parameter of the model (weight layers and the rest) and of its file.
    public var paramBytes: Int
    public var fileBytes: Int

    public var description: String {
        var rows = [["layer", "op", "storage", "weights", "nonzeros", "sparsity", "bytes"]]
        for l in layers { rows.append([l.layer, l.op, l.storage, "\(l.weights)", "\(l.nonzeros)", pct(l.sparsity), "\(l.bytes)"]) }
        rows.append(["total", "", "", "\(weights)", "\(nonzeros)", pct(sparsity), "\(paramBytes)"])
        return formatTable(rows) + "\nfile: \(fileBytes) bytes"
    }
}

public func pct(_ v: Double) -> String { String(format1(v * 100)) + "%" }
func format1(_ v: Double) -> String { let r = (v * 10).rounded() / 10; return String(r) }

/// Left-aligned text columns; numbers right-aligned.
public func formatTable(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { r in
        r.enumerated().map { c, s in
            let pad = String(repeating: " ", count: widths[c] - s.count)
            return (c > 0 && s.first.map { $0.isNumber } == true) ? pad + s : s + pad
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

func bytes(_ t: Tensor) -> Int { t.count * t.dtype.size }

/// Per-layer and global sparsity, weight counts and bytes as stored.
///
///     print(try sparsityReport(pruned))
public func sparsityReport(_ m: Model) throws -> SparsityReport {
    let g = m.graph
    var rows: [LayerSparsity] = []
    for l in weightLayers(g) {
        let ps = l.node.inputs.dropFirst().compactMap { g.nodes[$0].op == .param ? g.params[g.nodes[$0].name] : nil }
        let b = ps.reduce(0) { $0 + bytes($1) }
        switch l.op {
        case .sparseDense:
            let nnz = ps[0].toFloats().filter { $0 != 0 }.count, outF = ps[2].count - 1
            rows.append(LayerSparsity(layer: l.node.name, op: l.op.rawValue, storage: "f32 csr", weights: l.node.attrs.int("in", 0) * outF, nonzeros: nnz, bytes: b))
        case .qdense:
            let nnz = ps[0].toDoubles().filter { $0 != 0 }.count
            rows.append(LayerSparsity(layer: l.node.name, op: l.op.rawValue, storage: "int8 dense", weights: ps[0].count, nonzeros: nnz, bytes: b))
        default:
            let nnz = ps[0].toFloats().filter { $0 != 0 }.count
            rows.append(LayerSparsity(layer: l.node.name, op: l.op.rawValue, storage: "f32 dense", weights: ps[0].count, nonzeros: nnz, bytes: b))
        }
    }
    let all = g.params.values.reduce(0) { $0 + bytes($1) }
    return SparsityReport(layers: rows, paramBytes: all, fileBytes: try ModelFile.encode(m).count)
}

/// Weights actually stored (non-zero weights of weight layers plus every other parameter):
/// the "parameters" column of `compare`.
public func storedParameters(_ m: Model) throws -> Int {
    let r = try sparsityReport(m)
    let g = m.graph
    var inLayers = Set<String>()
    for l in weightLayers(g) { for i in l.node.inputs.dropFirst() where g.nodes[i].op == .param { inLayers.insert(g.nodes[i].name) } }
    let others = g.params.filter { !inLayers.contains($0.key) && !g.buffers.contains($0.key) }.values.reduce(0) { $0 + $1.count }
    let biases = weightLayers(g).reduce(0) { acc, l in
        let n = l.node, bi = n.op == .sparseDense ? 4 : n.op == .qdense ? 4 : 2
        return acc + (g.paramName(n, bi).flatMap { g.params[$0]?.count } ?? 0)
    }
    return r.nonzeros + biases + others
}
