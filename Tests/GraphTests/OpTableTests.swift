import Foundation
import XCTest
import Tensor
@testable import Graph

/// What the op table decides beyond forward and backward: names, lowerings, chain steps.
final class OpTableTests: XCTestCase {
    func testEveryEntryIsKeyedByItsName() {
        for (name, def) in OpRegistry.ops { XCTAssertEqual(name, def.name) }
        XCTAssertNil(OpRegistry.ops[.input]); XCTAssertNil(OpRegistry.ops[.param])
    }

    /// Views in the memory plan are the ops the table lowers to a view.
    func testViewsComeFromTheLowerings() {
        XCTAssertEqual(viewOps, [.reshape, .flatten, .dropout])
    }

    /// An op without a lowering (transpose, concat) still runs inside a static program, on
    /// its Tensor kernel, with the same bits as the Tensor path.
    func testOpWithoutLoweringRunsInTheStaticProgram() throws {
        XCTAssertNil(OpRegistry.ops[.transpose]!.lower)
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3), .fixed(4)])
        let t = try g.op(.transpose, [x], ["perm": .ints([0, 2, 1])])
        g.outputs = [try g.op(.relu, [try g.op(.concat, [t, t], ["axis": .int(1)])])]
        let e = try Executor(g), feeds = ["x": try Tensor.randn([2, 3, 4], seed: 4)]
        let fast = try e.run(feeds)[0]
        XCTAssertEqual(e.staticBatchSizes, [2])
        XCTAssertEqual(fast.toFloats(), try e.forward(feeds).output().toFloats())
    }

    /// Chains are stored as steps; a model file from before (steps as text) still loads.
    func testChainStepsAreStructuredAndOldTextLoads() throws {
        let steps = [ChainStep(op: .add, operand: 1), ChainStep(op: .leakyRelu, slope: 0.2), ChainStep(op: .sub, operand: 1, reversed: true)]
        XCTAssertEqual(ChainStep.text(steps), "add#1;leaky_relu@0.2;rsub#1")
        XCTAssertEqual(try ChainStep.parseLegacy("add#1;leaky_relu@0.2;rsub#1"), steps)
        let old = Node(id: 2, op: .elementwise, inputs: [0, 1], attrs: ["steps": .string("add#1;leaky_relu@0.2;rsub#1")],
                       shape: [.batch, .fixed(3)], dtype: .float32, name: "chain")
        let json = try JSONEncoder().encode(old)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains(#""op":"elementwise""#), "op names stay plain strings in files")
        let read = try JSONDecoder().decode(Node.self, from: json)
        XCTAssertEqual(read.attrs["steps"], .chain(steps))
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3)]), b = try g.param("b", Tensor.ones([3]))
        XCTAssertThrowsError(try g.op(.elementwise, [x, b], ["steps": .chain([ChainStep(op: .add, operand: 2)])]))
        XCTAssertThrowsError(try g.op(.elementwise, [x, b], ["steps": .chain([ChainStep(op: .softmax)])]))
        XCTAssertNoThrow(try g.op(.elementwise, [x, b], ["steps": .chain(steps)]))
    }
}
