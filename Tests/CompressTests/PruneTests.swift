import XCTest
import Graph
import Optimize
import Tensor
import Train
@testable import Compress

final class PruneTests: XCTestCase {
    func mlp(seed: UInt64 = 3) throws -> Model { try sequential([dense(16, 32), relu(), dense(32, 24), relu(), dense(24, 5)], seed: seed) }

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Double { zip(a.toDoubles(), b.toDoubles()).map { abs($0 - $1) }.max() ?? 0 }

    func testCSRLayerEqualsMaskedDense() throws {
        let m = try mlp()
        let p = try prune(m, sparsity: 0.9, scope: .global)
        XCTAssertEqual(p.graph.nodes.filter { $0.op == .sparseDense }.count, 3)
        let masked = try densify(p)
        XCTAssertEqual(masked.graph.nodes.filter { $0.op == .sparseDense }.count, 0)
        for batch in [1, 7, 64] {
            let x = try Tensor.randn([batch, 16], seed: UInt64(batch))
            XCTAssertLessThan(maxDiff(try predict(p, x), try predict(masked, x)), 1e-5)
        }
        let r = try sparsityReport(p)
        XCTAssertEqual(r.sparsity, 0.9, accuracy: 0.001)
        XCTAssertLessThan(r.paramBytes, try sparsityReport(m).paramBytes / 3)
        XCTAssertLessThan(r.fileBytes, try ModelFile.encode(m).count)
    }

    /// Hidden layers going to CSR get their units ordered by non-zero count (longest rows
    /// first, for the ELL kernel), the next layer's inputs permuted to match: the model
    /// computes the same function as the masked dense one in the original order, and the
    /// output layer keeps its order.
    func testCSRUnitsOrderedByNonZerosSameFunction() throws {
        let m = try mlp()
        let sorted = try prune(m, sparsity: 0.85, scope: .global), plain = try prune(m, sparsity: 0.85, scope: .global, csrAbove: 1.01)
        XCTAssertEqual(plain.graph.nodes.filter { $0.op == .sparseDense }.count, 0)
        for batch in [1, 9] {
            let x = try Tensor.randn([batch, 16], seed: UInt64(batch))
            XCTAssertLessThan(maxDiff(try predict(sorted, x), try predict(plain, x)), 1e-5)
        }
        let layers = sorted.graph.nodes.filter { $0.op == .sparseDense }
        for n in layers.dropLast() {   // hidden layers: row lengths never grow
            let ip = sorted.graph.params[sorted.graph.nodes[n.inputs[3]].name]!.toInts()   // x, values, indices, indptr
            let lengths = zip(ip.dropFirst(), ip).map { $0 - $1 }
            XCTAssertEqual(lengths, lengths.sorted(by: >), n.name)
        }
    }

    func testLayerScopeGivesEachLayerTheSparsity() throws {
        let p = try prune(try mlp(), sparsity: 0.5, csrAbove: 0.99)
        for l in try sparsityReport(p).layers { XCTAssertEqual(l.sparsity, 0.5, accuracy: 0.01); XCTAssertEqual(l.storage, "f32 dense") }
        let r = try prune(try mlp(), sparsity: 0.6, method: .random, csrAbove: 0.99)
        for l in try sparsityReport(r).layers { XCTAssertEqual(l.sparsity, 0.6, accuracy: 0.01) }
    }

    func testTwoFourPatternHolds() throws {
        let p = try prune(try mlp(), sparsity: 0.5, pattern: .twoFour)
        for l in weightLayers(p.graph, ops: [.dense]) {
            let w = p.graph.params[p.graph.paramName(l.node, 1)!]!, v = w.toFloats(), (inF, outF) = (w.shape[0], w.shape[1])
            for j in 0..<outF { for g in stride(from: 0, to: inF, by: 4) {
                XCTAssertLessThanOrEqual((g..<min(g + 4, inF)).filter { v[$0 * outF + j] != 0 }.count, 2)
            } }
            XCTAssertEqual(zeroFraction(w), 0.5, accuracy: 0.01)
        }
    }

