import XCTest
@testable import Tensor

/// The training kernels (CKernels/train.c) against slow, obvious twins, at every SIMD level.
final class TrainKernelTests: XCTestCase {
    func levels(_ body: () throws -> Void) rethrows {
        let old = Tensor.simdLevel
        defer { Tensor.setSIMDLevel(old) }
        for level in Set([0, 1, Tensor.cpuSIMDLevel]).sorted() where level <= Tensor.cpuSIMDLevel {
            Tensor.setSIMDLevel(level)
            try body()
        }
    }

    func testAdamMatchesScalarLoopBitForBit() throws {
        for (n, dec) in [(1, false), (37, true), (70_001, false), (300_017, true)] {
            let p0 = randomFloats(n, seed: 1), g = randomFloats(n, seed: 2)
            let m0 = randomFloats(n, seed: 3).map { $0 * 0.1 }, v0 = randomFloats(n, seed: 4).map { $0 * $0 }
            let (lr, b1, b2, c1, c2, eps, wd): (Float, Float, Float, Float, Float, Float, Float) = (1e-3, 0.9, 0.999, 0.19, 0.002, 1e-8, 0.01)
            var rp = p0, rm = m0, rv = v0
            for i in 0..<n {
                var gi = g[i]
                if dec { rp[i] -= lr * wd * rp[i] } else { gi += wd * rp[i] }
                rm[i] = b1 * rm[i] + (1 - b1) * gi
                rv[i] = b2 * rv[i] + (1 - b2) * gi * gi
                rp[i] -= lr * (rm[i] / c1) / ((rv[i] / c2).squareRoot() + eps)
            }
            try levels {
                for threads in [1, 2] {
                    var p = p0, m = m0, v = v0
                    withThreads(threads) {
                        p.withUnsafeMutableBufferPointer { pb in m.withUnsafeMutableBufferPointer { mb in v.withUnsafeMutableBufferPointer { vb in
                            g.withUnsafeBufferPointer { gb in
                                OptimizerKernels.adam(pb, grad: gb, m: mb, v: vb, lr: lr, beta1: b1, beta2: b2, c1: c1, c2: c2,
                                                      eps: eps, weightDecay: wd, decoupled: dec)
                            }
                        } } }
                    }
                    XCTAssertEqual(p, rp, "n \(n) level \(Tensor.simdLevel)")
                    XCTAssertEqual(m, rm); XCTAssertEqual(v, rv)
                }
            }
        }
    }

    func testDenseEpilogueBackward() throws {
        for (rows, cols) in [(1, 1), (5, 17), (64, 33)] {
            let g = randomTensor([rows, cols], seed: 5), y = try randomTensor([rows, cols], seed: 6).relu()
            let gv = g.toFloats(), yv = y.toFloats()
            var refOut = [Float](repeating: 0, count: rows * cols), refBias = [Float](repeating: 0, count: cols)
            for r in 0..<rows { for j in 0..<cols { refOut[r * cols + j] = yv[r * cols + j] > 0 ? gv[r * cols + j] : 0 } }
            for r in 0..<rows { for j in 0..<cols { refBias[j] += refOut[r * cols + j] } }
            try levels {
                var out = try Tensor.empty([rows, cols]), b: Tensor? = try Tensor.empty([cols])
                try Tensor.denseEpilogueBackward(grad: g, output: y, into: &out, biasGrad: &b)
                XCTAssertEqual(out.toFloats(), refOut)
                XCTAssertEqual(b!.toFloats(), refBias)
                // no activation: the bias sum alone, reading the gradient in place
                var same = g.contiguous(), b2: Tensor? = try Tensor.empty([cols])
                try Tensor.denseEpilogueBackward(grad: g, output: nil, into: &same, biasGrad: &b2)
                assertClose(b2!.toFloats(), try g.sum(axes: [0]).toDoubles(), rtol: 1e-5, atol: 1e-5)
            }
        }
        var out = try Tensor.empty([2, 3]), none: Tensor? = nil
        assertThrows(try Tensor.denseEpilogueBackward(grad: Tensor.zeros([3, 2]), output: nil, into: &out, biasGrad: &none), contains: "output buffer")
    }

