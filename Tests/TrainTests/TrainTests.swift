import XCTest
import Tensor
import Graph
import Optimize
@testable import Train

final class OptimizerTests: XCTestCase {
    func stepOnce(_ opt: inout some Optimizer, p: [Float], g: [Float], times: Int = 1) throws -> [Float] {
        var params = ["w": try Tensor(p)]
        for _ in 0..<times { try opt.step(&params, ["w": try Tensor(g)], names: ["w"]) }
        return params["w"]!.toFloats()
    }

    func testSGDMomentumNesterovDecay() throws {
        var plain = SGD(lr: 0.1)
        XCTAssertEqual(try stepOnce(&plain, p: [1, -2], g: [0.5, 1]), [0.95, -2.1])
        // Two steps, momentum 0.9, wd 0.1: g1 = 0.5 + 0.1 = 0.6, v1 = 0.6, p1 = 1 - 0.06 = 0.94;
        // g2 = 0.5 + 0.094 = 0.594, v2 = 0.54 + 0.594 = 1.134, p2 = 0.94 - 0.1134 = 0.8266.
        var mom = SGD(lr: 0.1, momentum: 0.9, weightDecay: 0.1)
        XCTAssertEqual(try stepOnce(&mom, p: [1], g: [0.5], times: 2)[0], 0.8266, accuracy: 1e-6)
        // Nesterov one step: v = g = 0.5, update g + 0.9 v = 0.95 -> 1 - 0.095.
        var nest = SGD(lr: 0.1, momentum: 0.9, nesterov: true)
        XCTAssertEqual(try stepOnce(&nest, p: [1], g: [0.5])[0], 0.905, accuracy: 1e-6)
    }

    func testAdamAdamWRMSprop() throws {
        // Adam's first step is lr · sign(g) (bias correction makes m̂ = g, v̂ = g²).
        var adam = Adam(lr: 0.01)
        let a = try stepOnce(&adam, p: [1, 1], g: [0.3, -4])
        XCTAssertEqual(a[0], 0.99, accuracy: 1e-6); XCTAssertEqual(a[1], 1.01, accuracy: 1e-6)
        // Second step with the same g still moves by lr (m̂ = g, v̂ = g²).
        XCTAssertEqual(try stepOnce(&adam, p: [1], g: [0.3], times: 2)[0], 0.98, accuracy: 1e-5)
        // AdamW: p ← p − lr·wd·p, then the Adam step: 1 − 0.01·0.1 − 0.01 = 0.989.
        var w = adamW(lr: 0.01, weightDecay: 0.1)
        XCTAssertEqual(try stepOnce(&w, p: [1], g: [0.3])[0], 0.989, accuracy: 1e-6)
        // RMSprop: s = 0.01·g² = 0.0009·... with g = 0.3: s = 0.0009, step = 0.01·0.3/0.03 = 0.1.
        var r = RMSprop(lr: 0.01, alpha: 0.99, eps: 0)
        XCTAssertEqual(try stepOnce(&r, p: [1], g: [0.3])[0], 0.9, accuracy: 1e-5)
    }

    func testClipAndSchedules() throws {
        var g = ["a": try Tensor([Float(3)]), "b": try Tensor([Float(4)])]
        let n = try clipGradNorm(&g, maxNorm: 1, names: ["a", "b"])
        XCTAssertEqual(n, 5, accuracy: 1e-9)
        XCTAssertEqual(Double(g["a"]!.toFloats()[0]), 0.6, accuracy: 1e-5)
        XCTAssertEqual(LRSchedule.step(every: 10, gamma: 0.5).factor(25), 0.25)
        XCTAssertEqual(LRSchedule.cosine(total: 100).factor(50), 0.5, accuracy: 1e-12)
        XCTAssertEqual(LRSchedule.warmup(steps: 4, then: .constant).factor(1), 0.5)
    }
}

final class TrainLoopTests: XCTestCase {
    func toyData(_ n: Int) throws -> (Tensor, Tensor) {
        let x = try Tensor.randn([n, 4], seed: 1)
        let s = try x.sum(axes: [1]).toFloats()
        return (x, try Tensor(s.map { $0 > 0 ? 1 : 0 } as [Float]))
    }
    func hash(_ m: Model) -> UInt64 {
        var bytes: [UInt8] = []
        for n in m.graph.paramNames { for f in m.graph.params[n]!.toFloats() { withUnsafeBytes(of: f.bitPattern) { bytes += $0 } } }
        return ModelFile.fnv1a(bytes[...])
    }

