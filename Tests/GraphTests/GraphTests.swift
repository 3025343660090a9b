import XCTest
import Tensor
@testable import Graph

final class GraphTests: XCTestCase {
    func mlp() throws -> Graph {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3)])
        let w = try g.param("w", Tensor.randn([3, 4], seed: 1)), b = try g.param("b", Tensor.zeros([4]))
        let h = try g.op(.dense, [x, w, b], ["activation": .string("relu")])
        let s = try g.op(.softmax, [h])
        g.outputs = [s]
        return g
    }

    func testShapeInferenceWithBatchAndVerify() throws {
        let g = try mlp()
        XCTAssertEqual(g.nodes.last!.shape, [.batch, .fixed(4)])
        try g.verify()
        var bad = g
        bad.nodes[3].shape = [.batch, .fixed(5)]
        XCTAssertThrowsError(try bad.verify()) { XCTAssertTrue("\($0)".contains("records shape"), "\($0)") }
        var cyc = g
        cyc.nodes[3].inputs = [4, 1, 2]
        XCTAssertThrowsError(try cyc.verify()) { XCTAssertTrue("\($0)".contains("cycle"), "\($0)") }
        var g2 = g
        XCTAssertThrowsError(try g2.op(.dense, [0, 1, 1])) { XCTAssertTrue("\($0)".contains("bias"), "\($0)") }
        XCTAssertThrowsError(try g2.op(.matmul, [0])) { XCTAssertTrue("\($0)".contains("expected 2...2 inputs"), "\($0)") }
        XCTAssertThrowsError(try g2.op(OpName(rawValue: "nope"), [0]))
        let r = try g2.op(.reshape, [3], ["shape": .ints([0, 2, -1])])
        XCTAssertEqual(g2.nodes[r].shape, [.batch, .fixed(2), .fixed(2)])
    }

    /// `run` (the pre-resolved eval program) gives the same values as `forward` on a graph
    /// with a value read twice by one node, a value read by two nodes, two outputs, a new
    /// batch size, and weights replaced between calls.
    func testRunMatchesForward() throws {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3)])
        let w = try g.param("w", Tensor.randn([3, 3], seed: 2))
        let h = try g.op(.matmul, [x, w])
        let sq = try g.op(.mul, [h, h])
        let t = try g.op(.tanh, [h])
        g.outputs = [try g.op(.add, [sq, t]), t]
        let exec = try Executor(g)
        for (n, seed) in [(2, 1), (5, 2), (2, 3)] {
            if seed == 3 { exec.graph.params["w"] = try Tensor.randn([3, 3], seed: 9) }
            let feeds = ["x": try Tensor.randn([n, 3], seed: UInt64(seed))]
            let a = try exec.forward(feeds)
            let r = try exec.run(feeds)
            XCTAssertEqual(r.count, 2)
            XCTAssertEqual(r[0].toFloats(), a.output(0).toFloats())
            XCTAssertEqual(r[1].toFloats(), a.output(1).toFloats())
        }
        XCTAssertThrowsError(try exec.run([:])) { XCTAssertTrue("\($0)".contains("missing input 'x'"), "\($0)") }
    }

    func testExecutorMatchesEagerAndCachesPlans() throws {
        let g = try mlp()
        let exec = try Executor(g)
        for n in [1, 5, 1] {
            let x = try Tensor.randn([n, 3], seed: UInt64(n))
            let y = try exec.run(["x": x])[0]
            let ref = try Tensor.matmul(x, g.params["w"]!).relu().softmax(axis: -1)
            XCTAssertEqual(y.toFloats(), ref.toFloats())
        }
        XCTAssertThrowsError(try exec.run(["x": Tensor.zeros([2, 4])])) { XCTAssertTrue("\($0)".contains("expected [batch, 3]"), "\($0)") }
        XCTAssertThrowsError(try exec.run([:])) { XCTAssertTrue("\($0)".contains("missing input 'x'"), "\($0)") }
    }

    func testGraphBackwardMatchesTape() throws {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3)], dtype: .float64)
        let w = try g.param("w", Tensor.randn([3, 2], seed: 4, dtype: .float64))
        let h = try g.op(.tanh, [try g.op(.matmul, [x, w])])
        g.outputs = [try g.op(.sum, [h])]
        let exec = try Executor(g)
        let xv = try Tensor.randn([4, 3], seed: 5, dtype: .float64)
        let a = try exec.forward(["x": xv], training: true)
        let gw = try exec.backward(a).params["w"]!
        let ref = try valueAndGrad({ v in try v[0].matmul(v[1]).tanh().sum() }, at: [xv, g.params["w"]!]).grads[1]
        XCTAssertEqual(gw.toDoubles(), ref.toDoubles())
    }

    func testEagerGradAPI() throws {
        let t = try Tensor([1, -2, 3] as [Double])
        XCTAssertEqual(try grad({ x in try (x * x).sum() }, at: t).toDoubles(), [2, -4, 6])
        let (v, g) = try valueAndGrad({ x in try (x * 3.0 + 1).mean() }, at: t)
        XCTAssertEqual(try v.item(), 3)
        XCTAssertEqual(g.toDoubles(), [1, 1, 1])
        XCTAssertThrowsError(try grad({ x in x }, at: t))
    }

    /// float32 kernels (Tensor.conv2d / pooling) against the plain im2col and pooling loops.
    func testFastConvAndPoolMatchPlainLoops() throws {
        let x = try Tensor.randn([2, 3, 7, 6], seed: 1), w = try Tensor.randn([4, 3, 3, 2], seed: 2), b = try Tensor.randn([4], seed: 3)
        let attrs: Attrs = ["stride": .ints([2, 1]), "padding": .ints([1, 0])]
        let conv = try OpRegistry.op(.conv2d)
        let fast = try conv.forward([x, w, b], attrs, OpContext(training: false)).0.toDoubles()
        let slow = try conv.forward([x.astype(.float64), w.astype(.float64), b.astype(.float64)], attrs, OpContext(training: false)).0.toDoubles()
        for (f, s) in zip(fast, slow) { XCTAssertEqual(f, s, accuracy: 1e-4) }
        for op in [OpName.maxPool2d, .avgPool2d] {
            let pa: Attrs = ["kernel": .int(3), "stride": .int(2), "padding": .int(1)]
            let p = try OpRegistry.op(op)
            let f = try p.forward([x], pa, OpContext(training: false)).0.toDoubles()
            let s = try p.forward([x.astype(.float64)], pa, OpContext(training: false)).0.toDoubles()
            for (a, c) in zip(f, s) { XCTAssertEqual(a, c, accuracy: 1e-5) }
        }
    }

    func testDropoutIsSeededAndEvalIdentity() throws {
        let d = try OpRegistry.op(.dropout), x = try Tensor.ones([1000])
        let a = try d.forward([x], ["p": .double(0.5)], OpContext(training: true, seed: 1)).0
        let b = try d.forward([x], ["p": .double(0.5)], OpContext(training: true, seed: 1)).0
        XCTAssertEqual(a.toFloats(), b.toFloats())
        let kept = a.toFloats().filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { $0 == 2 }); XCTAssertTrue((400...600).contains(kept.count))
        XCTAssertEqual(try d.forward([x], ["p": .double(0.5)], OpContext(training: false)).0.toFloats(), x.toFloats())
    }
}
