import Foundation
import Graph
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

final class BoostingTests: XCTestCase {
    func fit(_ d: TreeData, _ obj: BoostObjective, classes: Int = 2, trees: Int = 20) throws -> Ensemble {
        var o = BoostOptions(); o.trees = trees
        return try gradientBoosting(d, objective: obj, classes: classes, options: o).ensemble
    }

    /// The graph op gives what the trees say, and training lowers the loss.
    func testRegressionOpMatchesTreesAndFits() throws {
        let d = TreeFixtures.regression(rows: 2000)
        let e = try fit(d, .l2, trees: 30)
        XCTAssertEqual(e.trees.count, 30)
        XCTAssertTrue(e.trees.allSatisfy { $0.leafCount <= 31 && $0.leafCount >= 2 })
        let m = try e.model(task: ModelTask(kind: .regression))
        let x = try Tensor(d.x, shape: [d.rows, d.features])
        let out = try Optimize.predict(m, x).toFloats()
        let direct = e.rawScores(d.x, rows: d.rows)
        for i in 0..<d.rows { XCTAssertEqual(Double(out[i]), direct[i], accuracy: 1e-4) }
        let mean = d.y.reduce(0, +) / Float(d.rows)
        let varY = d.y.reduce(0) { $0 + Double(($1 - mean) * ($1 - mean)) } / Double(d.rows)
        let mse = zip(out, d.y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(d.rows)
        XCTAssertLessThan(mse, 0.2 * varY)
    }

    func testSameBitsTwiceAndAcrossThreadCounts() throws {
        let d = TreeFixtures.classification(rows: 3000, missing: true)
        var o = BoostOptions(); o.trees = 15; o.baggingFraction = 0.7; o.baggingFreq = 1; o.featureFraction = 0.8; o.seed = 5
        let before = Tensor.threads
        defer { Tensor.setThreads(before) }
        Tensor.setThreads(1)
        let a = try gradientBoosting(d, objective: .binary, classes: 2, options: o).ensemble
        Tensor.setThreads(2)
        let b = try gradientBoosting(d, objective: .binary, classes: 2, options: o).ensemble
        let c = try gradientBoosting(d, objective: .binary, classes: 2, options: o).ensemble
        XCTAssertEqual(a, b)
        XCTAssertEqual(b, c)
        o.seed = 6
        XCTAssertNotEqual(try gradientBoosting(d, objective: .binary, classes: 2, options: o).ensemble, a)
    }

    func testMissingValuesLearnTheirDirection() throws {
        // y is 1 exactly when feature 0 is missing: only the missing direction can tell.
        var x: [Float] = [], y: [Float] = []
        for i in 0..<400 { x += [i % 3 == 0 ? .nan : Float(i % 7), Float(i % 5)]; y.append(i % 3 == 0 ? 1 : 0) }
        var o = BoostOptions(); o.trees = 30; o.grow.minChildSamples = 5
        let e = try gradientBoosting(TreeData(x: x, y: y, rows: 400, features: 2), objective: .binary, classes: 2, options: o).ensemble
        let s = e.rawScores([.nan, 3, 2, 3], rows: 2)
        XCTAssertGreaterThan(s[0], 1.5)
        XCTAssertLessThan(s[1], -1.5)
    }

    func testMulticlassSoftmax() throws {
        let d = TreeFixtures.multiclass(rows: 1500)
        let e = try fit(d, .softmax, classes: 3, trees: 20)
        XCTAssertEqual(e.trees.count, 60)
        XCTAssertEqual(e.outputs, 3)
        let m = try e.model(task: ModelTask(kind: .multiclass))
        let ev = try Optimize.evaluate(m, x: try Tensor(d.x, shape: [d.rows, d.features]), y: try Tensor(d.y, shape: [d.rows]))
        XCTAssertGreaterThan(ev.accuracy, 0.85)
    }

    func testHostileInputs() throws {
        // Constant and all-missing columns: a model with single-leaf trees, no crash.
        let x: [Float] = (0..<50).flatMap { _ in [Float(1), Float.nan] }
        let y: [Float] = (0..<50).map { Float($0 % 2) }
        let e = try gradientBoosting(TreeData(x: x, y: y, rows: 50, features: 2), objective: .binary, classes: 2, options: BoostOptions()).ensemble
        XCTAssertTrue(e.trees.allSatisfy { $0.leafCount == 1 })
        XCTAssertEqual(e.rawScores([1, .nan], rows: 1)[0], 0, accuracy: 1e-9)   // log(0.5 / 0.5)
        // One row.
        let one = try gradientBoosting(TreeData(x: [1, 2], y: [3], rows: 1, features: 2), objective: .l2, classes: 1, options: BoostOptions()).ensemble
        XCTAssertEqual(one.rawScores([5, 5], rows: 1)[0], 3, accuracy: 1e-9)
        // No rows, bad labels.
        XCTAssertThrowsError(try gradientBoosting(TreeData(x: [], y: [], rows: 0, features: 2), objective: .l2, classes: 1, options: BoostOptions()))
        XCTAssertThrowsError(try gradientBoosting(TreeData(x: [1], y: [3], rows: 1, features: 1), objective: .binary, classes: 2, options: BoostOptions())) { e in
            XCTAssertTrue("\(e)".contains("row 0"), "\(e)")
        }
        // Zero trees: the base score alone.
        var o = BoostOptions(); o.trees = 0
        let none = try gradientBoosting(TreeData(x: [1, 2], y: [3, 5], rows: 2, features: 1), objective: .l2, classes: 1, options: o).ensemble
        let m = try none.model(task: ModelTask(kind: .regression))
        XCTAssertEqual(try Optimize.predict(m, try Tensor([Float(7)], shape: [1, 1])).toFloats(), [4])
    }

    func testSaveLoadRoundTripAndMalformedNodes() throws {
        let d = TreeFixtures.classification(rows: 800)
        let e = try fit(d, .binary, trees: 10)
        let m = try e.model(task: ModelTask(kind: .binary))
        let bytes = try ModelFile.encode(m)
        let back = try ModelFile.decode(bytes)
        let x = try Tensor(Array(d.x.prefix(80)), shape: [10, d.features])
        XCTAssertEqual(try Optimize.predict(back, x).toFloats(), try Optimize.predict(m, x).toFloats())
        XCTAssertEqual(try Ensemble.of(back)?.trees.map(\.feature), e.trees.map(\.feature))
        // A child pointing backwards (a loop) is refused when the model runs, never followed.
        var bad = m
        var nodes = bad.graph.params["tree_nodes"]!.toFloats()
        nodes[2] = 0
        bad.graph.params["tree_nodes"] = try Tensor(nodes, shape: bad.graph.params["tree_nodes"]!.shape)
        XCTAssertThrowsError(try Optimize.predict(bad, x)) { err in XCTAssertTrue("\(err)".contains("node 0 is malformed"), "\(err)") }
    }
}
