import XCTest
import Graph
import Optimize
import Tensor
import Train
@testable import Compress

/// The executor's arena-backed static programs give exactly the Tensor-level path's bits:
/// float, fused (tanh, softmax), int8 (static and dynamic), CSR and mixed models, at
/// several batch sizes, repeated calls and after a weight change.
final class StaticProgramTests: XCTestCase {
    func bothPaths(_ m: Model, _ name: String, features: [Int] = [16], file: StaticString = #filePath, line: UInt = #line) throws {
        let fast = try Executor(m.graph), slow = try Executor(m.graph)
        slow.useStatic = false
        for (batch, seed) in [(1, 1), (7, 2), (1, 3), (64, 4)] {
            let x = try Tensor.randn([batch] + features, seed: UInt64(seed))
            let a = try fast.run([m.inputName: x]), b = try slow.run([m.inputName: x])
            XCTAssertEqual(a.map(\.shape), b.map(\.shape), name, file: file, line: line)
            for (u, v) in zip(a, b) { XCTAssertEqual(u.toFloats(), v.toFloats(), "\(name) batch \(batch)", file: file, line: line) }
        }
        XCTAssertEqual(fast.staticBatchSizes, [1, 7, 64], "\(name): lowered", file: file, line: line)
        XCTAssertEqual(slow.staticBatchSizes, [], file: file, line: line)
    }

    func testStaticProgramsMatchTheTensorPath() throws {
        let m = try sequential([dense(16, 32), relu(), dense(32, 24), tanh(), dense(24, 5), softmax()], seed: 3)
        let x = try Tensor.randn([128, 16], seed: 9)
        try bothPaths(m, "float")
        try bothPaths(try CompiledModel.of(m).optimized, "optimized")
        try bothPaths(try quantize(m, mode: .static, calibrate: x), "int8 static")
        try bothPaths(try quantize(m, mode: .dynamic), "int8 dynamic")
        let pruned = try prune(m, sparsity: 0.9)
        XCTAssertGreaterThan(pruned.graph.nodes.filter { $0.op == .sparseDense }.count, 0)
        try bothPaths(pruned, "csr")
        try bothPaths(try quantize(pruned, mode: .static, calibrate: x), "csr + int8")
    }

    func testConvolutionsLowerToo() throws {
        let cnn = try sequential([conv2d(1, 4, kernel: 3, padding: 1), relu(), maxPool(2), conv2d(4, 6, kernel: 3), tanh(),
                                  avgPool(2), flatten(), dense(6 * 2 * 2, 3)], inputShape: [1, 12, 12], seed: 1)
        try bothPaths(cnn, "cnn", features: [1, 12, 12])
        try bothPaths(try CompiledModel.of(cnn).optimized, "cnn optimized", features: [1, 12, 12])   // conv2d_act nodes
    }

    /// Residual blocks with layer norm, leaky ReLU and a residual add; optimized, the add and
    /// the activation become one `elementwise` chain. Both forms lower.
    func testResidualAndLayerNormGraphsLower() throws {
        var b = ModelBuilder(seed: 7)
        var h = try b.apply(gelu(), try b.apply(dense(16, 24), try b.input(shape: [16])))
        for _ in 0..<2 {
            var y = try b.apply(dense(24, 24), h)
            y = try b.apply(relu(), try b.apply(layerNorm(24), y))
            y = try b.apply(dense(24, 24), y)
            h = try b.apply(leakyRelu(0.2), try b.add(h, y))
        }
        let out = try b.apply(sigmoid(), try b.apply(dense(24, 5), h))
        var m = try b.model(outputs: [out])
        for (k, name) in m.graph.paramNames.enumerated() where name.hasPrefix("layer_norm") {   // not the identity
            m.graph.params[name] = try Tensor.randn([24], seed: UInt64(k))
        }
        try bothPaths(m, "residual")
        let fast = try CompiledModel.of(m).optimized
        XCTAssertTrue(fast.graph.nodes.contains { $0.op == .elementwise }, "the optimizer fuses add + leaky_relu")
        try bothPaths(fast, "residual optimized")
    }

