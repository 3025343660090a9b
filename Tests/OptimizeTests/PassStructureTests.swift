import XCTest
import Graph
import Tensor
import Train
@testable import Optimize

/// Each pass's rewrite, checked on the graph's structure.
final class PassStructureTests: XCTestCase {
    func graph(_ build: (inout Graph, Int) throws -> [Int]) throws -> Model {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(6)])
        g.outputs = try build(&g, x)
        return Model(graph: g)
    }

    func testDCERemovesUnusedNodesAndParams() throws {
        let m = try graph { g, x in
            let w = try g.param("w", Tensor.randn([6, 6], seed: 1))
            _ = try g.op(.matmul, [x, w])
            return [try g.op(.relu, [x])]
        }
        let (o, r) = try optimize(m, passes: ["dce"])
        XCTAssertEqual(ops(o), ["relu"]); XCTAssertTrue(o.graph.params.isEmpty)
        XCTAssertEqual(r.passes.first?.changes.count, 2)
    }

    func testCSEMergesDuplicates() throws {
        let m = try graph { g, x in [try g.op(.add, [try g.op(.tanh, [x]), try g.op(.tanh, [x])])] }
        let (o, _) = try optimize(m, passes: ["cse", "dce"])
        XCTAssertEqual(ops(o), ["tanh", "add"])
        XCTAssertEqual(o.graph.nodes.last!.inputs[0], o.graph.nodes.last!.inputs[1])
    }

    func testConstantFolding() throws {
        let m = try graph { g, x in
            let w = try g.param("w", Tensor.randn([6, 6], seed: 1))
            return [try g.op(.matmul, [x, try g.op(.transpose, [w], ["perm": .ints([1, 0])])])]
        }
        let (o, _) = try optimize(m, passes: ["constant_fold", "dce"])
        XCTAssertEqual(ops(o), ["matmul"])
        XCTAssertEqual(o.graph.params.keys.sorted(), ["transpose_2.folded"])
    }

    func testIdentityAndDropoutElimination() throws {
        let m = try graph { g, x in
            var y = try g.op(.dropout, [x], ["p": .double(0.5)])
            y = try g.op(.reshape, [y], ["shape": .ints([0, 6])])
            y = try g.op(.transpose, [y], ["perm": .ints([0, 1])])
            y = try g.op(.mul, [y, try g.param("one", Tensor.ones([6]))])
            return [try g.op(.relu, [y])]
        }
        let (o, r) = try optimize(m, passes: ["eliminate_identity", "dce"])
        XCTAssertEqual(ops(o), ["relu"])
        XCTAssertEqual(r.passes[0].changes.count, 4)
    }

    func testBatchNormFoldsIntoDenseAndConv() throws {
        var b = ModelBuilder(seed: 1)
        var x = try b.input(shape: [2, 6, 6])
        x = try b.apply(conv2d(2, 3, kernel: 3), x); x = try b.apply(batchNorm(3), x)
        x = try b.apply(flatten(), x)
        x = try b.apply(dense(48, 5), x); x = try b.apply(batchNorm(5), x)
        var m = try b.model(outputs: [x]); try randomizeStats(&m, seed: 2)
        let (o, r) = try optimize(m, passes: ["fold_batchnorm", "dce"])
        XCTAssertEqual(ops(o), ["conv2d", "flatten", "dense"])
        XCTAssertEqual(r.passes[0].changes, ["folded batch_norm_1 into conv2d_0", "folded batch_norm_4 into dense_3"])
        XCTAssertFalse(o.graph.params.keys.contains { $0.contains("running") })
    }

    func testDenseAndConvActivationFusion() throws {
        var b = ModelBuilder(seed: 1)
        var x = try b.input(shape: [2, 6, 6])
        x = try b.apply(conv2d(2, 3, kernel: 3), x); x = try b.apply(relu(), x)
        x = try b.apply(flatten(), x)
        x = try b.apply(dense(48, 5), x); x = try b.apply(relu(), x)
        x = try b.apply(dense(5, 5), x); x = try b.apply(gelu(), x)
        let m = try b.model(outputs: [x])
        let (o, _) = try optimize(m, passes: ["fuse_dense_act", "dce"])
        XCTAssertEqual(ops(o), ["conv2d_act", "flatten", "dense", "dense_act"])
        XCTAssertEqual(o.graph.nodes.first { $0.op == .dense }!.attrs["activation"], .string("relu"))
        XCTAssertEqual(o.graph.nodes.first { $0.op == .denseAct }!.attrs["activation"], .string("gelu"))
    }

    func testMatmulPlusBiasBecomesDense() throws {
        let m = try graph { g, x in
            let mm = try g.op(.matmul, [x, try g.param("w", Tensor.randn([6, 4], seed: 1))])
            return [try g.op(.relu, [try g.op(.add, [try g.param("b", Tensor.randn([4], seed: 2)), mm])])]
        }
        let (o, _) = try optimize(m, passes: ["fuse_dense_act", "dce"])
        XCTAssertEqual(ops(o), ["dense"])
        XCTAssertEqual(o.graph.nodes.last!.attrs["activation"], .string("relu"))
    }

    func testElementwiseChainFusion() throws {
        let m = try graph { g, x in
            let h = try g.op(.tanh, [x])
            let s = try g.op(.sub, [try g.param("c", Tensor.randn([6], seed: 1)), try g.op(.add, [x, h])])
            return [try g.op(.sigmoid, [try g.op(.relu, [s])])]
        }
        let (o, r) = try optimize(m, passes: ["fuse_elementwise", "dce"])
        XCTAssertEqual(ops(o), ["elementwise"])
        XCTAssertEqual(o.graph.nodes.last!.attrs["steps"], .chain(try ChainStep.parseLegacy("tanh;add#0;rsub#1;relu;sigmoid")))
        XCTAssertEqual(r.passes[0].changes.count, 1)
    }

    func testReshapeAndTransposeSimplification() throws {
        let m = try graph { g, x in
            let r = try g.op(.reshape, [try g.op(.reshape, [x], ["shape": .ints([0, 2, 3])])], ["shape": .ints([0, 3, 2])])
            let t = try g.op(.transpose, [try g.op(.transpose, [r], ["perm": .ints([0, 2, 1])])], ["perm": .ints([0, 2, 1])])
            let u = try g.op(.transpose, [try g.op(.transpose, [t], ["perm": .ints([1, 0, 2])])], ["perm": .ints([0, 2, 1])])
            return [u]
        }
        let (o, _) = try optimize(m, passes: ["simplify_reshape", "dce"])
        XCTAssertEqual(ops(o), ["reshape", "transpose"])
        XCTAssertEqual(o.graph.nodes.first { $0.op == .reshape }!.inputs, [0])
        XCTAssertEqual(o.graph.nodes.last!.attrs["perm"], .ints([1, 2, 0]))
    }

    func testQDQIsANoOpWithoutQuantizeOps() throws {
        let m = try randomMLP(seed: 3)
        let (o, r) = try optimize(m, passes: ["eliminate_qdq"])
        XCTAssertEqual(o.graph.nodes.count, m.graph.nodes.count)
        XCTAssertTrue(r.passes.isEmpty)
    }

    func testMemoryPlanSharesBuffers() throws {
        let m = try sequential([dense(64, 128), relu(), dense(128, 64), relu(), dense(64, 10)], seed: 1)
        let p = planMemory(m.graph, batch: 64)
        XCTAssertEqual(p.naiveBytes, 64 * (128 + 64 + 10) * 4)
        XCTAssertLessThan(p.plannedBytes, p.naiveBytes)
        XCTAssertEqual(p.buffer.count, 3)
        let r = try residualMLP()
        let (o, rep) = try optimize(r)
        XCTAssertLessThanOrEqual(planMemory(o.graph, batch: 64).plannedBytes, planMemory(r.graph, batch: 64).plannedBytes)
        XCTAssertLessThanOrEqual(rep.flopsAfter, rep.flopsBefore)
        XCTAssertTrue(rep.description.contains("fuse_dense_act"))
    }
}
