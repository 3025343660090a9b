import Foundation
import Lang
import Optimize
import Registry
@testable import Serve
import ServeModels
import Tensor
import Train
import Workbench
import XCTest

/// Issue 15 on the model side of serving: a model's task (blob "task") decides what
/// `GraphServable` answers and how V2 names it; `register(..., allow_missing:, unseen:)`
/// stores the record policy (blob "serve") that `mlw serve` applies.
final class ServeTaskTests: XCTestCase {
    func model(_ layers: [Layer], task: ModelTask?) throws -> Train.Model {
        var m = try sequential(layers, seed: 3)
        if let task { try task.store(in: &m.blobs) }
        return m
    }

    func raw(_ m: Train.Model, _ x: [Float], rows: Int) throws -> [Float] {
        try CompiledModel.of(m).predict(try Tensor(x, shape: [rows, x.count / rows])).toFloats()
    }

    func testRegressionAnswersInTheLabelsUnits() throws {
        let m = try model([dense(3, 1)], task: ModelTask(kind: .regression, target: .standardize(mean: 150, std: 20)))
        let g = try GraphServable(m, name: "diabetes", version: 1)
        XCTAssertEqual(g.task, ServeTask(kind: "regression", stored: true))
        XCTAssertEqual(g.outputs, [TensorSpec(name: "predictions", shape: [-1, 1])])
        let x: [Float] = [0.1, -0.2, 0.3, 1, 2, 3]
        let y = try g.predict(try Tensor(x, shape: [2, 3])).toFloats()
        let r = try raw(m, x, rows: 2)
        for k in 0..<2 { XCTAssertEqual(y[k], r[k] * 20 + 150, accuracy: 1e-3) }
        XCTAssertEqual(g.answer(ArraySlice(y[0..<1])), .values([Double(y[0])]))
    }

    func testBinaryOneLogitAnswersProbabilitiesAndTheThresholdsClass() throws {
        let m = try model([dense(3, 1)], task: ModelTask(kind: .binary, classes: ["no", "yes"], threshold: 0.9))
        let g = try GraphServable(m, name: "churn", version: 1)
        XCTAssertEqual(g.outputs, [TensorSpec(name: "probabilities", shape: [-1, 2])])
        XCTAssertEqual(g.task.classes, ["no", "yes"])
        let x: [Float] = [0.1, -0.2, 0.3]
        let y = try g.predict(try Tensor(x, shape: [1, 3])).toFloats()
        let q = 1 / (1 + exp(-Double(try raw(m, x, rows: 1)[0])))
        XCTAssertEqual(Double(y[1]), q, accuracy: 1e-5)
        XCTAssertEqual(Double(y[0]), 1 - q, accuracy: 1e-5)
        guard case .probabilities(_, let choice) = g.answer(ArraySlice(y)) else { return XCTFail("not a classification answer") }
        XCTAssertEqual(choice, q >= 0.9 ? 1 : 0)
    }

    func testWithoutATaskRecordTheFallbackIsDocumented() throws {
        // One output: regression; one output after a sigmoid: binary; the raw `output` stays.
        let reg = try GraphServable(try model([dense(3, 1)], task: nil), name: "a", version: 1)
        XCTAssertEqual(reg.task, ServeTask(kind: "regression", stored: false))
        XCTAssertEqual(reg.outputs.map(\.name), ["output"])
        let bin = try GraphServable(try model([dense(3, 1), sigmoid()], task: nil), name: "b", version: 1)
        XCTAssertEqual(bin.task.kind, "binary")
        guard case .probabilities(let p, _) = bin.answer([0.8]) else { return XCTFail("not binary") }
        XCTAssertEqual(p[1], 0.8, accuracy: 1e-6)
        let multi = try GraphServable(try model([dense(3, 4)], task: nil), name: "c", version: 1)
        XCTAssertEqual(multi.task.kind, "multiclass")
        guard case .probabilities(let p4, let c) = multi.answer([0, 3, 1, 0]) else { return XCTFail("not multiclass") }
        XCTAssertEqual(c, 1); XCTAssertEqual(p4.reduce(0, +), 1, accuracy: 1e-9)
    }

    func testRegisterStoresTheServingPolicy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-policy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let interp = try Workbench.makeInterpreter()
        interp.useRegistry(root: dir.appendingPathComponent(".mlw"))
        interp.output = { _ in }
        _ = try interp.evalREPL(#"let m = sequential([dense(4, 3)])"#)
        _ = try interp.evalREPL(#"register(m, name: "strict")"#)
        _ = try interp.evalREPL(#"register(m, name: "lenient", allow_missing: true, unseen: "other")"#)
        let reg = try Registry.open(root: dir.appendingPathComponent(".mlw"))
        let strict = try MLWModelLoader().load(artifactPath: try XCTUnwrap(try reg.resolve("strict").artifactPath), name: "strict", version: 1)
        XCTAssertEqual(strict.policy, .strict)
        let lenient = try MLWModelLoader().load(artifactPath: try XCTUnwrap(try reg.resolve("lenient").artifactPath), name: "lenient", version: 1)
        XCTAssertEqual(lenient.policy, ServePolicy(allowMissing: true, unseen: "other"))
        do {
            _ = try interp.evalREPL(#"register(m, name: "bad", unseen: "zeros")"#)
            XCTFail("unseen: zeros was accepted")
        } catch let e as MLWError {
            XCTAssertTrue(e.message.contains(#"expected "error" or "other", got "zeros""#), e.message)
        }
    }
}
