import Foundation
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

/// Cross-checks against LightGBM on the same data and hyper-parameters.
final class PeerTests: XCTestCase {
    static let lightgbm = """
    import sys, json, numpy as np, lightgbm as lgb
    from sklearn.metrics import roc_auc_score, mean_squared_error, mean_absolute_error
    tr = np.genfromtxt(sys.argv[1], delimiter=","); te = np.genfromtxt(sys.argv[2], delimiter=",")
    obj = sys.argv[3]
    params = dict(objective=obj, n_estimators=int(sys.argv[4]), num_leaves=31, learning_rate=0.1, min_child_samples=20,
                  max_bin=255, reg_lambda=0.0, reg_alpha=0.0, min_split_gain=0.0, subsample=1.0, colsample_bytree=1.0,
                  n_jobs=2, deterministic=True, verbose=-1)
    m = (lgb.LGBMClassifier if obj == "binary" else lgb.LGBMRegressor)(**params)
    m.fit(tr[:, :-1], tr[:, -1])
    if obj == "binary":
        print(roc_auc_score(te[:, -1], m.predict_proba(te[:, :-1])[:, 1]))
    elif obj == "regression_l1":
        print(mean_absolute_error(te[:, -1], m.predict(te[:, :-1])))
    else:
        print(mean_squared_error(te[:, -1], m.predict(te[:, :-1])) ** 0.5)
    """

    func peer(_ train: TreeData, _ test: TreeData, _ objective: String, trees: Int) throws -> Double {
        let py = try TreeFixtures.python("lightgbm, sklearn, numpy")
        let dir = try TreeFixtures.tempDir("lgb-\(objective)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("train.csv").path, b = dir.appendingPathComponent("test.csv").path
        try TreeFixtures.writeCSV(train, a); try TreeFixtures.writeCSV(test, b)
        let out = try TreeFixtures.shell(py, ["-c", Self.lightgbm, a, b, objective, String(trees)])
        return Double(out.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    func testBinaryAUCMatchesLightGBM() throws {
        let train = TreeFixtures.classification(rows: 6000, missing: true), test = TreeFixtures.classification(rows: 3000, seed: 9, missing: true)
        var o = BoostOptions(); o.trees = 60
        let e = try gradientBoosting(train, objective: .binary, classes: 2, options: o).ensemble
        let ev = try Optimize.evaluate(try e.model(task: ModelTask(kind: .binary)), x: try Tensor(test.x, shape: [test.rows, test.features]),
                                       y: try Tensor(test.y, shape: [test.rows]))
        let theirs = try peer(train, test, "binary", trees: 60)
        XCTAssertEqual(ev.rocAUC!, theirs, accuracy: 0.005, "mlw \(ev.rocAUC!) lightgbm \(theirs)")
    }

    func testRegressionRMSEMatchesLightGBM() throws {
        let train = TreeFixtures.regression(rows: 6000), test = TreeFixtures.regression(rows: 3000, seed: 11)
        var o = BoostOptions(); o.trees = 60
        let e = try gradientBoosting(train, objective: .l2, classes: 1, options: o).ensemble
        let ev = try Optimize.evaluate(try e.model(task: ModelTask(kind: .regression)), x: try Tensor(test.x, shape: [test.rows, test.features]),
                                       y: try Tensor(test.y, shape: [test.rows]))
        let theirs = try peer(train, test, "regression", trees: 60)
        // Relative: RMSE within 0.005 of LightGBM's in units of the label's spread.
        XCTAssertEqual(ev.rmse! / theirs, 1, accuracy: 0.02, "mlw \(ev.rmse!) lightgbm \(theirs)")
    }

    /// L1 with leaf renewal (leaves re-fit as residual medians, as LightGBM does): test
    /// MAE within 2% of LightGBM's regression_l1 on labels with heavy-tailed noise.
    func testL1MatchesLightGBM() throws {
        func heavy(_ d: TreeData, seed: UInt64) -> TreeData {
            var d = d, r = SplitMixRNG(seed: seed)
            for i in 0..<d.rows where r.unit() < 0.1 { d.y[i] += Float(r.unit() < 0.5 ? -1 : 1) * Float(5 + 20 * r.unit()) }
            return d
        }
        let train = heavy(TreeFixtures.regression(rows: 6000), seed: 3), test = heavy(TreeFixtures.regression(rows: 3000, seed: 11), seed: 4)
        var o = BoostOptions(); o.trees = 60
        let e = try gradientBoosting(train, objective: .l1, classes: 1, options: o).ensemble
        let pred = e.rawScores(test.x, rows: test.rows)
        let mae = zip(pred, test.y).reduce(0) { $0 + Swift.abs($1.0 - Double($1.1)) } / Double(test.rows)
        let theirs = try peer(train, test, "regression_l1", trees: 60)
        XCTAssertEqual(mae / theirs, 1, accuracy: 0.02, "mlw \(mae) lightgbm \(theirs)")
    }
}
