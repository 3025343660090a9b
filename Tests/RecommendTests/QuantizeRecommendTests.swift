import Compress
import Optimize
import Foundation
import Tensor
import Train
import XCTest
@testable import Recommend

/// `quantize(model)` on a recommender: the item matrix becomes int8 with one scale per item,
/// scoring goes through the int8 GEMM, and the answers stay those of the float model.
final class QuantizeRecommendTests: XCTestCase {
    /// The share of the float model's top-10 (seen items excluded) the int8 model also returns.
    func overlap(_ a: Recommender, _ b: Recommender) throws -> Double {
        let users = (0..<a.userCount).map { Optional($0) }
        let fa = try a.recommend(users: users, k: 10, excludeSeen: true), fb = try b.recommend(users: users, k: 10, excludeSeen: true)
        var same = 0, total = 0
        for (x, y) in zip(fa, fb) { same += Set(x.items).intersection(y.items).count; total += x.items.count }
        return Double(same) / Double(total)
    }

    func check(_ r: Recommender, _ test: Interactions, name: String) throws -> Recommender {
        let q = try Recommender(try quantize(r.model))
        XCTAssertNotNil(q.quantized, name)
        XCTAssertNil(r.quantized, name)
        let ov = try overlap(r, q)
        let mr = try rankMetrics(r, test: test.triples, k: 10), mq = try rankMetrics(q, test: test.triples, k: 10)
        // Storage of the item matrix: int8 values (1/4 of float32) plus a scale and a column sum per item.
        let floatBytes = 4 * r.f * r.itemCount
        let int8Bytes = q.quantized!.q.count + 4 * q.quantized!.scale.count + 4 * q.quantized!.colSum.count
        print("\(name): top-10 overlap \(ov), recall@10 float \(mr.recall) int8 \(mq.recall), item matrix \(floatBytes) -> \(int8Bytes) bytes")
        XCTAssertGreaterThanOrEqual(ov, 0.98, name)
        XCTAssertEqual(mq.recall, mr.recall, accuracy: 0.005, name)
        XCTAssertEqual(q.quantized!.q.count * 4, floatBytes, name)
        XCTAssertEqual(q.quantized!.q.dtype, .int8, name)
        XCTAssertLessThanOrEqual(Double(int8Bytes), Double(floatBytes) * Double(r.f + 8) / Double(4 * r.f) + 1e-9, name)
        // Scores are the float user vector against the dequantized items.
        let a = try q.recommend(users: [0], k: 3, excludeSeen: false)[0]
        let W = q.itemMatrix
        for (i, s) in zip(a.items, a.scores) {
            var want = q.itemBias[i]
            for c in 0..<q.f { want += q.userVectors[c] * W[c * q.itemCount + i] }
            XCTAssertEqual(s, want, accuracy: 1e-4 * max(1, abs(want)), name)
        }
        return q
    }

    func testInt8ItemMatrixKeepsTopTen() throws {
        let x = try plantedInteractions(users: 600, clusters: 5, itemsPerCluster: 40, per: 10, seed: 11, skew: true)
        let (tr, te) = try x.split(test: 0.25, byTime: false, seed: 3)
        var o = FactorOptions(); o.factors = 32; o.l2 = 0.1; o.alpha = 10; o.iterations = 8; o.seed = 1
        let q = try check(try Recommend.als(tr, o), te, name: "als")
        var ob = FactorOptions(); ob.factors = 16; ob.iterations = 60; ob.learningRate = 0.05; ob.l2 = 0.001; ob.seed = 2
        _ = try check(try Recommend.bpr(tr, ob), te, name: "bpr")
        // The int8 model survives the model file; the graph (qdense -> top_k) runs too.
        let path = NSTemporaryDirectory() + "mlw-rec-q-\(getpid()).mlwm"
        try save(q.model, path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let back = try Recommender(try loadModel(path))
        XCTAssertNotNil(back.quantized)
        let users = (0..<20).map { Optional($0) }
        XCTAssertEqual(try back.recommend(users: users, k: 10, excludeSeen: true), try q.recommend(users: users, k: 10, excludeSeen: true))
        let out = try CompiledModel(q.model).predict(try Tensor([0, 1, 2], shape: [3, 1]))
        XCTAssertEqual(out.shape, [3, Recommender.graphK])
    }
}