    func testCrossEntropyMatchesLogSoftmax() throws {
        let z = try randomTensor([7, 5], seed: 8) * 3
        let labels = try Tensor([0, 4, 2, 2, 1, 3, 0] as [Float], shape: [7])
        var probs = try Tensor.empty([7, 5])
        let loss = try Tensor.crossEntropy(logits: z, labels: labels, probs: &probs)
        let z64 = z.astype(.float64), lsm = try z64.logSoftmax(axis: -1).toDoubles()
        let want = (0..<7).map { -lsm[$0 * 5 + Int(labels.toFloats()[$0])] }.reduce(0, +) / 7
        XCTAssertEqual(loss, want, accuracy: 1e-5)
        assertClose(probs.toFloats(), try z64.softmax(axis: -1).toDoubles(), rtol: 1e-5, atol: 1e-6)
        var g = try Tensor.empty([7, 5])
        try Tensor.crossEntropyBackward(probs: probs, labels: labels, scale: 0.5, into: &g)
        let onehot = try Tensor.oneHot(labels.astype(.int32), depth: 5, dtype: .float64)
        assertClose(g.toFloats(), try ((z64.softmax(axis: -1) - onehot) * 0.5).toDoubles(), rtol: 1e-5, atol: 1e-6)
        assertThrows(try Tensor.crossEntropy(logits: z, labels: Tensor([0, 5, 0, 0, 0, 0, 0] as [Float], shape: [7]), probs: &probs),
                     contains: "label 5 out of range for 5 classes")
    }

    func testColumnStatsAndFinite() throws {
        let x = try randomTensor([301, 70], seed: 9) * 2 + 5
        let (mean, std, lo, hi) = try x.columnStats()
        let v = x.astype(.float64)
        assertClose(mean.map(Float.init), try v.mean(axes: [0]).toDoubles(), rtol: 1e-5, atol: 1e-5)
        assertClose(std.map(Float.init), try v.std(axes: [0]).toDoubles(), rtol: 1e-5, atol: 1e-5)
        XCTAssertEqual(lo, try x.min(axes: [0]).toDoubles())
        XCTAssertEqual(hi, try x.max(axes: [0]).toDoubles())
        XCTAssertEqual(try Tensor.ones([1, 3]).columnStats().std, [0, 0, 0])
        XCTAssertTrue(x.allFinite)
        var bad = x.toFloats()
        bad[12_345] = .infinity
        XCTAssertFalse(try Tensor(bad, shape: x.shape).allFinite)
        bad[12_345] = .nan
        XCTAssertFalse(try Tensor(bad, shape: x.shape).allFinite)
    }

    func testBufferCacheReusesOnlyUnsharedBuffers() throws {
        let cache = BufferCache()
        var a = try cache.buffer(0, shape: [4, 4])
        try Tensor.linear(Tensor.ones([4, 2]), weight: Tensor.ones([2, 4]), into: &a)
        let kept = a
        do {
            var b = try cache.buffer(0, shape: [4, 4])   // `kept` still holds the first buffer
            try Tensor.linear(Tensor.ones([4, 2]), weight: Tensor.zeros([2, 4]), into: &b)
        }
        XCTAssertEqual(kept.toFloats(), [Float](repeating: 2, count: 16))
        XCTAssertEqual(cache.allocations, 2)
        _ = try cache.buffer(0, shape: [4, 4])      // nobody else holds the second one now
        XCTAssertEqual(cache.allocations, 2)
        XCTAssertEqual(cache.count, 1)
    }

    func testIntoKernelsMatchAllocatingOnes() throws {
        let x = randomTensor([9, 13], seed: 10), w = randomTensor([13, 6], seed: 11), bias = randomTensor([6], seed: 12)
        var y = try Tensor.empty([9, 6])
        try Tensor.linear(x, weight: w, bias: bias, activation: .relu, into: &y)
        XCTAssertEqual(y.toFloats(), try Tensor.linear(x, weight: w, bias: bias, activation: .relu).toFloats())
        // beta = 1 accumulates: out = x.T @ x + out
        var acc = try Tensor.ones([13, 13])
        try Tensor.gemm(x.T, x, beta: 1, into: &acc)
        XCTAssertEqual(acc.toFloats(), try Tensor.gemm(x.T, x, beta: 1, c: Tensor.ones([13, 13])).toFloats())
        var rows = try Tensor.empty([3, 13])
        try x.selectRows([8, 0, 8], into: &rows)
        XCTAssertEqual(rows.toFloats(), try x.indexSelect(axis: 0, indices: Tensor([8, 0, 8], shape: [3], dtype: .int32)).toFloats())
        var one = try Tensor.empty([1, 13])
        assertThrows(try x.selectRows([9], into: &one), contains: "out of range")
    }
}