    func testReproducibleAcrossThreadCounts() throws {
        let (x, y) = try toyData(300)
        let m = try sequential([dense(4, 64), relu(), dropout(0.2), dense(64, 2)], seed: 3)
        var hashes: [UInt64] = []
        let before = Tensor.threads
        for t in [1, 2, 1] {
            Tensor.setThreads(t)
            let r = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: Adam(lr: 0.01), epochs: 3, batch: 32, seed: 9, logEvery: 0)
            hashes.append(hash(r.model))
        }
        Tensor.setThreads(before)
        XCTAssertEqual(Set(hashes).count, 1)
        let other = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: Adam(lr: 0.01), epochs: 3, batch: 32, seed: 10, logEvery: 0)
        XCTAssertNotEqual(hash(other.model), hashes[0])
    }

    func testBadDataFailsBeforeTraining() throws {
        let m = try sequential([dense(4, 2)])
        let (x, y) = try toyData(10)
        var nan = x.toFloats(); nan[5] = .nan
        XCTAssertThrowsError(try train(m, x: Tensor(nan, shape: [10, 4]), y: y, loss: .crossEntropy(), optimizer: SGD(), epochs: 1, logEvery: 0)) {
            XCTAssertTrue("\($0)".contains("NaN"), "\($0)")
        }
        XCTAssertThrowsError(try train(m, x: x, y: y.slice(axis: 0, start: 0, stop: 9), loss: .crossEntropy(), optimizer: SGD(), epochs: 1, logEvery: 0)) {
            XCTAssertTrue("\($0)".contains("10 rows but 9 labels"), "\($0)")
        }
        XCTAssertThrowsError(try train(m, x: x, y: y * 5, loss: .crossEntropy(), optimizer: SGD(), epochs: 1, logEvery: 0)) {
            XCTAssertTrue("\($0)".contains("not a class index"), "\($0)")
        }
        XCTAssertThrowsError(try train(m, x: Tensor.zeros([10, 3]), y: y, loss: .crossEntropy(), optimizer: SGD(), epochs: 1, logEvery: 0))
    }

    func testCancelEarlyStopAndRegression() throws {
        let (x, y) = try toyData(200)
        let m = try sequential([dense(4, 8), tanh(), dense(8, 2)], seed: 1)
        var calls = 0
        let r = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: SGD(lr: 0.1), epochs: 5, batch: 10, seed: 1, logEvery: 0,
                          shouldStop: { calls += 1; return calls > 25 })
        XCTAssertTrue(r.cancelled); XCTAssertEqual(r.history.count, 1)
        let es = try train(m, x: x, y: y, loss: .crossEntropy(), optimizer: SGD(lr: 5), epochs: 50, batch: 200, val: (x, y), seed: 1,
                           earlyStop: EarlyStop(patience: 2), logEvery: 0)
        XCTAssertTrue(es.stoppedEarly || es.history.count == 50)
        // Regression with mse on a linear target.
        let t = try x.matmul(Tensor([1, -2, 0.5, 3] as [Float], shape: [4, 1]))
        let lin = try sequential([dense(4, 1)], seed: 2)
        let rr = try train(lin, x: x, y: t, loss: .mse, optimizer: Adam(lr: 0.05), epochs: 60, batch: 50, seed: 1, logEvery: 0)
        let ev = try evaluate(rr.model, x: x, y: t)
        XCTAssertGreaterThan(ev.r2!, 0.99)
    }

    func testFunctionalResidualModelAndSummary() throws {
        var b = ModelBuilder(seed: 5)
        let x = try b.input(shape: [6])
        let h = try b.apply(dense(6, 6), x)
        let r = try b.add(x, try b.apply(relu(), h))
        let c = try b.concat([r, x])
        let out = try b.apply(dense(12, 3), c)
        let m = try b.model(outputs: [out])
        XCTAssertEqual(params(m), 6 * 6 + 6 + 12 * 3 + 3)
        XCTAssertEqual(try predict(m, Tensor.randn([5, 6], seed: 1)).shape, [5, 3])
        let s = summary(m)
        XCTAssertTrue(s.contains("dense_0") && s.contains("total trainable parameters: 81"), s)
        // Same seed, same weights; another seed, other weights.
        let a1 = try sequential([dense(3, 4)], seed: 1), a2 = try sequential([dense(3, 4)], seed: 1), a3 = try sequential([dense(3, 4)], seed: 2)
        XCTAssertEqual(a1.graph.params["dense_0.weight"]!.toFloats(), a2.graph.params["dense_0.weight"]!.toFloats())
        XCTAssertNotEqual(a1.graph.params["dense_0.weight"]!.toFloats(), a3.graph.params["dense_0.weight"]!.toFloats())
    }

    func testConvNetTrainsAndBatchNormUpdatesStats() throws {
        let (x, y) = try toyData(64)
        let xi = try x.reshape([64, 1, 2, 2])
        let m = try sequential([conv2d(1, 4, kernel: 2, padding: 1), batchNorm(4), relu(), maxPool(2), flatten(), dense(4, 2)], inputShape: [1, 2, 2], seed: 1)
        let r = try train(m, x: xi, y: y, loss: .crossEntropy(), optimizer: Adam(lr: 0.01), epochs: 2, batch: 16, seed: 1, logEvery: 0)
        XCTAssertNotEqual(r.model.graph.params.first { $0.key.hasSuffix("running_mean") }!.value.toFloats(), [0, 0, 0, 0])
        XCTAssertEqual(try predict(r.model, xi).shape, [64, 2])
    }
}

