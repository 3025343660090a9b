import XCTest
import Graph
import Tensor
@testable import Train

/// `train` with an `Objective`: extra per-example inputs are gathered with each minibatch's
/// rows, so an MSE against an extra input trains exactly like `loss: .mse` against labels.
final class ObjectiveTests: XCTestCase {
    func mseAgainst(_ name: String, targets: Tensor, valTargets: Tensor? = nil) -> Objective {
        Objective(classLabels: false, inputs: [name: targets], valInputs: valTargets.map { [name: $0] } ?? [:]) { m, _ in
            var g = m.graph
            let out = g.outputs[0]
            let t = try g.input(name, shape: [.batch, .fixed(targets.shape[1])])
            g.outputs = [try g.op(.mse, [out, t], label: "loss"), out]
            return g
        }
    }

    func testExtraInputsTrainLikeLabels() throws {
        let m = try sequential([dense(3, 4), relu(), dense(4, 1)], seed: 5)
        let x = try Tensor.randn([37, 3], seed: 1), t = try Tensor.randn([37, 1], seed: 2)
        let vx = try Tensor.randn([9, 3], seed: 3), vt = try Tensor.randn([9, 1], seed: 4)
        let plain = try train(m, x: x, y: t, loss: .mse, optimizer: SGD(lr: 0.1), epochs: 3, batch: 8, val: (vx, vt), seed: 7, logEvery: 0)
        // The labels are not what this objective reads: zeros stand in for them.
        let custom = try train(m, x: x, y: try Tensor.zeros([37, 1]), objective: mseAgainst("__t", targets: t, valTargets: vt),
                               optimizer: SGD(lr: 0.1), epochs: 3, batch: 8, val: (vx, try Tensor.zeros([9, 1])), seed: 7, logEvery: 0)
        for name in m.graph.paramNames {
            XCTAssertEqual(custom.model.graph.params[name]!.toFloats(), plain.model.graph.params[name]!.toFloats(), name)
        }
        XCTAssertEqual(custom.history.map(\.loss), plain.history.map(\.loss))
        XCTAssertEqual(custom.history.map(\.valLoss), plain.history.map(\.valLoss))
    }

    func testInputsMustMatchTheRows() throws {
        let m = try sequential([dense(3, 1)], seed: 5)
        let x = try Tensor.randn([10, 3], seed: 1), y = try Tensor.zeros([10, 1])
        XCTAssertThrowsError(try train(m, x: x, y: y, objective: mseAgainst("__t", targets: try Tensor.zeros([9, 1])),
                                       optimizer: SGD(lr: 0.1), epochs: 1, logEvery: 0)) { e in
            XCTAssertEqual("\(e)", "train: training data has 10 rows but input '__t' has 9")
        }
        XCTAssertThrowsError(try train(m, x: x, y: y, objective: mseAgainst("__t", targets: try Tensor.zeros([10, 1])),
                                       optimizer: SGD(lr: 0.1), epochs: 1, val: (x, y), logEvery: 0)) { e in
            XCTAssertEqual("\(e)", "train: validation data has no input '__t'")
        }
    }
}