    func testPruningDeadNeuronsChangesNothing() throws {
        var m = try mlp()
        // Kill 8 units of the first layer: zero incoming weights; give two of them a bias (a constant output).
        var w = m.graph.params["dense_0.weight"]!.toFloats(), b = [Float](repeating: 0.1, count: 32)
        for i in 0..<16 { for u in 0..<8 { w[i * 32 + u * 4] = 0 } }
        for u in 0..<8 where u > 1 { b[u * 4] = 0 }
        m.graph.params["dense_0.weight"] = try Tensor(w, shape: [16, 32]); m.graph.params["dense_0.bias"] = try Tensor(b, shape: [32])
        let p = try prune(m, sparsity: 0.25, pattern: .neurons, layers: ["dense_0"])
        XCTAssertEqual(p.graph.params["dense_0.weight"]!.shape, [16, 24])
        XCTAssertEqual(p.graph.params["dense_2.weight"]!.shape, [24, 24])
        let x = try Tensor.randn([9, 16], seed: 5)
        XCTAssertLessThan(maxDiff(try predict(p, x), try predict(m, x)), 1e-5)
        XCTAssertLessThan(params(p), params(m))
    }

    func testNeuronPruningShrinksEveryHiddenLayer() throws {
        let p = try prune(try mlp(), sparsity: 0.5, pattern: .neurons)
        XCTAssertEqual(p.graph.params["dense_0.weight"]!.shape, [16, 16])
        XCTAssertEqual(p.graph.params["dense_2.weight"]!.shape, [16, 12])
        XCTAssertEqual(p.graph.params["dense_4.weight"]!.shape, [12, 5])
    }

    func testChannelPruningConvBatchNormFlattenDense() throws {
        let m = try sequential([conv2d(1, 8, kernel: 3, padding: 1), batchNorm(8), relu(), maxPool(2), conv2d(8, 6, kernel: 3, padding: 1), relu(), flatten(), dense(6 * 4 * 4, 3)],
                               inputShape: [1, 8, 8], seed: 2)
        let p = try prune(m, sparsity: 0.5, pattern: .channels)
        XCTAssertEqual(p.graph.params["conv2d_0.weight"]!.shape, [4, 1, 3, 3])
        XCTAssertEqual(p.graph.params["batch_norm_1.gamma"]!.shape, [4])
        XCTAssertEqual(p.graph.params["conv2d_4.weight"]!.shape, [3, 4, 3, 3])
        XCTAssertEqual(p.graph.params["dense_7.weight"]!.shape, [3 * 16, 3])
        XCTAssertEqual(try predict(p, try Tensor.randn([2, 1, 8, 8], seed: 1)).shape, [2, 3])
    }

    func testFinetuneKeepsZerosAndSaveLoadRoundTrips() throws {
        let m = try mlp()
        let x = try Tensor.randn([128, 16], seed: 9)
        let y = try Tensor((0..<128).map { Double($0 % 5) }, shape: [128], dtype: .float32)
        let p = try prune(m, sparsity: 0.8)
        let before = try sparsityReport(p)
        let run = try finetune(p, x: x, y: y, epochs: 2, batch: 32)
        let after = try sparsityReport(run.model)
        for (a, b) in zip(before.layers, after.layers) { XCTAssertLessThanOrEqual(b.nonzeros, a.nonzeros); XCTAssertEqual(a.storage, b.storage) }
        let path = NSTemporaryDirectory() + "/compress-prune.mlwm"
        try save(run.model, path)
        let back = try loadModel(path)
        XCTAssertEqual(try predict(back, x).toFloats(), try predict(run.model, x).toFloats())
        let s = try pruneSchedule(m, x: x, y: y, start: 0.5, end: 0.8, steps: 3, epochsPerStep: 1)
        XCTAssertEqual(s.sparsities.first!, 0.5, accuracy: 1e-9); XCTAssertEqual(s.sparsities.last!, 0.8, accuracy: 1e-9)
        XCTAssertEqual(try sparsityReport(s.model).sparsity, 0.8, accuracy: 0.01)
    }
}
