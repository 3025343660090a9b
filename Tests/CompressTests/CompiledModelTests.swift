import XCTest
import Graph
import Optimize
import Tensor
import Train
@testable import Compress

/// `evaluate` and `predict` run the same `CompiledModel`, so the metrics are those of the
/// outputs `predict` gives, bit for bit, whatever the model's storage.
final class CompiledModelTests: XCTestCase {
    func testEvaluateAndPredictGiveTheSameBits() throws {
        let float = try sequential([dense(16, 32), relu(), dense(32, 24), relu(), dense(24, 5)], seed: 3)
        let pruned = try prune(float, sparsity: 0.9, scope: .global)
        XCTAssertEqual(pruned.graph.nodes.filter { $0.op == .sparseDense }.count, 3)
        let quantized = try quantize(float, mode: .dynamic)
        XCTAssertFalse(quantized.graph.nodes.filter { $0.op == .qdense }.isEmpty)
        let x = try Tensor.randn([40, 16], seed: 5)
        let y = try Tensor((0..<40).map { ($0 * 7) % 5 }, shape: [40], dtype: .float32)
        for (name, m) in [("float", float), ("pruned", pruned), ("quantized", quantized)] {
            let e = try evaluate(m, x: x, y: y)
            XCTAssertEqual(e, try metrics(outputs: try predict(m, x), labels: y), name)
            XCTAssertEqual(try predict(m, x).toFloats(), try CompiledModel(m).predict(x).toFloats(), name)
        }
    }

    /// Training gives a new revision, so the trained model is compiled again.
    func testTrainedModelIsCompiledAgain() throws {
        let m = try sequential([dense(4, 3)], seed: 1)
        let x = try Tensor.randn([16, 4], seed: 2), y = try Tensor((0..<16).map { $0 % 3 }, shape: [16], dtype: .float32)
        let before = try predict(m, x)
        let run = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: Adam(lr: 0.1), epochs: 2, batch: 8, logEvery: 0)
        XCTAssertNotEqual(run.model.revision, m.revision)
        XCTAssertNotEqual(try predict(run.model, x).toFloats(), before.toFloats())
        XCTAssertEqual(try predict(m, x).toFloats(), before.toFloats())
    }
}
