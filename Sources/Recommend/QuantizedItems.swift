import CKernels
import Graph
import Tensor

/// The int8 item matrix of a quantized recommender: `quantize(model)` turns the graph's
/// dense layer against the item matrix into `qdense`, with int8 W [f, items], one scale per
/// item (a column of W: per-channel) and the column sums. Scoring runs that int8 GEMM
/// (`Tensor.qlinear`, the kernels of quantized dense layers, VNNI where the CPU has it) to
/// pick candidates, then rescores the candidates with the float user vector against the
/// dequantized items, so only the weights' rounding, not the user vector's, moves a ranking.
public struct QuantizedItems: @unchecked Sendable {
    public let q: Tensor
    public let scale: Tensor
    public let colSum: Tensor
    let qv: [Int8]
    let sv: [Float]
    let settings: (actScale: Float?, actZero: Int, unsigned: Bool)
    public let f: Int
    public let count: Int

    /// From a model's params (nil when its item matrix is float).
    init?(_ g: Graph) throws {
        guard let q = g.params["item_matrix.weight_q"], let s = g.params["item_matrix.weight_scale"],
              let cs = g.params["item_matrix.weight_colsum"] else { return nil }
        guard q.rank == 2, q.dtype == .int8, s.count == q.shape[1] || s.count == 1, cs.count == q.shape[1] else {
            throw RecommendError("the recommender's int8 item matrix \(q.shape) does not match its scales (\(s.count)) and column sums (\(cs.count))")
        }
        f = q.shape[0]; count = q.shape[1]
        self.q = q.contiguous(); scale = s.astype(.float32).contiguous(); colSum = cs.astype(.int32).contiguous()
        let sv0 = scale.toFloats()
        sv = sv0.count == count ? sv0 : [Float](repeating: sv0[0], count: count)
        qv = self.q.toInts().map { Int8(clamping: $0) }
        let node = g.nodes.first { $0.op == .qdense }
        let a = node?.attrs ?? [:]
        var actScale: Float? = nil
        switch a["act_scale"] { case .double(let v)?: actScale = Float(v); case .int(let v)?: actScale = Float(v); default: break }
        settings = (actScale, actScale == nil ? 0 : a.int("act_zero", 0), a.bool("act_unsigned", false))
    }

    /// W dequantized, [f, items] row-major.
    var dequantized: [Float] {
        var out = [Float](repeating: 0, count: f * count)
        for a in 0..<f { for i in 0..<count { out[a * count + i] = Float(qv[a * count + i]) * sv[i] } }
        return out
    }

    @inline(__always) func value(_ a: Int, _ i: Int) -> Float { Float(qv[a * count + i]) * sv[i] }

    /// The k best items of each of n user vectors (seen items skipped as in `mlw_rec_topk`).
    func topK(_ vecs: [Float], n: Int, bias: [Float], seenIndptr: [Int64], seenIndices: [Int32], seenRows: [Int32], k: Int)
        throws -> ([[Int]], [[Float]]) {
        let kc = Swift.min(count, Swift.max(4 * k, k + 16))
        let biasT = try Tensor(bias, shape: [count])
        var items: [[Int]] = [], scores: [[Float]] = []
        let chunk = 64
        var r0 = 0
        while r0 < n {
            let rows = Swift.min(chunk, n - r0)
            let x = try Tensor(Array(vecs[(r0 * f)..<((r0 + rows) * f)]), shape: [rows, f])
            let s = try Tensor.qlinear(x, weight: q, weightScale: scale, colSum: colSum, bias: biasT,
                                       actScale: settings.actScale, actZero: settings.actZero, unsigned: settings.unsigned)
            var idx = [Int32](repeating: -1, count: rows * kc), sc = [Float](repeating: 0, count: rows * kc)
            let seen = Array(seenRows[r0..<(r0 + rows)])
            try s.withFloats { sp0 in
                idx.withUnsafeMutableBufferPointer { ip in
                    sc.withUnsafeMutableBufferPointer { sp in
                        mlw_rec_select(Int32(rows), Int32(count), sp0.baseAddress, count, seenIndptr, seenIndices, seen,
                                       Int32(kc), ip.baseAddress, sp.baseAddress)
                    }
                }
            }
            for r in 0..<rows {
                let u = (r0 + r) * f
                var cand: [(Int, Float)] = []
                for t in 0..<kc where idx[r * kc + t] >= 0 {
                    let i = Int(idx[r * kc + t])
                    var v = bias[i]
                    for a in 0..<f { v += vecs[u + a] * value(a, i) }
                    cand.append((i, v))
                }
                cand.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                let top = cand.prefix(k)
                items.append(top.map(\.0)); scores.append(top.map(\.1))
            }
            r0 += rows
        }
        return (items, scores)
    }
}
