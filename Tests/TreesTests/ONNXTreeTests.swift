import Foundation
import Optimize
import Tensor
import Train
import XCTest
@testable import Trees

/// ai.onnx.ml TreeEnsembleRegressor export: onnxruntime gives MLW's outputs within 1e-5.
final class ONNXTreeTests: XCTestCase {
    func check(_ m: Model, _ d: TreeData, _ label: String) throws {
        let py = try TreeFixtures.python("onnxruntime, numpy")
        let dir = try TreeFixtures.tempDir("onnx-\(label)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.onnx").path, xin = dir.appendingPathComponent("x.bin").path
        try exportONNX(m, path)
        let rows = Swift.min(d.rows, 300)
        let x = Array(d.x.prefix(rows * d.features))
        try x.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: xin)) }
        let want = try Optimize.predict(m, try Tensor(x, shape: [rows, d.features])).toFloats()
        _ = try TreeFixtures.shell(py, ["-c", """
            import sys, numpy as np, onnxruntime as ort
            s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, int(sys.argv[3]))
            s.run(None, {s.get_inputs()[0].name: x})[0].astype(np.float32).tofile(sys.argv[2] + ".out")
            """, path, xin, String(d.features)])
        let got = try Data(contentsOf: URL(fileURLWithPath: xin + ".out")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(got.count, want.count, label)
        for (a, b) in zip(got, want) { XCTAssertEqual(Double(a), Double(b), accuracy: 1e-5 * Swift.max(1, Double(Swift.abs(b))), label) }
    }

    func testBoostedAndForestModelsMatchOnnxruntime() throws {
        let c = TreeFixtures.classification(rows: 1000, missing: true)
        var o = BoostOptions(); o.trees = 20
        try check(try gradientBoosting(c, objective: .binary, classes: 2, options: o).ensemble.model(task: ModelTask(kind: .binary)), c, "binary")
        let mc = TreeFixtures.multiclass(rows: 600)
        try check(try gradientBoosting(mc, objective: .softmax, classes: 3, options: o).ensemble.model(task: ModelTask(kind: .multiclass)), mc, "multiclass")
        let r = TreeFixtures.regression(rows: 600)
        var fo = ForestOptions(); fo.trees = 10; fo.maxDepth = 6
        try check(try randomForest(r, classes: 0, options: fo).ensemble.model(task: ModelTask(kind: .regression)), r, "forest")
    }

    func testIsolationForestIsRefusedClearly() throws {
        let r = try isolationForest([1, 2, 3, 4], rows: 2, features: 2, options: IsolationOptions())
        XCTAssertThrowsError(try onnxBytes(try r.ensemble.model(task: nil))) { e in XCTAssertTrue("\(e)".contains("no ONNX mapping yet"), "\(e)") }
    }
}
