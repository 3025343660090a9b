import XCTest
import Graph
import Tensor
import Train
@testable import Optimize

/// Every pass, alone and all together, keeps the outputs of random graphs (MLPs with
/// residuals and batch norms, CNNs) on random inputs.
final class PassEquivalenceTests: XCTestCase {
    func models() throws -> [(String, Model)] {
        var out: [(String, Model)] = []
        for s in 0..<12 { out.append(("mlp\(s)", try randomMLP(seed: UInt64(100 + s)))) }
        for s in 0..<8 { out.append(("cnn\(s)", try randomCNN(seed: UInt64(200 + s)))) }
        out.append(("residual", try residualMLP()))
        out.append(("cnn", try smallCNN()))
        return out
    }

    func testEveryPassAloneKeepsOutputs() throws {
        for (name, m) in try models() {
            let x = try Tensor.randn(m.inputShape.map { $0.resolve(batch: 3) }, seed: 9)
            let want = try eval(m, x)
            for p in passTable where p.level != nil {   // compression passes change rounding by design
                let (o, _) = try optimize(m, passes: [p.name, "dce"])
                XCTAssertEqual(maxAbsDiff([want], [try eval(o, x)]), 0, accuracy: 2e-5, "\(name) \(p.name)")
            }
        }
    }

    func testAllPassesWithCheckMode() throws {
        for (name, m) in try models() {
            let (o, report) = try optimize(m, level: 2, check: true)
            for p in report.passes { XCTAssertLessThan(p.maxAbsDiff ?? 1, 2e-5, "\(name) \(p.name)") }
            let x = try Tensor.randn(m.inputShape.map { $0.resolve(batch: 5) }, seed: 11)
            XCTAssertEqual(maxAbsDiff([try eval(m, x)], [try eval(o, x)]), 0, accuracy: 2e-5, name)
            XCTAssertLessThanOrEqual(o.graph.nodes.count, m.graph.nodes.count, name)
            if name.hasPrefix("cnn") { XCTAssertFalse(ops(o).contains("batch_norm"), name) }   // MLP residuals may keep a BN whose dense output is shared
            XCTAssertFalse(ops(o).contains("dropout"), name)
            try o.graph.verify()
        }
    }

    func testLevelOneKeepsBitsAndUnknownPassIsAnError() throws {
        let m = try randomMLP(seed: 7)
        let x = try Tensor.randn(m.inputShape.map { $0.resolve(batch: 4) }, seed: 1)
        let (o, report) = try optimize(m, level: 1)
        XCTAssertEqual(try eval(o, x).toFloats(), try eval(m, x).toFloats())
        XCTAssertTrue(report.passes.allSatisfy { try! pass(named: $0.name).level == 1 })
        XCTAssertThrowsError(try optimize(m, passes: ["nope"])) { XCTAssertTrue("\($0)".contains("unknown pass 'nope'")) }
        let (same, r2) = try optimize(m, disable: passTable.map(\.name))
        XCTAssertEqual(same.graph.nodes.count, m.graph.nodes.count)
        XCTAssertTrue(r2.passes.isEmpty)
    }

    func testFusedElementwiseMatchesReference() throws {
        let x = try Tensor.randn([3, 7, 5], seed: 1), b = try Tensor.randn([5], seed: 2), r = try Tensor.randn([3, 7, 5], seed: 3)
        let s = try Tensor.rand([1], seed: 4) + 1
        let steps = try ChainStep.parseLegacy("add#1;relu;rsub#2;mul#3;tanh;rdiv#3;sigmoid;leaky_relu@0.2;gelu;div#3;sub#1")
        let fused = try OpRegistry.op(.elementwise).forward([x, b, r, s], ["steps": .chain(steps)], OpContext(training: false)).0
        let ref = try chainReference([x, b, r, s], steps)
        XCTAssertEqual(maxAbsDiff([fused], [ref]), 0, accuracy: 1e-5)
        XCTAssertEqual(x.toFloats(), try Tensor.randn([3, 7, 5], seed: 1).toFloats(), "input unchanged")
    }
}
