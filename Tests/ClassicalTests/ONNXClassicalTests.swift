import Foundation
import XCTest
import Optimize
import Tensor
@testable import Classical
@testable import Train

/// export_onnx of every classical model (Gemm for the linear ones, sq_dist/argmin/top_k/
/// knn_vote as standard ONNX ops for k-means and kNN): onnxruntime's outputs equal MLW's
/// within 1e-5.
final class ONNXClassicalTests: XCTestCase {
    func check(_ m: Model, _ q: [Float], cols: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let py = try ClassicalFixtures.python("onnxruntime, numpy")
        let dir = try ClassicalFixtures.tempDir("onnx-\(label)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.onnx").path, xin = dir.appendingPathComponent("x.bin").path
        try exportONNX(m, path)
        try q.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: xin)) }
        let want = try Optimize.predict(m, try Tensor(q, shape: [q.count / cols, cols])).toFloats()
        try ClassicalFixtures.run(py, ["-c", """
            import sys, numpy as np, onnxruntime as ort
            s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, int(sys.argv[3]))
            s.run(None, {s.get_inputs()[0].name: x})[0].astype(np.float32).tofile(sys.argv[2] + ".out")
            """, path, xin, String(cols)])
        let got = try Data(contentsOf: URL(fileURLWithPath: xin + ".out")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        for (i, (a, b)) in zip(got, want).enumerated() where abs(Double(a) - Double(b)) > 1e-5 * Swift.max(1, Double(abs(b))) {
            return XCTFail("\(label): output \(i): onnxruntime \(a), MLW \(b)", file: file, line: line)
        }
    }

    func testEveryClassicalModelMatchesOnnxruntime() throws {
        var s: UInt64 = 11
        func u() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) * 4 - 2 }
        let n = 80, d = 4
        let x = (0..<(n * d)).map { _ in Double(Float(u())) }
        let y3 = (0..<n).map { i in x[i * d] > 0.6 ? 2.0 : (x[i * d] > -0.6 ? 1.0 : 0.0) }
        let yr = (0..<n).map { i in 2 * x[i * d] - x[i * d + 1] + 0.5 }
        let X = Matrix(rows: n, cols: d, data: x)
        let cls = FitData(x: X, y: y3, classes: ["a", "b", "c"]), reg = FitData(x: X, y: yr)
        let q = (0..<(25 * d)).map { _ in Float(u()) }
        let models: [(String, Model)] = [
            ("ridge", try linearRegression(reg, LinearOptions(l2: 0.5))),
            ("logistic", try logisticRegression(cls, LogisticOptions())),
            ("kmeans", try kmeansModel(cls, KMeansOptions(k: 5, seed: 3)).0),
            ("pca", try pcaModel(cls, components: 3, whiten: false).0),
            ("pca_whiten", try pcaModel(cls, components: 2, whiten: true).0),
            ("knn_uniform", try knnModel(cls, k: 5, metric: "euclidean", weights: "uniform", classifier: nil)),
            ("knn_distance", try knnModel(cls, k: 4, metric: "euclidean", weights: "distance", classifier: nil)),
            ("knn_cosine_reg", try knnModel(reg, k: 3, metric: "cosine", weights: "distance", classifier: false)),
            ("knn_reg", try knnModel(reg, k: 6, metric: "euclidean", weights: "uniform", classifier: false)),
            ("gaussian_nb", try naiveBayesModel(cls, kind: "gaussian")),
        ]
        for (name, m) in models { try check(m, q, cols: d, name) }
    }

    /// Exact matches: on an integer grid every distance is exact on both sides, so a query
    /// equal to a training row gives that row all the weight (scikit-learn's rule) in both.
    func testDistanceWeightedKnnWithExactMatches() throws {
        let n = 30, d = 2
        let x = (0..<(n * d)).map { Double(($0 * 7) % 11) - 5 }
        let y = (0..<n).map { Double($0 % 3) }
        let m = try knnModel(FitData(x: Matrix(rows: n, cols: d, data: x), y: y), k: 3, metric: "euclidean", weights: "distance", classifier: true)
        let q = Array(x.prefix(10 * d)).map { Float($0) } + [0.5, 0.25, -3, 2.5]
        try check(m, q, cols: d, "knn_exact")
        let r = try knnModel(FitData(x: Matrix(rows: n, cols: d, data: x), y: y), k: 3, metric: "euclidean", weights: "distance", classifier: false)
        try check(r, q, cols: d, "knn_exact_reg")
    }
}
