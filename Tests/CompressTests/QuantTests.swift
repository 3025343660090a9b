import XCTest
import Graph
import Optimize
import Tensor
import Train
@testable import Compress

final class QuantTests: XCTestCase {
    func maxDiff(_ a: Tensor, _ b: Tensor) -> Double { zip(a.toDoubles(), b.toDoubles()).map { abs($0 - $1) }.max() ?? 0 }

    /// qlinear against a slow float reference built from the same quantized integers.
    func testQLinearMatchesIntegerReference() throws {
        for (m, k, n) in [(5, 37, 11), (1, 37, 11), (3, 64, 40)] {
        let x = try Tensor.randn([m, k], seed: 1), w = try Tensor.randn([k, n], seed: 2), b = try Tensor.randn([n], seed: 3)
        let (q, s, cs) = try Tensor.quantizeWeightsInt8(w, perChannel: true)
        for unsigned in [false, true] {
            let y = try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs, bias: b, unsigned: unsigned)
            let xv = x.toFloats(), qv = q.toDoubles(), sv = s.toFloats(), bv = b.toFloats()
            var ref = [Float](repeating: 0, count: m * n)
            for r in 0..<m {
                let row = xv[(r * k)..<((r + 1) * k)]
                let lo = min(row.min()!, 0), hi = max(row.max()!, 0)
                let (sc, z) = unsigned ? ((hi - lo) / 255, Float((-lo / ((hi - lo) / 255)).rounded())) : (max(hi, -lo) / 127, 0)
                let xq = row.map { unsigned ? min(255, max(0, ($0 / sc + z).rounded())) : min(127, max(-127, ($0 / sc).rounded())) }
                for j in 0..<n {
                    var acc: Float = 0
                    for i in 0..<k { acc += (xq[r * 0 + i] - z) * Float(qv[i * n + j]) }
                    ref[r * n + j] = acc * sc * sv[j] + bv[j]
                }
            }
            XCTAssertLessThan(maxDiff(y, try Tensor(ref, shape: [m, n])), 1e-3, "unsigned \(unsigned)")
            // And close to the float layer: 8-bit error on both operands.
            let f = try Tensor.linear(x, weight: w, bias: b)
            XCTAssertGreaterThan(sqnr(f, y), 30)
        }
        }
    }

    func mlp() throws -> Model { try sequential([dense(32, 64), relu(), dense(64, 64), relu(), dense(64, 10)], seed: 4) }

    func testQuantizedModelsCloseToFloatAndRoundTrip() throws {
        let m = try mlp(), x = try Tensor.randn([200, 32], seed: 7)
        let ref = try predict(m, x)
        for (mode, method, sym) in [(QuantMode.dynamic, CalibrationMethod.minmax, true), (.static, .minmax, true), (.static, .percentile, false), (.static, .entropy, true), (.dynamic, .minmax, false)] {
            let q = try quantize(m, mode: mode, calibrate: x, method: method, symmetric: sym)
            XCTAssertEqual(q.graph.nodes.filter { $0.op == .qdense }.count, 3)
            let y = try predict(q, x)
            // Entropy calibration clips the Gaussian tails on purpose (less rounding noise for
            // the bulk, clipping noise for the tails), so its end-to-end SQNR is lower.
            XCTAssertGreaterThan(sqnr(ref, y), method == .entropy ? 12 : 25, "\(mode) \(method) symmetric \(sym)")
            let agree = zip(try ref.argmax(axis: -1).toInts(), try y.argmax(axis: -1).toInts()).filter { $0 == $1 }.count
            XCTAssertGreaterThan(agree, method == .entropy ? 170 : 190)
            let path = NSTemporaryDirectory() + "/compress-q.mlwm"
            try save(q, path)
            XCTAssertEqual(try predict(try loadModel(path), x).toFloats(), y.toFloats())
        }
        let big = try sequential([dense(64, 256), relu(), dense(256, 256), relu(), dense(256, 10)], seed: 1)
        let ratio = Double(try ModelFile.encode(big).count) / Double(try ModelFile.encode(try quantize(big)).count)
        XCTAssertGreaterThan(ratio, 3.5)
        XCTAssertLessThan(ratio, 4.1)
    }

    func testSkipToleranceAndReport() throws {
        let m = try mlp(), x = try Tensor.randn([100, 32], seed: 8)
        let q = try quantize(m, mode: .static, calibrate: x, skip: ["dense_4"])
        XCTAssertEqual(q.graph.nodes.filter { $0.op == .qdense }.count, 2)
        let strict = try quantize(m, calibrate: x, minSQNR: 200)
        XCTAssertEqual(strict.graph.nodes.filter { $0.op == .qdense }.count, 0)
        let r = try quantReport(q, x, reference: m)
        XCTAssertEqual(r.layers.map(\.layer), ["dense_0+relu", "dense_2+relu", "output"])
        for l in r.layers { XCTAssertGreaterThan(l.sqnr, 25); XCTAssertGreaterThan(l.maxAbsDiff, 0) }
        XCTAssertEqual(try quantReport(q, x).layers.count, 3)
    }

    func testEntropyThresholdClipsOutliers() {
        var v = (0..<10000).map { Float(($0 % 100)) / 100 }
        v.append(1000)
        let t = entropyThreshold(v, levels: 128)
        XCTAssertLessThan(t, 100)
        XCTAssertGreaterThan(t, 0.5)
    }
}
