import XCTest
import Tensor
import Graph
import Optimize
@testable import Train

/// Every loss with every target shape: a one-column output takes [N] targets (viewed as
/// [N, 1]); any other mismatch is an error naming both shapes, never a broadcast.
final class LossShapeTests: XCTestCase {
    let n = 6

    /// Builds output [batch, width] against targets of `target` shape and runs it.
    func run(_ op: OpName, width: Int, target: [Int]) throws -> Double {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(width)])
        let y = try g.input("y", shape: [.batch] + target.dropFirst().map { .fixed($0) })
        g.outputs = [try g.op(op, [x, y])]
        let xs = try Tensor.randn([n, width], seed: 1)
        let count = target.reduce(1, *)
        let ys = op == .crossEntropy ? try Tensor((0..<count).map { Float($0 % width) }, shape: target)
                                     : try Tensor((0..<count).map { Float($0 % 2) }, shape: target)
        return try Executor(g).run(["x": xs, "y": ys])[0].item()
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func testPairLossesTakeColumnTargetsAndRefuseMismatches() throws {
        for op in [OpName.mse, .mae, .huber, .binaryCrossEntropy] {
            // [N] against one column equals [N, 1] against one column.
            let flat = try run(op, width: 1, target: [n]), column = try run(op, width: 1, target: [n, 1])
            XCTAssertEqual(flat, column, "\(op)")
            XCTAssertEqual(try run(op, width: 3, target: [n, 3]), try run(op, width: 3, target: [n, 3]))
            // [N] against three columns, [N, 3] against one, [N, 2] against three: errors naming both shapes.
            XCTAssertEqual(message { try self.run(op, width: 3, target: [self.n]) },
                           "\(op): outputs [batch, 3] and targets [batch] differ (targets must match the outputs, or be [N] for a one-column output)")
            XCTAssertTrue(message { try self.run(op, width: 1, target: [self.n, 3]) }.contains("outputs [batch, 1] and targets [batch, 3] differ"), "\(op)")
            XCTAssertTrue(message { try self.run(op, width: 3, target: [self.n, 2]) }.contains("outputs [batch, 3] and targets [batch, 2] differ"), "\(op)")
        }
        // Concrete shapes (the eager path) are checked at run time too: 6 outputs, 5 targets.
        let d = try OpRegistry.op(.mse).forward([try Tensor.zeros([6, 1]), try Tensor.zeros([6])], [:], OpContext(training: false)).0
        XCTAssertEqual(try d.item(), 0)
        XCTAssertTrue(message { try OpRegistry.op(.mse).forward([try Tensor.zeros([6, 1]), try Tensor.zeros([5])], [:], OpContext(training: false)) }
            .contains("outputs [6, 1] and targets [5] differ"))
    }

    func testCrossEntropyTakesClassIndices() throws {
        XCTAssertEqual(try run(.crossEntropy, width: 3, target: [n]), try run(.crossEntropy, width: 3, target: [n, 1]))
        XCTAssertEqual(message { try self.run(.crossEntropy, width: 3, target: [self.n, 3]) },
                       "cross_entropy: logits [batch, 3] take class-index labels [N], got targets [batch, 3]")
    }

    /// Training a one-output regression on [N] labels is training on [N, 1] labels, bit
    /// for bit (before: [N, 1] - [N] broadcast to [N, N] and the model learned the mean).
    func testRegressionOnFlatLabelsLearns() throws {
        let x = try Tensor.randn([80, 3], seed: 4)
        let t = try x.matmul(Tensor([2, -1, 0.5] as [Float], shape: [3, 1])) + 3
        let m = try sequential([dense(3, 1)], seed: 2)
        for loss in [Loss.mse, .mae, .huber()] {
            let flat = try train(m, x: x, y: t.reshape([80]), loss: loss, optimizer: Adam(lr: 0.05), epochs: 40, batch: 16, seed: 1, logEvery: 0)
            let col = try train(m, x: x, y: t, loss: loss, optimizer: Adam(lr: 0.05), epochs: 40, batch: 16, seed: 1, logEvery: 0)
            XCTAssertEqual(flat.model.graph.params["dense_0.weight"]?.toFloats(), col.model.graph.params["dense_0.weight"]?.toFloats(), "\(loss)")
            XCTAssertEqual(flat.model.task?.kind, .regression)
        }
        let run = try train(m, x: x, y: t.reshape([80]), loss: .mse, optimizer: Adam(lr: 0.05), epochs: 80, batch: 16, seed: 1, logEvery: 0)
        XCTAssertGreaterThan(try evaluate(run.model, x: x, y: t.reshape([80])).r2!, 0.99)
        // Three outputs against [N] labels: an error naming both shapes.
        XCTAssertThrowsError(try train(try sequential([dense(3, 3)]), x: x, y: t.reshape([80]), loss: .mse, optimizer: Adam(), epochs: 1, logEvery: 0)) { e in
            XCTAssertEqual("\(e)", "mse: outputs [batch, 3] and targets [batch] differ (targets must match the outputs, or be [N] for a one-column output)")
        }
        // Validation labels shaped unlike the training labels: an error, not an internal input name.
        XCTAssertThrowsError(try train(m, x: x, y: t.reshape([80]), loss: .mse, optimizer: Adam(), epochs: 1, val: (x, t), logEvery: 0)) { e in
            XCTAssertFalse("\(e)".contains("__y"), "\(e)")
            XCTAssertTrue("\(e)".contains("validation labels have shape [80, 1], training labels [80]"), "\(e)")
        }
    }
}
