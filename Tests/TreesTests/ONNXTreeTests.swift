import Foundation
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

/// ai.onnx.ml export checked with onnxruntime within 1e-5: regressors give MLW's raw
/// outputs (TreeEnsembleRegressor); classifiers (TreeEnsembleClassifier, LOGISTIC /
/// SOFTMAX / forest means) give MLW's probabilities and the class its predict chooses;
/// isolation forests give the anomaly scores and the flag at the fitted threshold.
final class ONNXTreeTests: XCTestCase {
    /// onnxruntime's outputs for the first rows of d: each as float64 (labels included).
    func run(_ m: Model, _ d: TreeData, _ label: String) throws -> (x: [Float], rows: Int, outputs: [[Double]]) {
        let py = try TreeFixtures.python("onnxruntime, numpy")
        let dir = try TreeFixtures.tempDir("onnx-\(label)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.onnx").path, xin = dir.appendingPathComponent("x.bin").path
        try exportONNX(m, path)
        let rows = Swift.min(d.rows, 300)
        let x = Array(d.x.prefix(rows * d.features))
        try x.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: xin)) }
        let count = try TreeFixtures.shell(py, ["-c", """
            import sys, numpy as np, onnxruntime as ort
            s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, int(sys.argv[3]))
            outs = s.run(None, {s.get_inputs()[0].name: x})
            for i, o in enumerate(outs): np.asarray(o).astype(np.float64).tofile(sys.argv[2] + ".out%d" % i)
            print(len(outs))
            """, path, xin, String(d.features)])
        let n = Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let outs = try (0..<n).map { i in
            try Data(contentsOf: URL(fileURLWithPath: xin + ".out\(i)")).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
        return (x, rows, outs)
    }

    func close(_ got: [Double], _ want: [Double], _ label: String) {
        XCTAssertEqual(got.count, want.count, label)
        for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(1, Swift.abs(b)), label) }
    }

    /// A regressor's single output equals MLW's predict.
    func checkRaw(_ m: Model, _ d: TreeData, _ label: String) throws {
        let (x, rows, outs) = try run(m, d, label)
        XCTAssertEqual(outs.count, 1, label)
        close(outs[0], try Optimize.predict(m, try Tensor(x, shape: [rows, d.features])).toFloats().map(Double.init), label)
    }

    /// A classifier's `label` and `probabilities` equal what MLW's task answers.
    func checkClassifier(_ m: Model, _ d: TreeData, _ label: String) throws {
        let (x, rows, outs) = try run(m, d, label)
        XCTAssertEqual(outs.count, 2, label)
        let raw = try Optimize.predict(m, try Tensor(x, shape: [rows, d.features])).toFloats().map(Double.init)
        let w = raw.count / rows
        var probs: [Double] = [], classes: [Double] = []
        for r in 0..<rows {
            guard case .probabilities(let p, let c) = m.task!.answer(Array(raw[r * w ..< (r + 1) * w])) else { return XCTFail(label) }
            probs += p; classes.append(Double(c))
        }
        close(outs[1], probs, label + " probabilities")
        // Labels may differ only where the probabilities tie within float rounding.
        let k = probs.count / rows
        for r in 0..<rows where outs[0][r] != classes[r] {
            let p = probs[r * k ..< (r + 1) * k]
            XCTAssertEqual(p[r * k + Int(outs[0][r])], p[r * k + Int(classes[r])], accuracy: 1e-6, "\(label) row \(r)")
        }
        XCTAssertGreaterThan(Set(classes).count, 1, label)
    }

    func testRegressorsMatchOnnxruntime() throws {
        var o = BoostOptions(); o.trees = 20
        let r = TreeFixtures.regression(rows: 600)
        try checkRaw(try gradientBoosting(r, objective: .l2, classes: 0, options: o).ensemble.model(task: ModelTask(kind: .regression)), r, "boosted")
        var fo = ForestOptions(); fo.trees = 10; fo.maxDepth = 6
        try checkRaw(try randomForest(r, classes: 0, options: fo).ensemble.model(task: ModelTask(kind: .regression)), r, "forest")
        // Without a classification task the boosted model's raw scores are exported as they are.
        let c = TreeFixtures.classification(rows: 500, missing: true)
        try checkRaw(try gradientBoosting(c, objective: .binary, classes: 2, options: o).ensemble.model(task: nil), c, "raw logits")
    }

    func testClassifiersMatchOnnxruntime() throws {
        var o = BoostOptions(); o.trees = 20
        let c = TreeFixtures.classification(rows: 1000, missing: true)
        let binary = try gradientBoosting(c, objective: .binary, classes: 2, options: o).ensemble
        try checkClassifier(try binary.model(task: ModelTask(kind: .binary)), c, "binary")
        try checkClassifier(try binary.model(task: ModelTask(kind: .binary, threshold: 0.3)), c, "binary at 0.3")
        let mc = TreeFixtures.multiclass(rows: 600)
        try checkClassifier(try gradientBoosting(mc, objective: .softmax, classes: 3, options: o).ensemble.model(task: ModelTask(kind: .multiclass)), mc, "multiclass")
        var fo = ForestOptions(); fo.trees = 10; fo.maxDepth = 6
        try checkClassifier(try randomForest(mc, classes: 3, options: fo).ensemble.model(task: ModelTask(kind: .multiclass)), mc, "forest multiclass")
        try checkClassifier(try randomForest(c, classes: 2, options: fo).ensemble.model(task: ModelTask(kind: .binary)), c, "forest binary")
    }

    func testIsolationForestMatchesOnnxruntime() throws {
        let d = TreeFixtures.regression(rows: 500, features: 4)
        var io = IsolationOptions(); io.trees = 30; io.contamination = 0.05; io.seed = 4
        let r = try isolationForest(d.x, rows: d.rows, features: d.features, options: io)
        let m = try r.ensemble.model(task: ModelTask(kind: .binary, classes: ["normal", "anomaly"], threshold: r.threshold))
        let (x, rows, outs) = try run(m, d, "isolation")
        XCTAssertEqual(outs.count, 2)
        let scores = isolationScores(r.ensemble, x, rows: rows)
        close(outs[1], scores, "scores")
        let flags = scores.map { $0 >= r.threshold ? 1.0 : 0.0 }
        for i in 0..<rows where outs[0][i] != flags[i] { XCTAssertEqual(scores[i], r.threshold, accuracy: 1e-6, "row \(i)") }
        XCTAssertTrue(flags.contains(1) && flags.contains(0))
    }
}
