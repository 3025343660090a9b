import Foundation
import Serve
import Tensor
@testable import ServeModels
import Workbench
import XCTest

/// `mlw serve` loads dense MLPs stored as safetensors (what Scripts/bench/serve writes from
/// Python) as graph models, served through their compiled form like MLW model files.
final class DenseFileTests: XCTestCase {
    func testDenseSafetensorsServeAsAGraphModel() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-dense-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w0 = try Tensor.randn([6, 8], seed: 1, dtype: .float32), b0 = try Tensor.randn([8], seed: 2, dtype: .float32)
        let w1 = try Tensor.randn([8, 3], seed: 3, dtype: .float32), b1 = try Tensor.randn([3], seed: 4, dtype: .float32)
        try Safetensors.save(path, [("layer.0.weight", w0), ("layer.0.bias", b0), ("layer.1.weight", w1), ("layer.1.bias", b1)],
                             metadata: ["mlw.kind": "dense", "mlw.activations": "relu,softmax"])
        let served = try MLWModelLoader().load(artifactPath: path, name: "d", version: 2)
        XCTAssertEqual(served.inputs.map(\.name), ["input"])
        XCTAssertEqual(served.inputs[0].shape, [-1, 6])
        XCTAssertEqual(served.outputs[0].shape, [-1, 3])
        XCTAssertFalse(served.outputsAreLogits)
        let x = try Tensor.randn([5, 6], seed: 5, dtype: .float32)
        let want = try Tensor.linear(try Tensor.linear(x, weight: w0, bias: b0, activation: .relu), weight: w1, bias: b1).softmax(axis: -1)
        for (a, b) in zip(try served.predict(x).toFloats(), want.toFloats()) { XCTAssertEqual(a, b, accuracy: 1e-6) }

        try Safetensors.save(path, [("w", w0)], metadata: ["mlw.kind": "other"])
        XCTAssertThrowsError(try MLWModelLoader().load(artifactPath: path, name: "d", version: 3)) { e in
            XCTAssertTrue("\(e)".contains("is not a dense model file"), "\(e)")
        }
    }

    /// Registering checks the file: dense safetensors and MLW model files are models (and
    /// must load), anything else is a plain file artifact.
    func testIsModelRecognisesBothFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-ismodel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dense = dir.appendingPathComponent("d.safetensors").path
        let w = try Tensor.randn([4, 2], seed: 1, dtype: .float32), b = try Tensor.randn([2], seed: 2, dtype: .float32)
        try Safetensors.save(dense, [("layer.0.weight", w), ("layer.0.bias", b)],
                             metadata: ["mlw.kind": "dense", "mlw.activations": "none"])
        XCTAssertTrue(try MLWModelLoader.isModel(dense))
        let other = dir.appendingPathComponent("o.safetensors").path
        try Safetensors.save(other, [("w", w)])
        XCTAssertFalse(try MLWModelLoader.isModel(other))
        let text = dir.appendingPathComponent("notes.txt").path
        try Data("weights: 1,2,3\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertFalse(try MLWModelLoader.isModel(text))
        // Says it is dense but cannot be built: an error, not a silent file artifact.
        try Safetensors.save(dense, [("layer.0.weight", w)], metadata: ["mlw.kind": "dense", "mlw.activations": "relu"])
        XCTAssertThrowsError(try MLWModelLoader.isModel(dense))
    }
}
