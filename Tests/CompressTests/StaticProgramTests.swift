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
        try bothPaths(try optimizedForInference(m), "optimized")
        try bothPaths(try quantize(m, mode: .static, calibrate: x), "int8 static")
        try bothPaths(try quantize(m, mode: .dynamic), "int8 dynamic")
        let pruned = try prune(m, sparsity: 0.9)
        XCTAssertGreaterThan(pruned.graph.nodes.filter { $0.op == "sparse_dense" }.count, 0)
        try bothPaths(pruned, "csr")
        try bothPaths(try quantize(pruned, mode: .static, calibrate: x), "csr + int8")
    }

    func testConvolutionsLowerToo() throws {
        let cnn = try sequential([conv2d(1, 4, kernel: 3, padding: 1), relu(), maxPool(2), conv2d(4, 6, kernel: 3), tanh(),
                                  avgPool(2), flatten(), dense(6 * 2 * 2, 3)], inputShape: [1, 12, 12], seed: 1)
        try bothPaths(cnn, "cnn", features: [1, 12, 12])
        try bothPaths(try optimizedForInference(cnn), "cnn optimized", features: [1, 12, 12])   // conv2d_act nodes
    }

    func testGraphsWithOtherOpsFallBack() throws {
        let m = try sequential([conv2d(1, 2, kernel: 3), batchNorm(2), relu(), flatten(), dense(2 * 4 * 4, 3)], inputShape: [1, 6, 6], seed: 1)
        let exec = try Executor(m.graph)
        let y = try exec.run([m.inputName: try Tensor.randn([2, 1, 6, 6], seed: 1)])[0]
        XCTAssertEqual(y.shape, [2, 3])
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
