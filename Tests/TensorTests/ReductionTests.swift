import XCTest
@testable import Tensor

final class ReductionTests: XCTestCase {
    func testReductionsOverAxes() throws {
        let shapes: [[Int]] = [[7], [3, 33], [2, 3, 4], [1023], [4, 0, 3], [5, 1, 7]]
        for (si, shape) in shapes.enumerated() {
            let x = randomTensor(shape, seed: UInt64(si))
            let v = x.toDoubles()
            var axesSets: [[Int]] = [Array(0..<shape.count)]
            for a in 0..<shape.count { axesSets.append([a]) }
            if shape.count == 3 { axesSets.append([0, 2]) }
            for axes in axesSets {
                let nonEmpty = axes.allSatisfy { shape[$0] > 0 }
                assertClose(try x.sum(axes: axes).toFloats(), Reference.reduce(v, shape, axes: axes) { $0.reduce(0, +) }, rtol: 1e-5, atol: 1e-5, "sum \(shape) \(axes)")
                if nonEmpty {
                    let mean = Reference.reduce(v, shape, axes: axes) { $0.reduce(0, +) / Double($0.count) }
                    assertClose(try x.mean(axes: axes).toFloats(), mean, rtol: 1e-5, atol: 1e-6)
                    assertClose(try x.max(axes: axes).toFloats(), Reference.reduce(v, shape, axes: axes) { $0.max()! }, rtol: 0, atol: 0)
                    assertClose(try x.min(axes: axes).toFloats(), Reference.reduce(v, shape, axes: axes) { $0.min()! }, rtol: 0, atol: 0)
                    let variance = Reference.reduce(v, shape, axes: axes) { r in let m = r.reduce(0, +) / Double(r.count); return r.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(r.count) }
                    assertClose(try x.variance(axes: axes).toFloats(), variance, rtol: 1e-5, atol: 1e-6)
                    assertClose(try x.std(axes: axes).toFloats(), variance.map { $0.squareRoot() }, rtol: 1e-5, atol: 1e-6)
                    assertClose(try x.logsumexp(axes: axes).toFloats(), Reference.reduce(v, shape, axes: axes) { Foundation.log($0.map { Foundation.exp($0) }.reduce(0, +)) }, rtol: 1e-5, atol: 1e-5)
                }
                let kd = try x.sum(axes: axes, keepDims: true)
                XCTAssertEqual(kd.shape, shape.indices.map { axes.contains($0) ? 1 : shape[$0] })
            }
            if shape.allSatisfy({ $0 > 0 }) {
                let last = shape.count - 1
                let am = try x.argmax(axis: last).toInts()
                let ref = Reference.reduce(v, shape, axes: [last]) { Double($0.firstIndex(of: $0.max()!)!) }
                XCTAssertEqual(am, ref.map { Int($0) })
                let amin = try x.argmin(axis: 0).toInts()
                XCTAssertEqual(amin, Reference.reduce(v, shape, axes: [0]) { Double($0.firstIndex(of: $0.min()!)!) }.map { Int($0) })
            }
        }
        XCTAssertEqual(try Tensor([3, 9, 9, 1] as [Float]).argmax().toInts(), [1], "first maximum wins")
        XCTAssertEqual(try Tensor([1, 2, 3], dtype: .int32).sum().dtype, .int32)
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float]).variance(correction: 1).item(), 5.0 / 3, accuracy: 1e-6)
        assertThrows(try Tensor.zeros([2, 3]).sum(axes: [2]), contains: "sum: axis 2 is out of range for a tensor of rank 2")
        assertThrows(try Tensor.zeros([2, 3]).sum(axes: [1, -1]), contains: "appears twice")
        assertThrows(try Tensor.zeros([0]).max(), contains: "max: cannot reduce an empty axis")
    }

    func testLargeSumAccuracy() throws {
        let x = try Tensor.full([10_000_000], 0.1)
        XCTAssertEqual(try x.sum().item(), 1_000_000, accuracy: 1)
        XCTAssertEqual(try Tensor.ones([4097]).sum().item(), 4097)
    }

    func testSoftmax() throws {
        for simd in [true, false] {
            Tensor.setSIMD(simd)
            for (shape, axis) in [([7], 0), ([3, 33], 1), ([3, 33], 0), ([2, 5, 1023], -1), ([4, 1], 1), ([0, 5], 1)] as [([Int], Int)] {
                let x = try randomTensor(shape, seed: 1) * 5.0
                let a = axis < 0 ? axis + shape.count : axis
                let lse = try x.logsumexp(axes: [a], keepDims: true)
                let refLog = try x - lse
                assertClose(try x.logSoftmax(axis: axis).toFloats(), refLog.toDoubles(), rtol: 1e-5, atol: 1e-5, "log_softmax \(shape)")
                assertClose(try x.softmax(axis: axis).toFloats(), refLog.toDoubles().map { Foundation.exp($0) }, rtol: 1e-5, atol: 1e-7, "softmax \(shape)")
            }
            Tensor.setSIMD(true)
        }
        let s = try Tensor([1000, 1000] as [Float]).softmax().toFloats()
        XCTAssertEqual(s, [0.5, 0.5])
        assertThrows(try Tensor(scalar: 1).softmax(), contains: "softmax")
    }
}
