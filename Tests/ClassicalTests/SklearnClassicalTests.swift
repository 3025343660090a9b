import Foundation
import XCTest
import Optimize
import Tensor
@testable import Classical
@testable import Train

/// Every classical fitter against scikit-learn on the same data (float32-exact values, so
/// both sides read the same numbers): coefficients within 1e-4 relative, k-means inertia
/// within 0.5%, PCA components up to sign, identical kNN neighbours, naive Bayes
/// probabilities, and the added metrics. Runs when MLW_PYTHON (or .venv/bin/python) has
/// scikit-learn; Scripts/test installs it.
final class SklearnClassicalTests: XCTestCase {
    static let script = """
    import json, sys, warnings
    import numpy as np
    warnings.filterwarnings("ignore")
    from sklearn import linear_model as L, cluster, decomposition, neighbors, naive_bayes, metrics as M
    d = json.load(open(sys.argv[1]))
    X, y, yc, y3 = np.array(d["x"]), np.array(d["y"]), np.array(d["yc"]), np.array(d["y3"])
    w = np.array(d["w"]); n = X.shape[0]
    out = {}
    def lin(m): return {"coef": m.coef_.ravel().tolist(), "intercept": float(np.ravel(m.intercept_)[0])}
    out["ols"] = lin(L.LinearRegression().fit(X, y))
    out["ridge"] = lin(L.Ridge(alpha=3.0).fit(X, y, sample_weight=w))
    out["lasso"] = lin(L.Lasso(alpha=0.05, tol=1e-12, max_iter=1000000).fit(X, y))
    a = 0.02 + 5.0 / n
    out["enet"] = lin(L.ElasticNet(alpha=a, l1_ratio=0.02 / a, tol=1e-12, max_iter=1000000).fit(X, y))
    Xd = np.hstack([X, 2 * X[:, :1]])
    out["collinear_pred"] = L.LinearRegression().fit(Xd, y).predict(Xd).tolist()
    def logit(m): return {"coef": m.coef_.T.ravel().tolist(), "intercept": np.ravel(m.intercept_).tolist()}
    out["logit"] = logit(L.LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(X, yc))
    out["logit3"] = logit(L.LogisticRegression(C=2.0, tol=1e-10, max_iter=100000).fit(X, y3))
    out["logit_bal"] = logit(L.LogisticRegression(C=1.0, tol=1e-10, max_iter=100000, class_weight="balanced").fit(X, yc))
    out["logit_l1"] = logit(L.LogisticRegression(penalty="l1", C=1 / 20.0, solver="saga", tol=1e-12, max_iter=200000).fit(X, yc))
    B = np.array(d["blobs"])
    out["kmeans_inertia"] = float(cluster.KMeans(n_clusters=4, n_init=3, random_state=0).fit(B).inertia_)
    p = decomposition.PCA(n_components=3).fit(X)
    out["pca"] = {"components": p.components_.tolist(), "var": p.explained_variance_.tolist(), "ratio": p.explained_variance_ratio_.tolist()}
    Q = np.array(d["queries"])
    dist, idx = neighbors.NearestNeighbors(n_neighbors=5).fit(X).kneighbors(Q)
    out["knn"] = {"idx": idx.tolist(), "dist": dist.tolist()}
    out["knn_proba"] = neighbors.KNeighborsClassifier(n_neighbors=5, weights="distance").fit(X, y3).predict_proba(Q).tolist()
    out["gnb"] = naive_bayes.GaussianNB().fit(X, y3).predict_proba(Q).tolist()
    C = np.floor(np.abs(X) * 3)
    out["mnb"] = naive_bayes.MultinomialNB(alpha=1.0).fit(C, y3).predict_proba(np.floor(np.abs(Q) * 3)).tolist()
    out["brier"] = M.brier_score_loss(yc, np.array(d["probs"]))
    out["brier3"] = M.brier_score_loss(y3, np.array(d["probs3"]), labels=[0, 1, 2])
    out["ari"] = M.adjusted_rand_score(d["lab_a"], d["lab_b"])
    out["silhouette"] = M.silhouette_score(B, d["blob_labels"])
    print(json.dumps(out))
    """

    func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let py = env["MLW_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: py), (try? run(py, ["-c", "import sklearn, numpy"])) != nil { return py }
        if env["CI"] == "true" { XCTFail("CI: scikit-learn missing for \(py)") }
        throw XCTSkip("scikit-learn not installed (python \(py))")
    }

