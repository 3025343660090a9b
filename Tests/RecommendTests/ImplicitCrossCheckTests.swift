import Foundation
import XCTest
@testable import Recommend

/// Cross-checks against the `implicit` package (MLW_PYTHON, else .venv/bin/python; skipped
/// without it): its evaluation module on MLW's own factors gives MLW's metrics, and MLW's
/// ALS and BPR reach its precision@10 within 0.01 (both ways) on the same data and
/// hyper-parameters. BPR is SGD on random samples, so one seed's precision@10 moves by about
/// 0.007 with the seed on either side: the bound is on the mean over 8 seeds per side, with
/// implicit on one thread (deterministic, and the same sequential SGD as MLW's).
final class ImplicitCrossCheckTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let py = env["MLW_PYTHON"] ?? Self.root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: py) else { throw XCTSkip("no Python with implicit (set MLW_PYTHON)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = ["-c", "import implicit"]
        p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("the Python at \(py) has no implicit package") }
        return py
    }

    static let script = #"""
import json, os, sys
import numpy as np, scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.evaluation import ranking_metrics_at_k, precision_at_k
d = json.load(open(sys.argv[1]))
nu, ni = d["users"], d["items"]
def mat(t):
    r, c, v = zip(*t)
    return sp.csr_matrix((np.array(v, dtype=np.float32), (np.array(r), np.array(c))), shape=(nu, ni))
train, test = mat(d["train"]), mat(d["test"])
out = {}
m = AlternatingLeastSquares(factors=d["f"], num_threads=2)
m.user_factors = np.array(d["U"], dtype=np.float32).reshape(nu, -1)
m.item_factors = np.array(d["V"], dtype=np.float32).reshape(ni, -1)
out["mlw_metrics"] = ranking_metrics_at_k(m, train, test, K=10, show_progress=False)
als = AlternatingLeastSquares(factors=16, regularization=0.1, alpha=10.0, iterations=10, random_state=1, num_threads=2)
als.fit(train, show_progress=False)
out["als_precision"] = float(precision_at_k(als, train, test, K=10, show_progress=False))
bp = []
for seed in d["bpr_seeds"]:
    bpr = BayesianPersonalizedRanking(factors=16, learning_rate=0.01, regularization=0.01, iterations=200, random_state=seed, num_threads=1)
    bpr.fit(train, show_progress=False)
    bp.append(float(precision_at_k(bpr, train, test, K=10, show_progress=False)))
out["bpr_precisions"] = bp
print(json.dumps({k: (v if not isinstance(v, dict) else {a: float(b) for a, b in v.items()}) for k, v in out.items()}))
"""#

    func testAgainstImplicit() throws {
        let py = try python()
        let x = try plantedInteractions(users: 1000, clusters: 5, itemsPerCluster: 40, per: 10, seed: 11, skew: true)
        let (tr, te) = try x.split(test: 0.25, byTime: false, seed: 3)
        var o = FactorOptions(); o.factors = 16; o.l2 = 0.1; o.alpha = 10; o.iterations = 10; o.seed = 1
        let als = try Recommend.als(tr, o)
        let bprSeeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]
        let bprPrecisions = try bprSeeds.map { seed in
            var ob = FactorOptions(); ob.factors = 16; ob.learningRate = 0.01; ob.l2 = 0.01; ob.iterations = 200; ob.seed = seed
            return try rankMetrics(try Recommend.bpr(tr, ob), test: te.triples, k: 10).precision
        }
        func triples(_ m: Interactions) -> [[Double]] {
            var t: [[Double]] = []
            for u in 0..<m.users.count { for e in m.byUser.range(u) { t.append([Double(u), Double(m.byUser.indices[e]), Double(m.byUser.values[e])]) } }
            return t
        }
        let V = try als.itemFactors().toFloats()
        let doc: [String: Any] = ["users": x.users.count, "items": x.items.count, "train": triples(tr), "test": triples(te),
                                  "f": 16, "bpr_seeds": bprSeeds.map { Int($0) }, "U": als.userVectors.map { Double($0) }, "V": V.map { Double($0) }]
        let path = NSTemporaryDirectory() + "mlw-implicit-\(getpid()).json"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = ["-c", Self.script, path]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"; env["MKL_NUM_THREADS"] = "1"
        p.environment = env
        let pipe = Pipe(), err = Pipe()
        p.standardOutput = pipe; p.standardError = err
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, errText)
        let out = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        // implicit's evaluation on MLW's factors gives MLW's metrics.
        let theirs = out["mlw_metrics"] as! [String: Double]
        let mine = try rankMetrics(als, test: te.triples, k: 10)
        XCTAssertEqual(mine.precision, theirs["precision"]!, accuracy: 1e-9)
        XCTAssertEqual(mine.map, theirs["map"]!, accuracy: 1e-6)
        XCTAssertEqual(mine.ndcg, theirs["ndcg"]!, accuracy: 1e-6)
        // Same data and hyper-parameters: precision@10 within 0.01.
        let theirBPR = out["bpr_precisions"] as! [Double]
        print("precision@10: MLW ALS \(mine.precision), implicit ALS \(out["als_precision"]!); MLW BPR \(bprPrecisions), implicit BPR \(theirBPR)")
        XCTAssertEqual(mine.precision, out["als_precision"] as! Double, accuracy: 0.01)
        func mean(_ a: [Double]) -> Double { a.reduce(0, +) / Double(a.count) }
        print("BPR means: \(mean(bprPrecisions)) \(mean(theirBPR))")
        XCTAssertEqual(mean(bprPrecisions), mean(theirBPR), accuracy: 0.01)
    }
}
