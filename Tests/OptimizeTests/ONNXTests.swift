import XCTest
import Foundation
import Graph
import Tensor
import Train
@testable import Optimize

/// Cross-check with the reference implementation: onnx.checker accepts the file and
/// onnxruntime's outputs match MLW's. Skipped when onnx/onnxruntime are missing (unless CI=true).
final class ONNXTests: XCTestCase {
    static let script = """
    import sys, json, numpy as np, onnx, onnxruntime as ort
    path, xin, shape = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    m = onnx.load(path); onnx.checker.check_model(m, full_check=True)
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.fromfile(xin, dtype=np.float32).reshape(shape)
    y = s.run(None, {s.get_inputs()[0].name: x})[0].astype(np.float32)
    y.tofile(xin + ".out")
    print(json.dumps(list(y.shape)))
    """

    func python() throws -> String? {
        let env = ProcessInfo.processInfo.environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let py = env["MLW_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        let ok = FileManager.default.isExecutableFile(atPath: py) && (try? shell(py, ["-c", "import onnx, onnxruntime, numpy"])) != nil
        if ok { return py }
        if env["CI"] == "true" { XCTFail("CI: onnx/onnxruntime missing for \(py)"); return nil }
        throw XCTSkip("onnx/onnxruntime not installed (python \(py))")
    }

    @discardableResult
    func shell(_ exe: String, _ args: [String]) throws -> String {
        let p = Process(); p.executableURL = URL(fileURLWithPath: exe); p.arguments = args
        let out = Pipe(), err = Pipe(); p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw GraphError("python failed: \(String(decoding: e, as: UTF8.self))") }
        return String(decoding: o, as: UTF8.self)
    }

    func crossCheck(_ m: Model, _ label: String, batch: Int = 3) throws {
        guard let py = try python() else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-onnx-\(getpid())-\(label)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = m.inputShape.map { $0.resolve(batch: batch) }
        let x = try Tensor.randn(shape, seed: 17)
        let want = try Executor(m.graph).run([m.inputName: x])[0]
        let path = dir.appendingPathComponent("m.onnx").path, xin = dir.appendingPathComponent("x.bin").path
        try exportONNX(m, path)
        try Data(rawBytes(x)).write(to: URL(fileURLWithPath: xin))
        let outShape = try shell(py, ["-c", Self.script, path, xin, "\(shape)"]).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(outShape, "\(want.shape)".replacingOccurrences(of: " ", with: " "), label)
        let got = try Data(contentsOf: URL(fileURLWithPath: xin + ".out")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let d = zip(got, want.toFloats()).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertEqual(got.count, want.count, label)
        XCTAssertLessThan(d, 1e-4, label)
    }

    func testMLP() throws {
        let m = try sequential([dense(64, 128), relu(), dense(128, 64), tanh(), dense(64, 10), softmax()], seed: 1)
        try crossCheck(m, "mlp")
        try crossCheck(try optimize(m).0, "mlp-opt")
    }

    func testCNN() throws {
        let m = try smallCNN()
        try crossCheck(m, "cnn")
        try crossCheck(try optimize(m).0, "cnn-opt")
    }

    func testResidual() throws {
        let m = try residualMLP()
        try crossCheck(m, "residual")
        try crossCheck(try optimize(m).0, "residual-opt")
    }

    func testEveryActivationAndShapeOp() throws {
        var b = ModelBuilder(seed: 4)
        var x = try b.input(shape: [12])
        x = try b.apply(dense(12, 12), x); x = try b.apply(leakyRelu(0.2), x); x = try b.apply(dropout(0.5), x)
        x = try b.apply(reshapeLayer([3, 4]), x)
        x = try b.graph.op(.transpose, [x], ["perm": .ints([0, 2, 1])])
        x = try b.graph.op(.concat, [x, x], ["axis": .int(1)])
        x = try b.apply(flatten(), x)
        let y = try b.apply(dense(24, 6), x)
        let z = try b.graph.op(.mul, [try b.apply(sigmoid(), y), try b.apply(gelu(), y)])
        x = try b.graph.op(.mean, [try b.graph.op(.sub, [z, try b.apply(tanh(), y)])], ["axes": .ints([1]), "keepdims": .bool(true)])
        let bn = try b.apply(batchNorm(6), y), out = try b.graph.op(.add, [x, bn])
        let m = try b.model(outputs: [out])
        try crossCheck(m, "ops")
        try crossCheck(try optimize(m).0, "ops-opt")
    }

    func testRandomGraphs() throws {
        for s in 0..<4 { try crossCheck(try optimize(try randomMLP(seed: UInt64(300 + s))).0, "rmlp\(s)") }
        for s in 0..<3 { try crossCheck(try optimize(try randomCNN(seed: UInt64(400 + s))).0, "rcnn\(s)") }
    }

    func testUnknownOpIsAnError() throws {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(3)])
        g.outputs = [try g.op(.logSoftmax, [try g.op(.sum, [x], ["axes": .ints([1]), "keepdims": .bool(true)])])]
        XCTAssertNoThrow(try onnxBytes(Model(graph: g)))
        XCTAssertThrowsError(try onnxBytes(Model(graph: g), opset: 13))
    }
}
