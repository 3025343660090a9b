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

    func testTwoLogitBinaryAndMulticlassAnswerSoftmaxProbabilities() throws {
        let two = try model([dense(3, 2)], task: ModelTask(kind: .binary, classes: ["a", "b"], threshold: 0.7))
        let g2 = try GraphServable(two, name: "two", version: 1)
        XCTAssertEqual(g2.outputs, [TensorSpec(name: "probabilities", shape: [-1, 2])])
        let x: [Float] = [0.5, -1, 2]
        let y2 = try g2.predict(try Tensor(x, shape: [1, 3])).toFloats()
        let r2 = try raw(two, x, rows: 1).map(Double.init)
        let q = 1 / (1 + exp(r2[0] - r2[1]))
        XCTAssertEqual(Double(y2[1]), q, accuracy: 1e-5)
        guard case .probabilities(_, let c2) = g2.answer(ArraySlice(y2)) else { return XCTFail("not binary") }
        XCTAssertEqual(c2, q >= 0.7 ? 1 : 0)

        let four = try model([dense(3, 4)], task: ModelTask(kind: .multiclass, classes: ["w", "x", "y", "z"]))
        let g4 = try GraphServable(four, name: "four", version: 1)
        XCTAssertEqual(g4.outputs, [TensorSpec(name: "probabilities", shape: [-1, 4])])
        XCTAssertEqual(g4.task.classes, ["w", "x", "y", "z"])
        let y4 = try g4.predict(try Tensor(x, shape: [1, 3])).toFloats()
        XCTAssertEqual(Double(y4.reduce(0, +)), 1, accuracy: 1e-5)
        let r4 = try raw(four, x, rows: 1)
        guard case .probabilities(_, let c4) = g4.answer(ArraySlice(y4)) else { return XCTFail("not multiclass") }
        XCTAssertEqual(c4, r4.indices.max { r4[$0] < r4[$1] })
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

    /// A scratch project holding `files`; `mlw run script.mlw` in it, then `mlw serve
    /// NAME@staging` on a free port. Returns the run's stdout and a curl for the server
    /// (`PORT` in its arguments is replaced); the server stops when `stop` is called.
    func scriptServed(_ files: [String: String], model: String) throws -> (stdout: String, curl: (String...) throws -> [String: Any], stop: () -> Void) {
        let dir = NSTemporaryDirectory() + "mlw-e2e-\(model)-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        let env = ["MLW_HOME": dir + "/home"]
        let run = try ReplTests.mlw(["run", "script.mlw"], env: env, in: dir)
        XCTAssertEqual(run.2, 0, run.1)
        let server = try ServedMLW.start("\(model)@staging", in: dir, env: env)
        let stop = server.stop
        let port = server.port
        guard port > 0 else { stop(); throw XCTSkip("server did not start: \(server.log)") }
        let curl = { (args: String...) throws -> [String: Any] in
            let c = Process()
            c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            c.arguments = ["-s"] + args.map { $0.replacingOccurrences(of: "PORT", with: String(port)) }
            let out = Pipe()
            c.standardOutput = out
            try c.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            c.waitUntilExit()
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        }
        return (run.0, curl, stop)
    }

    /// Train a regression model on standardized targets in a script, register it with
    /// `allow_missing: true`, serve it with `mlw serve`: `/predict` answers the value in the
    /// label's units (the script's own `predict` of the same row), imputes the missing age
    /// and still names unknown and mistyped fields; V2 names the output `predictions`.
    func testScriptTrainedRegressionServedEndToEnd() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        var csv = "size,color,age,price\n"
        let colors = ["red", "green", "blue"], bonus = [30.0, 0, -20]
        for i in 0..<30 {
            let size = 1 + Double(i % 7) * 0.6, c = i % 3, age = 5 + (i * 7) % 50
            csv += "\(size),\(colors[c]),\(i % 10 == 0 ? "" : String(age)),\(100 + 50 * size + bonus[c] - 0.5 * Double(age))\n"
        }
        let script = """
        let ds = read_csv("houses.csv", label: "price")
        let prep = fit_transforms(ds, [impute("mean"), standardize(), one_hot_encode(), standardize_target()])
        let run = sequential([dense(5, 1)], seed: 1) |> train(prep(ds), loss: "mse", optimizer: adam(lr: 0.05), epochs: 60, batch: 8, seed: 1, log_every: 0)
        register(run.model, name: "houses", transforms: prep, alias: "staging", allow_missing: true)
        print(predict(run.model, prep(ds))[0][0])
        """
        let s = try scriptServed(["houses.csv": csv, "script.mlw": script], model: "houses")
        defer { s.stop() }
        let expected = try XCTUnwrap(Double(s.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), s.stdout)
        XCTAssertGreaterThan(expected, 50, "the script's prediction is in the label's units")
        // The first CSV row has no age: imputed by the fitted mean, as in the script.
        let first = csv.split(separator: "\n")[1].split(separator: ",", omittingEmptySubsequences: false)
        let r = try s.curl("-X", "POST", "http://127.0.0.1:PORT/predict", "-d", #"{"size": \#(first[0]), "color": "\#(first[1])"}"#)
        XCTAssertEqual(r["task"] as? String, "regression", "\(r)")
        let answer = try XCTUnwrap((r["predictions"] as? [[String: Any]])?.first, "\(r)")
        XCTAssertEqual(Array(answer.keys), ["prediction"])
        XCTAssertEqual(try XCTUnwrap((answer["prediction"] as? NSNumber)?.doubleValue), expected, accuracy: 1e-3 * abs(expected))
        let bad = try s.curl("-X", "POST", "http://127.0.0.1:PORT/predict", "-d", #"{"size": 2, "colour": "red", "age": "old"}"#)
        XCTAssertEqual(bad["error"] as? String, "unknown field 'colour' (did you mean 'color'?); field 'age' must be a number, got the string 'old'; expected fields: size, color, age")
        let meta = try s.curl("http://127.0.0.1:PORT/v2/models/houses")
        XCTAssertEqual((meta["outputs"] as? [[String: Any]])?.first?["name"] as? String, "predictions")
        XCTAssertEqual((meta["parameters"] as? [String: String])?["task_source"], "stored")
        XCTAssertEqual((meta["parameters"] as? [String: String])?["missing_fields"], "imputed")
    }

    /// A one-logit binary model (binary_cross_entropy, text labels) with a stored threshold:
    /// `/predict` answers the positive class's probability and the class by that threshold
    /// with its name; V2 answers `probabilities` [N, 2] from raw columns.
    func testScriptTrainedBinaryServedEndToEnd() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        var csv = "size,color,label\n"
        let colors = ["red", "green", "blue"]
        for i in 0..<40 {
            let size = 1 + Double(i % 9) * 0.5, c = i % 3
            csv += "\(size),\(colors[c]),\(size + (c == 0 ? 1 : 0) > 3.5 ? "yes" : "no")\n"
        }
        let script = """
        let ds = read_csv("churn.csv", label: "label")
        let prep = fit_transforms(ds, [standardize(), one_hot_encode(), label_encode()])
        let run = sequential([dense(4, 1)], seed: 1) |> train(prep(ds), loss: "binary_cross_entropy", optimizer: adam(lr: 0.05), epochs: 60, batch: 8, seed: 1, log_every: 0)
        register(with_threshold(run.model, 0.999), name: "churn", transforms: prep, alias: "staging")
        """
        let s = try scriptServed(["churn.csv": csv, "script.mlw": script], model: "churn")
        defer { s.stop() }
        let r = try s.curl("-X", "POST", "http://127.0.0.1:PORT/predict", "-d", #"[{"size": 5, "color": "red"}, {"size": 1, "color": "blue"}]"#)
        XCTAssertEqual(r["task"] as? String, "binary", "\(r)")
        let answers = try XCTUnwrap(r["predictions"] as? [[String: Any]], "\(r)")
        XCTAssertEqual(answers.count, 2)
        for a in answers {
            XCTAssertEqual(Set(a.keys), ["probability", "class", "label"])
            let p = try XCTUnwrap((a["probability"] as? NSNumber)?.doubleValue)
            let c = p >= 0.999 ? 1 : 0
            XCTAssertEqual(a["class"] as? Int, c)
            XCTAssertEqual(a["label"] as? String, ["no", "yes"][c])
        }
        let big = try XCTUnwrap((answers[0]["probability"] as? NSNumber)?.doubleValue)
        let small = try XCTUnwrap((answers[1]["probability"] as? NSNumber)?.doubleValue)
        XCTAssertGreaterThan(big, small)
        let v2 = try s.curl("-X", "POST", "http://127.0.0.1:PORT/v2/models/churn/infer", "-d",
                            #"{"inputs": [{"name": "size", "shape": [1], "datatype": "FP32", "data": [5]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["red"]}]}"#)
        let out = try XCTUnwrap((v2["outputs"] as? [[String: Any]])?.first, "\(v2)")
        XCTAssertEqual(out["name"] as? String, "probabilities")
        XCTAssertEqual(out["shape"] as? [Int], [1, 2])
        let data = (out["data"] as? [NSNumber] ?? []).map(\.doubleValue)
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data[1], big, accuracy: 1e-6)
        let meta = try s.curl("http://127.0.0.1:PORT/v2/models/churn")
        XCTAssertEqual((meta["parameters"] as? [String: String])?["threshold"], "0.999")
        XCTAssertEqual((meta["parameters"] as? [String: String])?["classes"], "no,yes")
    }
}
