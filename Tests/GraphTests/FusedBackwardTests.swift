import XCTest
import Tensor
@testable import Graph

/// The float32 training paths (fused dense/ReLU/bias backward, fused cross-entropy, the
/// executor's reused buffers) against the same graphs in float64, which take the plain
/// unfused rules (themselves checked against finite differences in GradCheckTests).
final class FusedBackwardTests: XCTestCase {
    /// x [batch, 5] -> dense(7, relu) -> dense(3) -> cross_entropy(labels), in `dtype`.
    func mlp(_ dtype: DType, relu: Bool = true, bias: Bool = true) throws -> Graph {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(5)], dtype: dtype)
        let y = try g.input("y", shape: [.batch], dtype: dtype)
        let w1 = try g.param("w1", Tensor.randn([5, 7], seed: 1, dtype: dtype))
        let w2 = try g.param("w2", Tensor.randn([7, 3], seed: 2, dtype: dtype))
        var ins1 = [x, w1], ins2 = [0, w2]
        if bias {
            ins1.append(try g.param("b1", Tensor.randn([7], seed: 3, dtype: dtype)))
            ins2.append(try g.param("b2", Tensor.randn([3], seed: 4, dtype: dtype)))
        }
        let h = try g.op(.dense, ins1, relu ? ["activation": .string("relu")] : [:])
        ins2[0] = h
        let z = try g.op(.dense, ins2)
        g.outputs = [try g.op(.crossEntropy, [z, y]), z]
        return g
    }

    func feeds(_ n: Int, _ dtype: DType, seed: UInt64) throws -> [String: Tensor] {
        let labels = (0..<n).map { Double(($0 * 7 + Int(seed)) % 3) }
        return ["x": try Tensor.randn([n, 5], seed: seed, dtype: dtype), "y": try Tensor(labels, shape: [n], dtype: dtype)]
    }

    func testFusedFloat32MatchesFloat64Reference() throws {
        for (relu, bias) in [(true, true), (false, true), (true, false), (false, false)] {
            let fast = try Executor(mlp(.float32, relu: relu, bias: bias)), ref = try Executor(mlp(.float64, relu: relu, bias: bias))
            for (n, seed) in [(9, 20), (1, 21), (9, 22)] {
                let a = try fast.forward(feeds(n, .float32, seed: UInt64(seed)), training: true)
                let b = try ref.forward(feeds(n, .float64, seed: UInt64(seed)), training: true)
                XCTAssertEqual(try a.output(0).item(), try b.output(0).item(), accuracy: 1e-5)
                let ga = try fast.backward(a).params, gb = try ref.backward(b).params
                XCTAssertEqual(Set(ga.keys), Set(gb.keys))
                for (name, g) in gb {
                    let x = ga[name]!.toDoubles(), y = g.toDoubles()
                    XCTAssertEqual(ga[name]!.shape, g.shape)
                    for i in x.indices { XCTAssertEqual(x[i], y[i], accuracy: 1e-5, "\(name)[\(i)] relu \(relu) bias \(bias)") }
                }
            }
        }
    }

    func testStandaloneReluMatchesFloat64Reference() throws {
        func graph(_ dtype: DType) throws -> Graph {
            var g = Graph()
            let x = try g.input("x", shape: [.batch, .fixed(2), .fixed(3)], dtype: dtype)
            let t = try g.input("t", shape: [.batch, .fixed(2), .fixed(4)], dtype: dtype)
            let w = try g.param("w", Tensor.randn([3, 4], seed: 31, dtype: dtype))
            let h = try g.op(.relu, [try g.op(.matmul, [x, w])])
            g.outputs = [try g.op(.mse, [h, t])]
            return g
        }
        let fast = try Executor(graph(.float32)), ref = try Executor(graph(.float64))
        for seed in [40, 41] as [UInt64] {
            func feeds(_ d: DType) throws -> [String: Tensor] {
                ["x": try Tensor.randn([5, 2, 3], seed: seed, dtype: d), "t": try Tensor.randn([5, 2, 4], seed: seed + 9, dtype: d)]
            }
            let a = try fast.forward(feeds(.float32), training: true), b = try ref.forward(feeds(.float64), training: true)
            let ga = try fast.backward(a).params["w"]!.toDoubles(), gb = try ref.backward(b).params["w"]!.toDoubles()
            for i in ga.indices { XCTAssertEqual(ga[i], gb[i], accuracy: 1e-5) }
        }
    }

    func testInputGradientIsSkippedWhenNotNeeded() throws {
        let exec = try Executor(mlp(.float32))
        let a = try exec.forward(feeds(4, .float32, seed: 5), training: true)
        let grads = try exec.backward(a).nodeGrads
        XCTAssertNil(grads[0], "the input x needs no gradient")
        XCTAssertNotNil(grads[exec.graph.nodes.firstIndex { $0.op == .dense }!])
    }

    func testReusedBuffersKeepValueSemantics() throws {
        let exec = try Executor(mlp(.float32))
        let first = try exec.forward(feeds(6, .float32, seed: 7), training: true)
        let firstGrads = try exec.backward(first).params
        let (logits, gw) = (first.output(1).toFloats(), firstGrads["w1"]!.toFloats())
        // A second step while the first one's results are still held: they must not change,
        // and the new step must match a fresh executor's.
        let second = try exec.forward(feeds(6, .float32, seed: 8), training: true)
        let secondGrads = try exec.backward(second).params
        XCTAssertEqual(first.output(1).toFloats(), logits)
        XCTAssertEqual(firstGrads["w1"]!.toFloats(), gw)
        let fresh = try Executor(mlp(.float32))
        let f = try fresh.forward(feeds(6, .float32, seed: 8), training: true)
        XCTAssertEqual(second.output(1).toFloats(), f.output(1).toFloats())
        XCTAssertEqual(secondGrads["w1"]!.toFloats(), try fresh.backward(f).params["w1"]!.toFloats())
    }

    func testStepsAllocateBuffersOnce() throws {
        let exec = try Executor(mlp(.float32))
        func step(_ seed: UInt64) throws -> Double {
            let a = try exec.forward(feeds(8, .float32, seed: seed), training: true)
            _ = try exec.backward(a)
            return try a.output(0).item()
        }
        _ = try step(1)
        let made = exec.plan(batch: 8).cache.allocations
        for s in 2...4 { _ = try step(UInt64(s)) }
        XCTAssertEqual(exec.plan(batch: 8).cache.allocations, made)
        XCTAssertGreaterThan(made, 0)
    }
}
