import XCTest
import Foundation
import Graph
import Tensor
import Train
@testable import Optimize

final class InspectTests: XCTestCase {
    func testExplainListsNodesAndReport() throws {
        let m = try smallCNN()
        let text = explain(m)
        XCTAssertTrue(text.contains("conv2d_0"), text)
        XCTAssertTrue(text.contains("batch_norm"), text)
        XCTAssertTrue(text.contains("FLOPs"), text)
        let (o, r) = try optimize(m)
        let t2 = explain(o)
        XCTAssertTrue(t2.contains("conv2d+relu") || t2.contains("conv2d_act+relu"), t2)
        XCTAssertTrue(t2.contains("fold_batchnorm"), t2)
        XCTAssertTrue(t2.contains("optimize: \(r.nodesBefore) -> \(r.nodesAfter) nodes"), t2)
    }

    func testDotAndRender() throws {
        let m = try optimize(try residualMLP()).0
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-dot-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dotPath = dir.appendingPathComponent("g.dot").path
        try toDot(m, dotPath)
        let src = try String(contentsOfFile: dotPath, encoding: .utf8)
        XCTAssertTrue(src.hasPrefix("digraph mlw {"))
        XCTAssertEqual(src.components(separatedBy: " -> ").count - 1, m.graph.nodes.reduce(0) { $0 + $1.inputs.filter { !m.graph.isParam($0) }.count })
        guard graphvizDot() != nil else { throw XCTSkip("graphviz 'dot' not installed") }
        let svg = dir.appendingPathComponent("g.svg").path
        try render(m, svg)
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).contains("<svg"))
    }

    /// One compiled form per model revision: reused while the model is unchanged, made
    /// again when a weight changes (the unchanged copy keeps its own).
    func testCompiledModelIsMadeOncePerRevision() throws {
        var m = try sequential([dense(8, 8), relu(), dense(8, 2)], seed: 1)
        let a = try CompiledModel.of(m)
        XCTAssertTrue(try CompiledModel.of(m) === a)
        let x = try Tensor.randn([3, 8], seed: 2)
        func source(_ m: Model) throws -> [Float] { try Executor(m.graph).run([m.inputName: x])[0].toFloats() }
        // For this MLP the optimized graph gives the source graph's bits.
        XCTAssertEqual(try predict(m, x).toFloats(), try source(m))
        let before = m
        m.graph.params["dense_2.weight"] = try m.graph.params["dense_2.weight"]! * 2
        XCTAssertNotEqual(m.revision, before.revision)
        let b = try CompiledModel.of(m)
        XCTAssertFalse(b === a)
        XCTAssertEqual(try predict(m, x).toFloats(), try source(m))
        XCTAssertTrue(try CompiledModel.of(before) === a)
        XCTAssertEqual(b.staticBatchSizes, [3])
    }
}
