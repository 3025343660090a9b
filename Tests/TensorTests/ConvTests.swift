import XCTest
@testable import Tensor

final class ConvTests: XCTestCase {
    func testConv2dMatchesNaive() throws {
        let cases: [([Int], [Int], (Int, Int), (Int, Int), (Int, Int), Int)] = [
            ([1, 1, 5, 5], [1, 1, 3, 3], (1, 1), (0, 0), (1, 1), 1),
            ([2, 3, 7, 9], [4, 3, 3, 2], (2, 1), (1, 2), (1, 1), 1),
            ([1, 4, 8, 8], [6, 2, 3, 3], (1, 2), (1, 1), (2, 1), 2),
            ([3, 2, 6, 5], [2, 1, 1, 1], (1, 1), (0, 0), (1, 1), 2),
            ([1, 3, 33, 17], [5, 3, 5, 5], (3, 3), (2, 2), (1, 1), 1),
            // stride 1 lowers over the padded width (with dilation, groups, odd widths)
            ([2, 4, 9, 7], [6, 2, 3, 2], (1, 1), (2, 1), (2, 1), 2),
            ([3, 8, 14, 14], [16, 8, 3, 3], (1, 1), (1, 1), (1, 1), 1),
            ([1, 1, 5, 3], [2, 1, 2, 3], (1, 1), (0, 2), (1, 2), 1),
        ]
        for (i, (xs, ws, st, pd, dl, g)) in cases.enumerated() {
            let x = randomTensor(xs, seed: UInt64(i)), w = randomTensor(ws, seed: UInt64(i + 50)), b = randomTensor([ws[0]], seed: 9)
            let y = try Tensor.conv2d(x, weight: w, bias: b, stride: st, padding: pd, dilation: dl, groups: g)
            let ref = Reference.conv2d(x.toFloats(), xs, w.toFloats(), ws, bias: b.toFloats(), stride: st, padding: pd, dilation: dl, groups: g)
            XCTAssertEqual(y.shape, ref.shape)
            assertClose(y.toFloats(), ref.values, rtol: 1e-4, atol: 1e-4, "case \(i)")
            let fused = try Tensor.conv2d(x, weight: w, bias: b, stride: st, padding: pd, dilation: dl, groups: g, activation: .relu)
            XCTAssertEqual(fused.toFloats(), y.toFloats().map { Swift.max($0, 0) }, "case \(i): ReLU in the GEMM's store loop")
        }
        assertThrows(try Tensor.conv2d(Tensor.zeros([1, 3, 4, 4]), weight: Tensor.zeros([2, 2, 3, 3])), contains: "conv2d: input [1, 3, 4, 4] and weight [2, 2, 3, 3]")
        assertThrows(try Tensor.conv2d(Tensor.zeros([1, 1, 2, 2]), weight: Tensor.zeros([1, 1, 3, 3])), contains: "does not fit")
        assertThrows(try Tensor.conv2d(Tensor.zeros([1, 1, 2, 2]), weight: Tensor.zeros([1, 1, 3, 3]), stride: (2, 2)), contains: "does not fit")
        assertThrows(try Tensor.conv2d(Tensor.zeros([1, 2, 2]), weight: Tensor.zeros([1, 1, 3, 3])), contains: "4-D")
    }

    func testConv2dSameBitsOnAnyThreadCount() throws {
        let x = randomTensor([5, 3, 20, 20], seed: 1), w = randomTensor([8, 3, 3, 3], seed: 2), b = randomTensor([8], seed: 3)
        let one = try withThreads(1) { try Tensor.conv2d(x, weight: w, bias: b, padding: (1, 1)).toFloats() }
        let two = try withThreads(2) { try Tensor.conv2d(x, weight: w, bias: b, padding: (1, 1)).toFloats() }
        let four = try withThreads(4) { try Tensor.conv2d(x, weight: w, bias: b, padding: (1, 1)).toFloats() }
        XCTAssertEqual(one, two)
        XCTAssertEqual(one, four)
    }

