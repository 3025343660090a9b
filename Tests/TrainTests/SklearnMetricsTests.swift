import Foundation
import XCTest
import Tensor
@testable import Train

/// `evaluate`'s metrics against scikit-learn's on the same outputs: binary one logit,
/// binary two logits, multiclass (with a class never predicted) and regression. Runs
/// when MLW_PYTHON (or .venv/bin/python) has scikit-learn; Scripts/test installs it.
final class SklearnMetricsTests: XCTestCase {
    static let script = """
    import json, sys
    import numpy as np
    from sklearn import metrics as M
    d = json.load(open(sys.argv[1]))
    out = {}
    if d["kind"] == "regression":
        y, p = np.array(d["y"]), np.array(d["p"])
        out = {"mae": M.mean_absolute_error(y, p), "rmse": M.root_mean_squared_error(y, p), "r2": M.r2_score(y, p),
               "mape": M.mean_absolute_percentage_error(y, p)}
    else:
        y, probs, pred = np.array(d["y"]), np.array(d["probs"]), np.array(d["pred"])
        c = probs.shape[1]
        out = {"accuracy": M.accuracy_score(y, pred), "balanced_accuracy": M.balanced_accuracy_score(y, pred),
               "precision": M.precision_score(y, pred, average="macro", zero_division=0),
               "recall": M.recall_score(y, pred, average="macro", zero_division=0),
               "f1": M.f1_score(y, pred, average="macro", zero_division=0),
               "f1_micro": M.f1_score(y, pred, average="micro", zero_division=0),
               "f1_weighted": M.f1_score(y, pred, average="weighted", zero_division=0),
               "log_loss": M.log_loss(y, probs, labels=list(range(c))),
               "confusion": M.confusion_matrix(y, pred, labels=list(range(c))).tolist()}
        if c == 2:
            out["roc_auc"] = M.roc_auc_score(y, probs[:, 1])
            out["pr_auc"] = M.average_precision_score(y, probs[:, 1])
        else:
            out["roc_auc"] = M.roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=list(range(c)))
            onehot = np.eye(c)[y]
            out["pr_auc"] = M.average_precision_score(onehot, probs, average="macro")
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

    /// scikit-learn's figures for the JSON `input`.
    func sklearn(_ input: [String: Any]) throws -> [String: Any] {
        let py = try python()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-sklearn-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("in.json"), code = dir.appendingPathComponent("check.py")
        try JSONSerialization.data(withJSONObject: input).write(to: data)
        try Self.script.write(to: code, atomically: true, encoding: .utf8)
        let text = try run(py, [code.path, data.path])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func checkClassification(outputs: Tensor, labels: [Int], task: ModelTask, file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try metrics(outputs: outputs, labels: try Tensor(labels.map(Float.init), shape: [labels.count]), task: task)
        // The probabilities and predictions evaluate used, handed to scikit-learn as they are.
        let raw = try outputs.astype(.float64).toDoubles(), w = outputs.shape[1]
        var probs: [[Double]] = [], pred: [Int] = []
        for i in 0..<labels.count {
            guard case .probabilities(let p, let c) = task.answer(Array(raw[(i * w)..<((i + 1) * w)])) else { return XCTFail("not a classifier") }
            probs.append(p); pred.append(c)
        }
        let s = try sklearn(["kind": "classification", "y": labels, "probs": probs, "pred": pred])
        let mine: [String: Double?] = ["accuracy": e.accuracy, "balanced_accuracy": e.balancedAccuracy, "precision": e.precision,
                                       "recall": e.recall, "f1": e.f1, "f1_micro": e.f1Micro, "f1_weighted": e.f1Weighted,
                                       "log_loss": e.logLoss, "roc_auc": e.rocAUC, "pr_auc": e.prAUC]
        for (k, v) in mine {
            let want = (s[k] as? NSNumber)?.doubleValue
            XCTAssertNotNil(v, k, file: file, line: line)
            XCTAssertEqual(v ?? .nan, want ?? .nan, accuracy: 1e-9, "\(task.kind) \(k)", file: file, line: line)
        }
        XCTAssertEqual(e.confusion, s["confusion"] as? [[Int]], file: file, line: line)
    }

    func testBinaryOneLogit() throws {
        let z = try Tensor.randn([200, 1], seed: 3) * 2
        let labels = z.toDoubles().enumerated().map { i, v in (v + Double(i % 7) * 0.4 - 1.2) > 0 ? 1 : 0 }
        try checkClassification(outputs: z, labels: labels, task: ModelTask(kind: .binary))
        try checkClassification(outputs: z, labels: labels, task: ModelTask(kind: .binary, threshold: 0.8))
    }

    func testBinaryTwoLogits() throws {
        let z = try Tensor.randn([150, 2], seed: 4) * 1.5
        let labels = (0..<150).map { ($0 * 37) % 5 < 2 ? 1 : 0 }
        try checkClassification(outputs: z, labels: labels, task: ModelTask(kind: .binary))
    }

    func testMulticlassWithAnUnpredictedClass() throws {
        // Four classes; class 3's logit is always far below, so it is never predicted.
        var z = try Tensor.randn([180, 4], seed: 5).toDoubles()
        for i in 0..<180 { z[i * 4 + 3] -= 8 }
        let labels = (0..<180).map { i in i % 9 == 0 ? 3 : (i * 7) % 3 }
        try checkClassification(outputs: try Tensor(z.map(Float.init), shape: [180, 4]), labels: labels, task: ModelTask(kind: .multiclass))
    }

    func testRegression() throws {
        let y = try Tensor.randn([120, 1], seed: 6) * 10 + 50
        let p = try y + Tensor.randn([120, 1], seed: 7) * 4
        let e = try metrics(outputs: p, labels: y.reshape([120]), task: ModelTask(kind: .regression))
        let s = try sklearn(["kind": "regression", "y": y.toDoubles(), "p": p.toDoubles()])
        for (k, v) in [("mae", e.mae), ("rmse", e.rmse), ("r2", e.r2), ("mape", e.mape)] {
            XCTAssertEqual(v!, (s[k] as! NSNumber).doubleValue, accuracy: 1e-9, k)
        }
    }
}