    @discardableResult
    func run(_ exe: String, _ args: [String]) throws -> String {
        let p = Process(); p.executableURL = URL(fileURLWithPath: exe); p.arguments = args
        let out = Pipe(), err = Pipe(); p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TrainError("python failed: \(String(decoding: e, as: UTF8.self))") }
        return String(decoding: o, as: UTF8.self)
    }

    /// Deterministic normal-ish values, rounded to float32 so both sides see the same numbers.
    struct Gen {
        var s: UInt64
        mutating func uniform() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) }
        mutating func normal() -> Double { Double(Float((-2 * Foundation.log(Swift.max(uniform(), 1e-300))).squareRoot() * Foundation.cos(2 * Double.pi * uniform()))) }
    }

    func close(_ a: [Double], _ b: [Double], rel: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = (b.map(abs).max() ?? 0) * 1e-2
        for (x, y) in zip(a, b) where abs(x - y) > rel * Swift.max(abs(y), scale) {
            XCTFail("\(what): \(a) vs scikit-learn \(b)", file: file, line: line); return
        }
    }

    func testAgainstScikitLearn() throws {
        let py = try python()
        var g = Gen(s: 42)
        let n = 200, d = 5
        let x = (0..<(n * d)).map { _ in g.normal() }
        let beta = [1.5, -2.0, 0.0, 0.7, 3.0]
        let y = (0..<n).map { i in Double(Float((0..<d).reduce(0.5) { $0 + x[i * d + $1] * beta[$1] } + 0.3 * g.normal())) }
        let yc = (0..<n).map { i in x[i * d] + 0.5 * x[i * d + 1] - x[i * d + 3] + g.normal() > 0 ? 1.0 : 0.0 }
        let y3 = (0..<n).map { i -> Double in let v = x[i * d] - x[i * d + 2] + 0.5 * g.normal(); return v < -0.5 ? 0 : (v < 0.5 ? 1 : 2) }
        let w = (0..<n).map { Double($0 % 4) + 0.5 }
        let centers = [[5.0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [-4, -4, 0, 3]]
        var blobs: [Double] = [], blobLabels: [Int] = []
        for i in 0..<240 { for j in 0..<4 { blobs.append(Double(Float(centers[i % 4][j] + g.normal()))) }; blobLabels.append(i % 4) }
        let queries = (0..<(7 * d)).map { _ in g.normal() }
        let probs = (0..<n).map { _ in Double(Float(g.uniform())) }
        let probs3 = (0..<n).map { _ -> [Double] in let r = (0..<3).map { _ in g.uniform() + 0.01 }; let t = r.reduce(0, +); return r.map { $0 / t } }
        let labA = (0..<60).map { $0 % 3 }, labB = (0..<60).map { ($0 / 7) % 4 }
        func rows(_ v: [Double], _ c: Int) -> [[Double]] { stride(from: 0, to: v.count, by: c).map { Array(v[$0..<($0 + c)]) } }
        let payload: [String: Any] = ["x": rows(x, d), "y": y, "yc": yc, "y3": y3, "w": w, "blobs": rows(blobs, 4), "queries": rows(queries, d),
                                      "probs": probs, "probs3": probs3, "lab_a": labA, "lab_b": labB, "blob_labels": blobLabels]
        let path = NSTemporaryDirectory() + "mlw-classical-\(getpid()).json"
        try JSONSerialization.data(withJSONObject: payload).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scriptPath = path + ".py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scriptPath) }
        let sk = try JSONSerialization.jsonObject(with: Data(try run(py, [scriptPath, path]).utf8)) as! [String: Any]
        func lin(_ k: String) -> ([Double], Double) { let r = sk[k] as! [String: Any]; return (r["coef"] as! [Double], r["intercept"] as! Double) }

        let X = Matrix(rows: n, cols: d, data: x)
        for (key, o) in [("ols", LinearOptions()), ("ridge", LinearOptions(l2: 3, sampleWeights: w)), ("lasso", LinearOptions(l1: 0.05)),
                         ("enet", LinearOptions(l2: 5, l1: 0.02))] {
            let fit = try fitLinear(X, y, o), want = lin(key)
            close(fit.coef + [fit.intercept], want.0 + [want.1], rel: 1e-4, key)
        }
        // Exactly collinear columns: Cholesky refuses X'X, QR finds a solution with the same predictions.
        var xd = Matrix(zeros: n, d + 1)
        for i in 0..<n { for j in 0..<d { xd[i, j] = x[i * d + j] }; xd[i, d] = 2 * x[i * d] }
        let col = try fitLinear(xd, y, LinearOptions())
        XCTAssertEqual(col.solver, "qr")
        close(xd.times(Matrix(rows: d + 1, cols: 1, data: col.coef), bias: [col.intercept]).data, sk["collinear_pred"] as! [Double], rel: 1e-4, "collinear")

        func logit(_ k: String) -> [Double] { let r = sk[k] as! [String: Any]; return (r["coef"] as! [Double]) + (r["intercept"] as! [Double]) }
        func mine(_ labels: [Double], _ o: LogisticOptions) throws -> [Double] {
            let f = try fitLogistic(FitData(x: X, y: labels), o)
            return f.coef.data + f.intercept
        }
        close(try mine(yc, LogisticOptions(l2: 1, maxIter: 10_000, tol: 1e-10)), logit("logit"), rel: 1e-4, "logistic binary")
        close(try mine(y3, LogisticOptions(l2: 0.5, maxIter: 10_000, tol: 1e-10)), logit("logit3"), rel: 1e-4, "logistic multinomial")
        let pos = yc.filter { $0 == 1 }.count
        let balanced = [Double(n) / (2 * Double(n - pos)), Double(n) / (2 * Double(pos))]
        close(try mine(yc, LogisticOptions(l2: 1, maxIter: 10_000, tol: 1e-10, classWeights: balanced)), logit("logit_bal"), rel: 1e-4, "logistic balanced")
        close(try mine(yc, LogisticOptions(l2: 0, l1: 20, maxIter: 10_000, tol: 1e-10)), logit("logit_l1"), rel: 1e-3, "logistic l1")

        let km = try fitKMeans(Matrix(rows: 240, cols: 4, data: blobs), KMeansOptions(k: 4, nInit: 3, seed: 0))
        let skInertia = sk["kmeans_inertia"] as! Double
        XCTAssertLessThanOrEqual(km.inertia, skInertia * 1.005, "k-means inertia \(km.inertia) vs scikit-learn \(skInertia)")

        let p = try fitPCA(X, components: 3, whiten: false)
        let pk = sk["pca"] as! [String: Any]
        close(p.explainedVariance, pk["var"] as! [Double], rel: 1e-6, "pca variance")
        close(p.explainedVarianceRatio, pk["ratio"] as! [Double], rel: 1e-6, "pca ratio")
        for (i, comp) in (pk["components"] as! [[Double]]).enumerated() {
            let mine = (0..<d).map { p.components[$0, i] }
            let sign = zip(mine, comp).map { $0 * $1 }.reduce(0, +) < 0 ? -1.0 : 1.0
            close(mine.map { $0 * sign }, comp, rel: 1e-5, "pca component \(i)")
        }

        let data = FitData(x: X, y: y3)
        let knn = try knnModel(FitData(x: X, y: y3), k: 5, metric: "euclidean", weights: "distance", classifier: true)
        let q = try Tensor(queries.map { Float($0) }, shape: [7, d])
        let nb = try kNeighbors(knn, q)
        let kk = sk["knn"] as! [String: Any]
        XCTAssertEqual(nb.indices, kk["idx"] as! [[Int]])
        for (a, b) in zip(nb.distances, kk["dist"] as! [[Double]]) { close(a, b, rel: 1e-5, "knn distances") }
        func probabilities(_ m: Model, _ q: Tensor) throws -> [Double] {
            let out = try predict(m, q)
            let w = out.shape[1], raw = out.toDoubles()
            return (0..<out.shape[0]).flatMap { i -> [Double] in
                guard case .probabilities(let p, _) = m.task!.answer(Array(raw[(i * w)..<((i + 1) * w)])) else { return [] }
                return p
            }
        }
        close(try probabilities(knn, q), (sk["knn_proba"] as! [[Double]]).flatMap { $0 }, rel: 1e-4, "knn probabilities")
        close(try probabilities(try naiveBayesModel(data, kind: "gaussian"), q), (sk["gnb"] as! [[Double]]).flatMap { $0 }, rel: 1e-3, "gaussian nb")
        let counts = Matrix(rows: n, cols: d, data: x.map { Foundation.floor(abs($0) * 3) })
        let qc = try Tensor(queries.map { Float(Foundation.floor(abs($0) * 3)) }, shape: [7, d])
        close(try probabilities(try naiveBayesModel(FitData(x: counts, y: y3), kind: "multinomial"), qc), (sk["mnb"] as! [[Double]]).flatMap { $0 }, rel: 1e-4, "multinomial nb")

        XCTAssertEqual(try brierScore(probs, yc.map { Int($0) }), sk["brier"] as! Double, accuracy: 1e-12)
        // evaluate's Brier score: binary (positive class) and multiclass (sum over classes).
        func argmax(_ r: [Double]) -> Int { r.indices.max { r[$0] < r[$1] }! }
        let bin = classificationMetrics(probs: probs.map { [1 - $0, $0] }, predicted: probs.map { $0 >= 0.5 ? 1 : 0 }, labels: yc.map { Int($0) },
                                        classes: ["0", "1"], task: .binary)
        XCTAssertEqual(try XCTUnwrap(bin.brier), sk["brier"] as! Double, accuracy: 1e-9)
        let multi = classificationMetrics(probs: probs3, predicted: probs3.map(argmax), labels: y3.map { Int($0) }, classes: ["0", "1", "2"], task: .multiclass)
        XCTAssertEqual(try XCTUnwrap(multi.brier), sk["brier3"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(try adjustedRandIndex(labA, labB), sk["ari"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(try silhouetteScore(blobs, rows: 240, cols: 4, labels: blobLabels), sk["silhouette"] as! Double, accuracy: 1e-9)
    }
}
