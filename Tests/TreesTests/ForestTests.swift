import Foundation
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

final class ForestTests: XCTestCase {
    func accuracy(_ e: Ensemble, _ d: TreeData, task: TaskKind) throws -> Double {
        let m = try e.model(task: ModelTask(kind: task))
        return try Optimize.evaluate(m, x: try Tensor(d.x, shape: [d.rows, d.features]), y: try Tensor(d.y, shape: [d.rows])).accuracy
    }

    func testForestClassifiesAndReportsOOB() throws {
        let train = TreeFixtures.multiclass(rows: 800), test = TreeFixtures.multiclass(rows: 400, seed: 13)
        var o = ForestOptions(); o.trees = 30; o.featuresPerSplit = 2; o.seed = 1
        let r = try randomForest(train, classes: 3, options: o)
        XCTAssertEqual(r.ensemble.trees.count, 90)
        let acc = try accuracy(r.ensemble, test, task: .multiclass)
        XCTAssertGreaterThan(acc, 0.75)
        XCTAssertEqual(r.oobScore!, acc, accuracy: 0.08)
        // Outputs are logs of mean class frequencies: each in (0, 1] once exponentiated.
        let out = try Optimize.predict(try r.ensemble.model(task: ModelTask(kind: .multiclass)), try Tensor(Array(test.x.prefix(5)), shape: [1, 5])).toFloats()
        XCTAssertTrue(out.allSatisfy { exp(Double($0)) > 0 && exp(Double($0)) <= 1 + 1e-6 }, "\(out)")
        XCTAssertEqual(try randomForest(train, classes: 3, options: o).ensemble, r.ensemble)
    }

    func testRegressionForestAndSingleTreeRules() throws {
        let d = TreeFixtures.regression(rows: 500)
        var o = ForestOptions(); o.trees = 20
        let r = try randomForest(d, classes: 0, options: o)
        XCTAssertGreaterThan(r.oobScore!, 0.6)
        var one = ForestOptions(); one.trees = 1; one.bootstrap = false; one.maxDepth = 2
        let t = try randomForest(d, classes: 0, options: one, featureNames: ["a", "b", "c", "d", "e", "f"])
        XCTAssertEqual(t.ensemble.trees[0].depth, 2)
        let text = rules(t.ensemble, tree: 0)
        XCTAssertTrue(text.hasPrefix("if a <= "), text)
        XCTAssertEqual(text.split(separator: "\n").count, 3 * 2 + 4)   // if/else per split, one line per leaf
    }

    func testAccuracyMatchesScikitLearn() throws {
        let py = try TreeFixtures.python("sklearn, numpy")
        let train = TreeFixtures.classification(rows: 2000, seed: 4), test = TreeFixtures.classification(rows: 1000, seed: 5)
        var o = ForestOptions(); o.trees = 100; o.featuresPerSplit = 2; o.seed = 3
        let acc = try accuracy(try randomForest(train, classes: 2, options: o).ensemble, test, task: .binary)
        let dir = try TreeFixtures.tempDir("forest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("tr.csv").path, b = dir.appendingPathComponent("te.csv").path
        try TreeFixtures.writeCSV(train, a); try TreeFixtures.writeCSV(test, b)
        let out = try TreeFixtures.shell(py, ["-c", """
            import sys, numpy as np
            from sklearn.ensemble import RandomForestClassifier
            tr = np.genfromtxt(sys.argv[1], delimiter=","); te = np.genfromtxt(sys.argv[2], delimiter=",")
            accs = [RandomForestClassifier(n_estimators=100, max_features="sqrt", random_state=s, n_jobs=2).fit(tr[:, :-1], tr[:, -1]).score(te[:, :-1], te[:, -1]) for s in range(3)]
            print(np.mean(accs))
            """, a, b])
        let theirs = Double(out.trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertEqual(acc, theirs, accuracy: 0.01, "mlw \(acc) sklearn \(theirs)")
    }
}