    /// Big batches split pooling planes over the thread pool: same bits on any thread count.
    func testPoolingSameBitsOnAnyThreadCount() throws {
        let x = randomTensor([16, 8, 28, 28], seed: 4)
        for isMax in [true, false] {
            let run = { try isMax ? x.maxPool2d(kernel: (2, 2)) : x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
            let one = try withThreads(1) { try run().toFloats() }
            XCTAssertEqual(one, try withThreads(2) { try run().toFloats() })
            XCTAssertEqual(one, try withThreads(3) { try run().toFloats() })
        }
    }

    func testPooling() throws {
        let x = try Tensor.arange(0, 16).reshape([1, 1, 4, 4])
        XCTAssertEqual(try x.maxPool2d(kernel: (2, 2)).toFloats(), [5, 7, 13, 15])
        XCTAssertEqual(try x.avgPool2d(kernel: (2, 2)).toFloats(), [2.5, 4.5, 10.5, 12.5])
        let p = try x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(p.shape, [1, 1, 2, 2])
        XCTAssertEqual(p.toFloats(), [5, 7, 13, 15])
        let a = try x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(a.toFloats()[0], (0 + 1 + 4 + 5) / 9)
        assertThrows(try x.maxPool2d(kernel: (5, 5)), contains: "max_pool2d")
        assertThrows(try x.maxPool2d(kernel: (0, 1)), contains: "max_pool2d")
        assertThrows(try x.maxPool2d(kernel: (2, 2), padding: (Int.max, 0)), contains: "max_pool2d")
        assertThrows(try Tensor.conv2d(x, weight: Tensor.zeros([1, 1, 1, 1]), padding: (Int.max, 0)), contains: "conv2d")
        assertThrows(try Tensor.conv2d(x, weight: Tensor.zeros([1, 1, 1, 1]), stride: (0, 1)), contains: "conv2d")
    }

    /// The row-wise pooling kernel against a cell-by-cell reference: strides, padding,
    /// windows wider than the stride, and a NaN that must win its max windows.
    func testPoolingMatchesNaive() throws {
        let cases: [([Int], (Int, Int), (Int, Int), (Int, Int))] = [
            ([2, 3, 8, 8], (2, 2), (2, 2), (0, 0)), ([1, 2, 7, 9], (3, 3), (2, 2), (1, 1)),
            ([1, 1, 5, 6], (3, 2), (1, 1), (1, 0)), ([1, 2, 9, 4], (4, 4), (3, 1), (2, 2)),
            ([1, 2, 6, 37], (2, 2), (2, 2), (0, 0)),   // the vector 2x2 path: two blocks of 8 and a tail
        ]
        for (i, (xs, k, st, pd)) in cases.enumerated() {
            var v = randomTensor(xs, seed: UInt64(i + 7)).toFloats()
            v[3] = .nan
            let x = try Tensor(v, shape: xs)
            for isMax in [true, false] {
                let y = isMax ? try x.maxPool2d(kernel: k, stride: st, padding: pd) : try x.avgPool2d(kernel: k, stride: st, padding: pd)
                let (h, w) = (xs[2], xs[3])
                let oh = (h + 2 * pd.0 - k.0) / st.0 + 1, ow = (w + 2 * pd.1 - k.1) / st.1 + 1
                XCTAssertEqual(y.shape, [xs[0], xs[1], oh, ow])
                var ref: [Float] = []
                for p in 0..<(xs[0] * xs[1]) { for oy in 0..<oh { for ox in 0..<ow {
                    var acc: Float = isMax ? -.infinity : 0
                    for ki in 0..<k.0 { for kj in 0..<k.1 {
                        let iy = oy * st.0 - pd.0 + ki, ix = ox * st.1 - pd.1 + kj
                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                        let e = v[p * h * w + iy * w + ix]
                        if isMax { if e > acc || e.isNaN { acc = e } } else { acc += e }
                    } }
                    ref.append(isMax ? acc : acc / Float(k.0 * k.1))
                } } }
                let got = y.toFloats()
                for j in ref.indices {
                    XCTAssert(got[j] == ref[j] || (got[j].isNaN && ref[j].isNaN), "case \(i) max \(isMax) cell \(j): \(got[j]) vs \(ref[j])")
                }
                XCTAssert(isMax ? got.contains { $0.isNaN } : true, "case \(i): the NaN must win a max window")
            }
        }
    }
}
