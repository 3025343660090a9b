import Foundation
import Graph
import Serve
import ServeModels
import Tensor
import Train
import XCTest
@testable import Trees

/// GraphServable.explain in each model kind's units: the bias plus the contributions give
/// back what the servable predicts (regression in label units through a standardized
/// target; a forest classifier's probability of the explained class).
final class ExplainUnitsTests: XCTestCase {
    func testRegressionExplainsInLabelUnits() throws {
        let d = TreeFixtures.regression(rows: 400)
        var o = BoostOptions(); o.trees = 15
        let e = try gradientBoosting(d, objective: .l2, classes: 1, options: o).ensemble
        // As if trained on (y - 10) / 2: served values are raw · 2 + 10.
        let s = try GraphServable(try e.model(task: ModelTask(kind: .regression, target: .standardize(mean: 10, std: 2))), name: "r", version: 1)
        let x = try Tensor(Array(d.x.prefix(20 * d.features)), shape: [20, d.features])
        let served = try s.predict(x).toFloats()
        let ex = try s.explain(x)
        XCTAssertEqual(ex.units, "value")
        XCTAssertEqual(ex.featureNames, (0..<d.features).map { "x\($0)" })
        for (i, row) in ex.rows.enumerated() {
            XCTAssertNil(row.output)
            XCTAssertEqual(row.contributions.reduce(row.bias, +), Double(served[i]), accuracy: 1e-4)
        }
    }

    func testForestClassifierExplainsTheChosenClassProbability() throws {
        let d = TreeFixtures.classification(rows: 400)
        var fo = ForestOptions(); fo.trees = 8; fo.maxDepth = 5
        let e = try randomForest(d, classes: 2, options: fo).ensemble
        let s = try GraphServable(try e.model(task: ModelTask(kind: .binary)), name: "f", version: 1)
        XCTAssertEqual(s.modelKind, "random_forest")
        let x = try Tensor(Array(d.x.prefix(30 * d.features)), shape: [30, d.features])
        let p = try s.predict(x).toFloats()
        let ex = try s.explain(x)
        XCTAssertEqual(ex.units, "probability")
        for (i, row) in ex.rows.enumerated() {
            let c = try XCTUnwrap(row.output)
            XCTAssertEqual(c, p[2 * i + 1] > p[2 * i] ? 1 : 0, "row \(i)")
            XCTAssertEqual(row.contributions.reduce(row.bias, +), Double(p[2 * i + c]), accuracy: 1e-4)
        }
    }

    func testModelsWithoutTreesRefuseNamingTheirKind() throws {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(2)])
        let w = try g.param("w", try Tensor([1, 2], shape: [2, 1]))
        g.outputs = [try g.op(.matmul, [x, w])]
        let s = try GraphServable(Model(graph: g), name: "lin", version: 1)
        XCTAssertThrowsError(try s.explain(try Tensor([1, 2], shape: [1, 2]))) { e in
            XCTAssertEqual((e as? ServeError)?.status, 400)
            XCTAssertTrue("\(e)".contains("not supported for graph (matmul) models"), "\(e)")
        }
    }
}
