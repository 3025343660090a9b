import XCTest
@testable import Tensor

/// Random (often invalid) arguments to every op: errors are fine, traps are not.
final class FuzzTests: XCTestCase {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; var z = state; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) }
        mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
        mutating func pick<T>(_ a: [T]) -> T { a[int(0, a.count - 1)] }
    }

    func testRandomCallsNeverTrap() {
        var r = Rng(state: 12345)
        let weird = [-5, -1, 0, 1, 2, 3, 7, 1 << 40, -(1 << 40), 1 << 62, Int.max, Int.min]
        for _ in 0..<3000 {
            let rank = r.int(0, 4)
            let shape = (0..<rank).map { _ in r.int(0, 4) }
            let dt = r.pick(DType.allCases)
            guard let x = try? Tensor.randn(shape, seed: r.next()).astype(dt) else { continue }
            let y = (try? Tensor.randn((0..<r.int(0, 3)).map { _ in r.int(0, 4) }, seed: 1).astype(r.pick(DType.allCases))) ?? x
            let axis = r.pick(weird + [0, 1, -1, -2])
            let axes = (0..<r.int(0, 3)).map { _ in r.pick(weird) }
            switch r.int(0, 29) {
            case 0: _ = try? Tensor.binary(x, y, r.pick([.add, .sub, .mul, .div, .maximum, .minimum, .pow]))
            case 1: _ = try? Tensor.compare(x, y, r.pick([.eq, .lt, .ge]))
            case 2: _ = try? Tensor.matmul(x, y)
            case 3: _ = try? x.sum(axes: axes, keepDims: r.int(0, 1) == 1)
            case 4: _ = try? x.argmax(axis: axis)
            case 5: _ = try? x.variance(axes: axes, correction: r.pick(weird))
            case 6: _ = try? x.softmax(axis: axis)
            case 7: _ = try? x.reshape((0..<r.int(0, 3)).map { _ in r.pick(weird) })
            case 8: _ = try? x.permute((0..<rank).map { _ in r.pick(weird) })
            case 9: _ = try? x.slice(axis: axis, start: r.pick(weird), stop: r.pick(weird), step: r.pick(weird))
            case 10: _ = try? x.squeeze(axes); _ = try? x.unsqueeze(axis)
            case 11: _ = try? Tensor.concat([x, y], axis: axis); _ = try? Tensor.stack([x, x], axis: axis)
            case 12: _ = try? x.indexSelect(axis: axis, indices: Tensor([r.pick(weird), 0], dtype: .int32))
            case 13: _ = try? x.gather(axis: axis, index: y.astype(.int32))
            case 14: _ = try? Tensor.where(x, y, x)
            case 15: _ = try? Tensor.oneHot(y.astype(.int32), depth: r.pick(weird))
            case 16: _ = try? Tensor.conv2d(x, weight: y, stride: (r.pick(weird), 1), padding: (r.pick(weird), 0), groups: r.pick(weird))
            case 17: _ = try? x.maxPool2d(kernel: (r.pick(weird), r.pick(weird)), padding: (r.pick(weird), 0))
            case 18: _ = try? Tensor.linear(x, weight: y, activation: .relu)
            case 19: _ = try? Tensor.matmulInt8(x, y)
            case 20: _ = try? x.clip(min: -1, max: 1); _ = x.gelu(); _ = x.exp(); _ = x.relu()
            case 21: _ = try? Tensor.zeros((0..<r.int(0, 3)).map { _ in r.pick(weird) }, dtype: dt)
            case 22: _ = try? x.expand(to: (0..<r.int(0, 4)).map { _ in r.pick(weird) })
            case 23: _ = x.description; _ = x.debugDescription; _ = try? x.value(at: (0..<rank).map { _ in r.pick(weird) })
            case 24: _ = try? Tensor.arange(Double(r.pick(weird)), Double(r.pick(weird)), step: Double(r.pick(weird)))
                _ = try? Tensor.linspace(0, 1, count: r.pick(weird)); _ = try? Tensor.eye(r.pick(weird), r.pick(weird))
            case 25: _ = try? Tensor.randint(r.pick(weird), r.pick(weird), shape: [r.int(0, 3)], seed: 1)
                _ = try? Tensor.permutation(r.pick(weird), seed: 2); _ = try? Tensor.rand([r.pick(weird)], seed: 3)
            case 26: _ = try? Tensor.full([r.pick(weird), r.pick(weird)], 1); _ = try? Tensor([1, 2] as [Float], shape: [r.pick(weird)])
            case 27: _ = try? CSRMatrix(dense: x).matmul(y); _ = try? CSRMatrix(dense: x).linear(y)
            case 28: _ = try? Tensor.gemm(x, y, beta: 1, c: x, bias: y, biasPerRow: r.int(0, 1) == 1)
                _ = try? x.avgPool2d(kernel: (r.pick(weird), 1), stride: (r.pick(weird), r.pick(weird)))
            default:
                if let bytes = try? Safetensors.encode([("x", x)]) {
                    var b = bytes
                    for _ in 0..<r.int(1, 4) where !b.isEmpty { b[r.int(0, b.count - 1)] = UInt8(truncatingIfNeeded: r.next()) }
                    _ = try? Safetensors.decode(Array(b.prefix(r.int(0, b.count))))
                }
            }
        }
    }
}