final class ModelFileTests: XCTestCase {
    func tmp(_ name: String) -> String { NSTemporaryDirectory() + "mlw-train-\(getpid())-\(name)" }

    func testRoundTrip() throws {
        var m = try sequential([dense(4, 8), relu(), batchNorm(8), dropout(0.1), dense(8, 3)], seed: 4)
        m.blobs["transforms"] = "{\"steps\": []}"
        let p = tmp("rt.mlwm")
        try save(m, p)
        let back = try loadModel(p)
        XCTAssertEqual(back.blobs, m.blobs)
        XCTAssertEqual(back.graph.paramNames, m.graph.paramNames)
        XCTAssertEqual(back.graph.buffers, m.graph.buffers)
        let x = try Tensor.randn([5, 4], seed: 2)
        XCTAssertEqual(try predict(back, x).toFloats(), try predict(m, x).toFloats())
        try? FileManager.default.removeItem(atPath: p)
    }

    func testCorruptTruncatedNewer() throws {
        let bytes = try ModelFile.encode(try sequential([dense(2, 2)]))
        func err(_ b: [UInt8]) -> String {
            do { _ = try ModelFile.decode(b); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(err(Array(bytes.prefix(30))).contains("too short"))
        XCTAssertTrue(err(Array(bytes.dropLast(3))).contains("truncated"))
        var flipped = bytes; flipped[bytes.count - 2] ^= 0xFF
        XCTAssertTrue(err(flipped).contains("checksum"))
        var newer = bytes; newer[8] = 9
        XCTAssertTrue(err(newer).contains("newer"))
        var magic = bytes; magic[0] = 0
        XCTAssertTrue(err(magic).contains("magic"))
        // Every truncation and every single-byte flip is an error, never a crash.
        for n in stride(from: 0, to: bytes.count, by: 7) { XCTAssertNotEqual(err(Array(bytes.prefix(n))), "no error") }
        XCTAssertThrowsError(try loadModel(tmp("missing")))
    }
}

final class MetricsTests: XCTestCase {
    func testClassificationAndAUC() throws {
        let scores = try Tensor([5, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0, 5] as [Float], shape: [4, 3])
        let e = try classificationMetrics(scores: scores, labels: [0, 1, 2, 2])
        XCTAssertEqual(e.accuracy, 0.75)
        XCTAssertEqual(e.confusion, [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
        XCTAssertEqual(e.perClass.map(\.precision), [1, 0.5, 1]); XCTAssertEqual(e.perClass.map(\.recall), [1, 1, 0.5])
        XCTAssertEqual(e.precision, 2.5 / 3, accuracy: 1e-12); XCTAssertEqual(e.recall, 2.5 / 3, accuracy: 1e-12)
        XCTAssertEqual(rocAUC([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])!, 0.75)
        XCTAssertEqual(topK([[0.1, 0.5, 0.4]], [2], k: 2), 1)
        let r = regressionMetrics(predictions: [1, 2, 3], targets: [1, 2, 4])
        XCTAssertEqual(r.mse!, 1.0 / 3, accuracy: 1e-12); XCTAssertEqual(r.r2!, 1 - 1 / (14.0 / 3), accuracy: 1e-12)
    }
}

/// Activation layers are named by `Activation`, the type the kernels and fused ops use.
final class ActivationLayerTests: XCTestCase {
    func testActivationLayersAddTheirOp() throws {
        let m = try sequential([dense(4, 3), activation(.relu), dense(3, 2), activation(.none), activation(.leakyRelu, slope: 0.2)])
        let ops = m.graph.nodes.filter { $0.op != .param && $0.op != .input }
        XCTAssertEqual(ops.map(\.op), [.dense, .dense, .leakyRelu])
        XCTAssertEqual(ops[0].attrs.activation, .relu)   // fused into the GEMM like relu()
        XCTAssertEqual(ops[2].attrs.double("slope", 0), 0.2)
    }
}