    /// Binary ops with parameters on either side (broadcast rows, scalars, a full-size
    /// parameter first), an activation divided by an activation, and a chain that reads its
    /// own input again (x · sigmoid(x), which must not run in place).
    func testBinaryOpsAndChainsWithParametersLower() throws {
        var b = ModelBuilder(seed: 3)
        let x = try b.input(shape: [16])
        let h = try b.apply(dense(16, 16), x)
        let row = try b.graph.param("row", try Tensor.randn([16], seed: 1), trainable: false)
        let two = try b.graph.param("two", try Tensor([Float(2)], shape: [1]), trainable: false)
        var y = try b.graph.op(.add, [h, row])
        y = try b.graph.op(.mul, [two, y])
        y = try b.graph.op(.sub, [row, y])
        let z = try b.graph.op(.div, [y, try b.graph.op(.add, [try b.apply(sigmoid(), h), two])])
        let swish = try b.graph.op(.mul, [z, try b.apply(sigmoid(), z)])
        let out = try b.apply(dense(16, 4), swish)
        let m = try b.model(outputs: [out])
        try bothPaths(m, "binary")
        let fast = try CompiledModel.of(m).optimized
        try bothPaths(fast, "binary optimized")
        let chains = fast.graph.nodes.filter { $0.op == .elementwise }
        XCTAssertFalse(chains.isEmpty)
        // x · sigmoid(x) reads x after a step wrote: never planned in place over x.
        let plan = planMemory(fast.graph, batch: 4)
        for c in chains where c.attrs.chain("steps")!.contains(where: { $0.operand == 0 }) {
            XCTAssertNotEqual(plan.buffer[c.id], plan.buffer[c.inputs[0]], "chain \(c.id) in place over the input it reads again")
        }
    }

    /// Batch norm before folding (running statistics, over images and over features).
    func testBatchNormLowers() throws {
        var cnn = try sequential([conv2d(1, 3, kernel: 3), batchNorm(3), relu(), flatten(), dense(3 * 4 * 4, 6), batchNorm(6), tanh()],
                                 inputShape: [1, 6, 6], seed: 1)
        for (k, name) in cnn.graph.paramNames.enumerated() where name.hasPrefix("batch_norm") {
            let t = try Tensor.rand(cnn.graph.params[name]!.shape, seed: UInt64(k))
            cnn.graph.params[name] = try name.hasSuffix("running_mean") || name.hasSuffix("beta") ? t - 0.5 : t + 0.5
        }
        try bothPaths(cnn, "batch norm", features: [1, 6, 6])
    }

    /// Ops without a raw kernel (concat, transpose, a reduction) and `s + s` over the
    /// buffer of `s` run their Tensor kernel inside the program; the rest keeps the plan.
    func testOpsWithoutRawKernelsRunInsideTheProgram() throws {
        var b = ModelBuilder(seed: 1)
        let x = try b.input(shape: [16])
        let h = try b.apply(dense(16, 8), x)
        var c = try b.concat([h, try b.apply(tanh(), h)])
        c = try b.graph.op(.transpose, [try b.graph.op(.reshape, [c], ["shape": .ints([0, 4, 4])])], ["perm": .ints([0, 2, 1])])
        let s = try b.graph.op(.sum, [c], ["axes": .ints([2]), "keepdims": .bool(false)])
        let twice = try b.graph.op(.add, [s, s])   // planned in place over s, which it reads twice
        let out = try b.apply(dense(4, 3), try b.apply(relu(), twice))
        let m = try b.model(outputs: [out])
        try bothPaths(m, "concat, transpose, sum")
        try bothPaths(try CompiledModel.of(m).optimized, "concat, transpose, sum optimized")
    }

    func testGraphsWithOtherDTypesFallBack() throws {
        var b = ModelBuilder(seed: 1)
        let ids = try b.input(shape: [3], dtype: .int32)
        let e = try b.apply(flatten(), try b.apply(embedding(10, 4), ids))
        let out = try b.apply(dense(12, 2), e)
        let m = try b.model(outputs: [out])
        let exec = try Executor(m.graph)
        let y = try exec.run([m.inputName: try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])])[0]
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(exec.staticBatchSizes, [])
    }

    func testWeightChangeReachesTheStaticProgram() throws {
        let m = try sequential([dense(16, 8), relu(), dense(8, 3)], seed: 1)
        let exec = try Executor(m.graph)
        let x = try Tensor.randn([1, 16], seed: 2)
        let before = try exec.run([m.inputName: x])[0].toFloats()
        let name = m.graph.paramNames[0]
        exec.graph.params[name] = try Tensor.randn(m.graph.params[name]!.shape, seed: 5)
        let after = try exec.run([m.inputName: x])[0].toFloats()
        let reference = try Executor(exec.graph)
        reference.useStatic = false
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(after, try reference.run([m.inputName: x])[0].toFloats())
    }
}
