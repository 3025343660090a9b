import XCTest
import Graph
import Tensor
import Train
@testable import Optimize

/// Compression's storage rewrites as entries of the pass table: run only by name, through
/// the same rounds, verifier and check mode as the optimizer's passes.
final class CompressionPassTests: XCTestCase {
    /// A residual MLP whose first dense layer has every other weight zeroed.
    func halfZeroMLP() throws -> Model {
        var m = try residualMLP()
        let d = m.graph.nodes.first { $0.op == .dense }!, name = m.graph.paramName(d, 1)!
        let w = m.graph.params[name]!
        m.graph.params[name] = try Tensor(w.toFloats().enumerated().map { $0.offset % 2 == 0 ? 0 : $0.element }, shape: w.shape)
        return m
    }

    func testNoLevelEnablesThem() throws {
        let byName = Set(passTable.filter { $0.level == nil }.map(\.name))
        XCTAssertEqual(byName, ["densify", "sparsify", "quantize", "dequantize"])
        let (_, report) = try optimize(try halfZeroMLP(), level: 2)
        XCTAssertTrue(report.passes.allSatisfy { !byName.contains($0.name) })
    }

    func testSparsifyAndDensifyRoundTrip() throws {
        let m = try halfZeroMLP(), x = try Tensor.randn([3, m.inputShape.last!.size!], seed: 2)
        let (s, report) = try optimize(m, passes: ["sparsify"], check: true)
        XCTAssertEqual(s.graph.nodes.filter { $0.op == .sparseDense }.count, 1)
        XCTAssertTrue(report.passes.contains { $0.changes.contains { $0.hasPrefix("sparsified") } })
        XCTAssertEqual(maxAbsDiff([try eval(m, x)], [try eval(s, x)]), 0, accuracy: 1e-5)
        let (d, _) = try optimize(s, passes: ["densify"])
        XCTAssertFalse(d.graph.nodes.contains { $0.op == .sparseDense })
        XCTAssertEqual(try eval(d, x).toFloats(), try eval(m, x).toFloats())
    }

    func testQuantizeAndDequantize() throws {
        let m = try residualMLP(), x = try Tensor.randn([4, m.inputShape.last!.size!], seed: 3)
        let (q, report) = try optimize(m, passes: ["quantize"], check: true)
        let dense = m.graph.nodes.filter { $0.op == .dense }.count
        XCTAssertEqual(q.graph.nodes.filter { $0.op == .qdense }.count, dense)
        XCTAssertLessThan(report.passes.first { $0.name == "quantize" }!.maxAbsDiff!, 0.5)
        let (d, _) = try optimize(q, passes: ["dequantize"])
        XCTAssertEqual(d.graph.nodes.filter { $0.op == .dense }.count, dense)
        XCTAssertEqual(maxAbsDiff([try eval(m, x)], [try eval(d, x)]), 0, accuracy: 0.5)
    }
}
