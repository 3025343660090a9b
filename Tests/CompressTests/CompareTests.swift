import XCTest
import Graph
import Tensor
import Train
@testable import Compress
import Optimize

final class CompareTests: XCTestCase {
    func testQATGivesInt8ModelAndCompareTable() throws {
        let m = try sequential([dense(16, 32), relu(), dense(32, 5)], seed: 3)
        let x = try Tensor.randn([256, 16], seed: 1)
        let y = try Tensor((0..<256).map { Double($0 % 5) }, shape: [256], dtype: .float32)
        let base = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: Adam(lr: 1e-2), epochs: 5, seed: 1, logEvery: 0).model
        let run = try qat(base, x: x, y: y, epochs: 2, mode: .static)
        XCTAssertEqual(run.history.count, 2)
        XCTAssertEqual(run.model.graph.nodes.filter { $0.op == .qdense }.count, 2)
        XCTAssertEqual(run.model.graph.nodes.filter { $0.op == .fakeQuant }.count, 0)
        let pruned = try prune(base, sparsity: 0.9)
        let c = try compare([("float", base), ("qat", run.model), ("pruned", pruned)], x: x, y: y, runs: 20)
        XCTAssertEqual(c.rows.map(\.name), ["float", "qat", "pruned"])
        XCTAssertEqual(c.rows[0].parameters, 16 * 32 + 32 + 32 * 5 + 5)
        XCTAssertEqual(c.rows[2].sparsity, 0.9, accuracy: 0.01)
        XCTAssertLessThan(c.rows[1].fileBytes, c.rows[0].fileBytes)
        for r in c.rows { XCTAssertGreaterThan(r.p50Batch1, 0); XCTAssertLessThanOrEqual(r.p50Batch64, r.p99Batch64) }
        XCTAssertTrue(c.description.contains("b1 p50 ms"))
        // fake_quant's straight-through gradient and forward rounding.
        let t = try Tensor([0.1, -1.2, 0.5, 2] as [Float], shape: [2, 2])
        let fq = try Tensor.fakeQuant(t, axis: nil, bits: 2)   // one level each side: scale 2; 0.5/2 = 0.25 rounds to 0
        XCTAssertEqual(fq.toFloats(), [0, -2, 0, 2])
    }
}
