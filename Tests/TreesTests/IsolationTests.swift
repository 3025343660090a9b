import Foundation
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

final class IsolationTests: XCTestCase {
    /// 2000 normal rows plus 40 planted anomalies far from the bulk (label 1).
    static func planted() -> (x: [Float], y: [Float], rows: Int) {
        let z = TreeFixtures.normals(2040 * 4, seed: 21)
        var x = z.map { Float($0) }, y = [Float](repeating: 0, count: 2040)
        for i in 2000..<2040 {
            y[i] = 1
            for f in 0..<4 { x[i * 4 + f] = Float(z[i * 4 + f] * 0.5 + (f % 2 == 0 ? 4 : -4)) }
        }
        return (x, y, 2040)
    }

    func testScoresAndModelAgree() throws {
        let (x, y, n) = Self.planted()
        var o = IsolationOptions(); o.seed = 3
        let r = try isolationForest(x, rows: n, features: 4, options: o)
        let scores = isolationScores(r.ensemble, x, rows: n)
        XCTAssertTrue(scores.allSatisfy { $0 > 0 && $0 < 1 })
        let auc = rocAUC(scores: scores, labels: y.map { Int($0) })
        XCTAssertGreaterThan(auc, 0.95)
        // The model's output is logit(score): its sigmoid is the score.
        let m = try r.ensemble.model(task: ModelTask(kind: .binary, classes: ["normal", "anomaly"], threshold: r.threshold))
        let out = try Optimize.predict(m, try Tensor(x, shape: [n, 4])).toFloats()
        for i in stride(from: 0, to: n, by: 97) { XCTAssertEqual(1 / (1 + exp(Double(out[i]))) , 1 - scores[i], accuracy: 1e-5) }
        let ev = try Optimize.evaluate(m, x: try Tensor(x, shape: [n, 4]), y: try Tensor(y, shape: [n]))
        XCTAssertEqual(ev.rocAUC!, auc, accuracy: 1e-3)
        XCTAssertNotNil(ev.prAUC)
    }

    func testContaminationSetsTheThreshold() throws {
        let (x, _, n) = Self.planted()
        var o = IsolationOptions(); o.contamination = 0.02
        let r = try isolationForest(x, rows: n, features: 4, options: o)
        let flagged = isolationScores(r.ensemble, x, rows: n).filter { $0 > r.threshold }.count
        XCTAssertEqual(Double(flagged), 0.02 * Double(n), accuracy: 3)
        o.contamination = 0.9
        XCTAssertThrowsError(try isolationForest(x, rows: n, features: 4, options: o))
        // One row, constant columns: a model, no crash.
        let one = try isolationForest([1, 1], rows: 1, features: 2, options: IsolationOptions())
        XCTAssertEqual(isolationScores(one.ensemble, [1, 1], rows: 1)[0], 0.5, accuracy: 1e-9)
    }

    func testROCAUCMatchesScikitLearn() throws {
        let py = try TreeFixtures.python("sklearn, numpy")
        let (x, y, n) = Self.planted()
        let r = try isolationForest(x, rows: n, features: 4, options: IsolationOptions())
        let auc = rocAUC(scores: isolationScores(r.ensemble, x, rows: n), labels: y.map { Int($0) })
        let dir = try TreeFixtures.tempDir("iforest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("d.csv").path
        try TreeFixtures.writeCSV(TreeData(x: x, y: y, rows: n, features: 4), path)
        let out = try TreeFixtures.shell(py, ["-c", """
            import sys, numpy as np
            from sklearn.ensemble import IsolationForest
            from sklearn.metrics import roc_auc_score
            d = np.genfromtxt(sys.argv[1], delimiter=",")
            m = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(d[:, :-1])
            print(roc_auc_score(d[:, -1], -m.score_samples(d[:, :-1])))
            """, path])
        let theirs = Double(out.trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertEqual(auc, theirs, accuracy: 0.02, "mlw \(auc) sklearn \(theirs)")
    }
}
