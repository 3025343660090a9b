import XCTest
import Tensor
@testable import Graph

/// Every differentiable op's backward rule against central finite differences in float64.
final class GradCheckTests: XCTestCase {
    var seed: UInt64 = 100
    func randn(_ shape: [Int], scale: Double = 1) throws -> Tensor {
        seed += 1
        return try Tensor.randn(shape, seed: seed, dtype: .float64) * scale
    }

    /// loss(x) = sum(op(x) · R) with a fixed random R; checks d loss / d inputs[k] for k in `check`.
    func gradCheck(_ name: String, _ inputs: [Tensor], _ attrs: Attrs = [:], check: [Int]? = nil,
                   tol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) throws {
        let op = OpName(rawValue: name)
        let probeShape = try OpRegistry.op(op).forward(inputs, attrs, OpContext(training: true)).0.shape
        let r = try randn(probeShape)
        func loss(_ xs: [Tensor]) throws -> (Double, [Tensor]) {
            let (v, g) = try valueAndGrad({ vs in
                let y = try vs[0].tape.apply(op, vs, attrs)
                return try (y * vs[0].tape.variable(r)).sum()
            }, at: xs)
            return (try v.item(), g)
        }
        let (_, analytic) = try loss(inputs)
        for k in check ?? Array(inputs.indices) {
            var x = inputs[k].toDoubles()
            let a = analytic[k].toDoubles()
            XCTAssertEqual(analytic[k].shape, inputs[k].shape, "\(op) input \(k) gradient shape", file: file, line: line)
            let h = 1e-6
            for i in x.indices {
                let orig = x[i]
                var xs = inputs
                x[i] = orig + h; xs[k] = try Tensor(x, shape: inputs[k].shape, dtype: .float64)
                let plus = try loss(xs).0
                x[i] = orig - h; xs[k] = try Tensor(x, shape: inputs[k].shape, dtype: .float64)
                let minus = try loss(xs).0
                x[i] = orig
                let numeric = (plus - minus) / (2 * h)
                XCTAssertEqual(a[i], numeric, accuracy: tol * max(1, abs(numeric)), "\(op) input \(k) element \(i)", file: file, line: line)
            }
        }
    }

    func testArithmeticBroadcast() throws {
        for op in ["add", "sub", "mul"] {
            try gradCheck(op, [randn([3, 1, 5]), randn([4, 1])])
            try gradCheck(op, [randn([2, 3]), randn([3])])
        }
        try gradCheck("div", [randn([3, 4]), randn([4]) + 3])
    }

    func testMatmulAndDense() throws {
        try gradCheck("matmul", [randn([3, 5]), randn([5, 2])])
        try gradCheck("matmul", [randn([2, 3, 4]), randn([4, 5])])
        try gradCheck("dense", [randn([3, 5]), randn([5, 7]), randn([7])])
        try gradCheck("dense", [randn([2, 3, 5]), randn([5, 4])])
        try gradCheck("dense", [randn([4, 3]), randn([3, 6]), randn([6])], ["activation": .string("relu")])
    }

    func testActivations() throws {
        for op in ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "softmax", "log_softmax"] {
            try gradCheck(op, [randn([3, 7])])
        }
        try gradCheck("softmax", [randn([4, 3, 2])], ["axis": .int(1)])
        try gradCheck("leaky_relu", [randn([5])], ["slope": .double(0.2)])
    }

    func testShapeOps() throws {
        try gradCheck("reshape", [randn([2, 3, 4])], ["shape": .ints([0, -1])])
        try gradCheck("flatten", [randn([2, 3, 2, 2])])
        try gradCheck("transpose", [randn([2, 3, 4])], ["perm": .ints([2, 0, 1])])
        try gradCheck("concat", [randn([2, 3]), randn([2, 5]), randn([2, 1])], ["axis": .int(1)])
        try gradCheck("sum", [randn([3, 4, 2])], ["axes": .ints([0, 2])])
        try gradCheck("mean", [randn([3, 4, 2])], ["axes": .ints([1]), "keepdims": .bool(true)])
        try gradCheck("mean", [randn([5, 3])])
    }

    func testConvAndPooling() throws {
        try gradCheck("conv2d", [randn([2, 3, 5, 6]), randn([4, 3, 3, 2]), randn([4])], ["stride": .ints([2, 1]), "padding": .ints([1, 1])])
        try gradCheck("conv2d", [randn([1, 2, 4, 4]), randn([3, 2, 2, 2])])
        try gradCheck("max_pool2d", [randn([2, 2, 5, 4])], ["kernel": .int(2)])
        try gradCheck("avg_pool2d", [randn([2, 2, 5, 5])], ["kernel": .int(3), "stride": .int(2), "padding": .int(1)])
    }

    func testNormalisation() throws {
        let c = 3
        let bnIn = { (x: Tensor) throws -> [Tensor] in
            [x, try self.randn([c]) + 1, try self.randn([c]), try Tensor.zeros([c], dtype: .float64), try Tensor.ones([c], dtype: .float64)]
        }
        try gradCheck("batch_norm", bnIn(randn([5, c])), check: [0, 1, 2])
        try gradCheck("batch_norm", bnIn(randn([2, c, 3, 2])), check: [0, 1, 2])
        try gradCheck("layer_norm", [randn([4, 6]), randn([6]), randn([6])])
        try gradCheck("layer_norm", [randn([2, 3, 5]), randn([5]), randn([5])])
    }

    func testDropoutAndEmbedding() throws {
        try gradCheck("dropout", [randn([4, 5])], ["p": .double(0.3)])
        let idx = try Tensor([1, 0, 3, 1, 2, 3], shape: [2, 3])
        try gradCheck("embedding", [idx, randn([4, 5])], check: [1])
    }

    func testLosses() throws {
        let labels = try Tensor([2, 0, 1, 2, 4], shape: [5])
        try gradCheck("cross_entropy", [randn([5, 5]), labels], check: [0])
        try gradCheck("cross_entropy", [randn([5, 5]), labels], ["smoothing": .double(0.1), "weights": .doubles([1, 2, 0.5, 1, 3])], check: [0])
        try gradCheck("mse", [randn([4, 3]), randn([4, 3])])
        try gradCheck("mae", [randn([4, 3]), randn([4, 3])])
        try gradCheck("huber", [randn([4, 3], scale: 2), randn([4, 3])], ["delta": .double(1)])
        try gradCheck("binary_cross_entropy", [randn([6, 1]), Tensor.rand([6, 1], seed: 3, dtype: .float64)], check: [0])
        let q = try randn([3, 4]).softmax(axis: -1)
        try gradCheck("kl_div", [randn([3, 4]), q], check: [0])
    }
}
