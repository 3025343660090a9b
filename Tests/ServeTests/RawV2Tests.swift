import Foundation
import Frames
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import Serve

/// Issue 15: V2 says in its metadata that `infer` takes tensors after the fitted transforms,
/// and takes raw columns too (one input per column, as Triton's ensemble preprocessors do),
/// in JSON and in the binary extension.
final class RawV2Tests: XCTestCase {
    func model() throws -> (DenseModel, FittedPipeline) {
        let p = try StrictPredictTests.pipeline()
        return (try StrictPredictTests.linear(transforms: p), p)
    }

    func expected(_ m: DenseModel, _ p: FittedPipeline, _ rows: [[String: DataValue]]) throws -> [Float] {
        try Fixtures.predictDirect(m, try rows.map { try p.apply(toRecord: $0) })
    }

    func testMetadataListsRawInputsAndSaysWhatTheTensorHolds() async throws {
        let (m, _) = try model()
        let app = try Fixtures.server(models: [m]).application()
        try await app.test(.router) { c in
            let (s, r, _) = try await c.call(.get, "/v2/models/houses")
            XCTAssertEqual(s, 200)
            let inputs = (r["inputs"] as? [[String: Any]]) ?? []
            XCTAssertEqual(inputs.map { $0["name"] as? String }, ["input", "size", "color", "age"])
            XCTAssertEqual(inputs.map { $0["datatype"] as? String }, ["FP32", "FP32", "BYTES", "FP32"])
            XCTAssertEqual(inputs[2]["shape"] as? [Int], [-1])
            let params = (r["parameters"] as? [String: String]) ?? [:]
            XCTAssertEqual(params["task"], "regression")
            XCTAssertEqual(params["task_source"], "inferred")
            XCTAssertTrue(params["inputs"]?.hasPrefix("'input' takes FP32 feature rows after the model's fitted transforms; or send the raw columns (size, color, age)") == true, "\(params)")
            XCTAssertEqual(params["missing_fields"], "error")
            XCTAssertEqual(params["unseen_categories"], "error")
        }
        // A model without transforms says so and lists only its tensor.
        let digits = try Fixtures.server(models: [try Fixtures.digits()]).application()
        try await digits.test(.router) { c in
            let (_, r, _) = try await c.call(.get, "/v2/models/digits")
            XCTAssertEqual(((r["inputs"] as? [[String: Any]]) ?? []).count, 1)
            let params = (r["parameters"] as? [String: String]) ?? [:]
            XCTAssertEqual(params["inputs"], "'input' takes FP32 feature rows (the model has no fitted transforms)")
            XCTAssertEqual(params["task"], "multiclass")
        }
    }

    func testRawColumnsInJSON() async throws {
        let (m, p) = try model()
        let app = try Fixtures.server(models: [m]).application()
        try await app.test(.router) { c in
            let body = #"{"inputs": [{"name": "size", "datatype": "FP64", "shape": [2], "data": [2.5, 1]}, "#
                + #"{"name": "color", "datatype": "BYTES", "shape": [2, 1], "data": [["green"], ["red"]]}, "#
                + #"{"name": "age", "datatype": "INT32", "shape": [2], "data": [35, 40]}]}"#
            let (s, r, _) = try await c.call(.post, "/v2/models/houses/infer", body)
            XCTAssertEqual(s, 200, "\(r)")
            let out = try XCTUnwrap((r["outputs"] as? [[String: Any]])?.first)
            XCTAssertEqual(out["shape"] as? [Int], [2, 1])
            assertClose(floats(out["data"]), try self.expected(m, p, [["size": .double(2.5), "color": .string("green"), "age": .double(35)],
                                                                       ["size": .double(1), "color": .string("red"), "age": .double(40)]]))
            // Every problem named, with the row; missing and unknown inputs too.
            let bad = #"{"inputs": [{"name": "size", "datatype": "FP32", "shape": [2], "data": [1, 2]}, "#
                + #"{"name": "colour", "datatype": "BYTES", "shape": [2], "data": ["red", "red"]}]}"#
            let (s2, r2, _) = try await c.call(.post, "/v2/models/houses/infer", bad)
            XCTAssertEqual(s2, 400)
            XCTAssertEqual(r2["error"] as? String, "row 0: unknown input 'colour' (did you mean 'color'?); missing input 'color'; missing input 'age'; "
                + "expected inputs: size, color, age (raw columns) or 'input' (features after the fitted transforms)")
            let (s3, r3, _) = try await c.call(.post, "/v2/models/houses/infer",
                #"{"inputs": [{"name": "size", "datatype": "FP32", "shape": [1], "data": [1]}, {"name": "color", "datatype": "FP32", "shape": [1], "data": [3]}, {"name": "age", "datatype": "BYTES", "shape": [1], "data": ["old"]}]}"#)
            XCTAssertEqual(s3, 400)
            XCTAssertEqual(r3["error"] as? String, "input 'color' has the unseen category '3' (known: blue, green, red); input 'age' must be a number, got the string 'old'; "
                + "expected inputs: size, color, age (raw columns) or 'input' (features after the fitted transforms)")
            let (s4, r4, _) = try await c.call(.post, "/v2/models/houses/infer",
                #"{"inputs": [{"name": "size", "datatype": "FP32", "shape": [2], "data": [1, 2]}, {"name": "color", "datatype": "BYTES", "shape": [1], "data": ["red"]}]}"#)
            XCTAssertEqual(s4, 400)
            XCTAssertEqual(r4["error"] as? String, "'inputs[1].shape' has 1 rows, 'inputs[0]' has 2")
            // The feature tensor still works.
            let (s5, _, _) = try await c.call(.post, "/v2/models/houses/infer", Fixtures.v2Body([[0, 0, 1, 0, 0]]))
            XCTAssertEqual(s5, 200)
            // A tensor under another name is read as a tensor, and the error offers both.
            let (s6, r6, _) = try await c.call(.post, "/v2/models/houses/infer", Fixtures.v2Body([[0, 0, 1, 0, 0]], name: "x"))
            XCTAssertEqual(s6, 400)
            XCTAssertEqual(r6["error"] as? String, "'inputs[0].name': unknown input 'x' (the model's input is 'input' (features after the fitted transforms), "
                + "or one input per raw column: size, color, age)")
        }
    }

    func testRawColumnsInBinary() async throws {
        let (m, p) = try model()
        let app = try Fixtures.server(models: [m]).application()
        try await app.test(.router) { c in
            var bin: [UInt8] = []
            for s in ["blue", "red"] { bin += withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8) }
            let colorSize = bin.count
            for v: Float in [3, 4] { bin += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
            let header = #"{"inputs": [{"name": "color", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": \#(colorSize)}}, "#
                + #"{"name": "size", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}, "#
                + #"{"name": "age", "datatype": "INT64", "shape": [2], "data": [30, 50]}]}"#
            let body = Array(header.utf8) + bin
            let r = try await c.execute(uri: "/v2/models/houses/infer", method: .post,
                                        headers: [HTTPField.Name("Inference-Header-Content-Length")!: String(header.utf8.count)],
                                        body: ByteBuffer(bytes: body)) { ($0.status.code, Fixtures.json($0.body)) }
            XCTAssertEqual(r.0, 200, "\(r.1)")
            let out = try XCTUnwrap((r.1["outputs"] as? [[String: Any]])?.first)
            assertClose(floats(out["data"]), try self.expected(m, p, [["size": .double(3), "color": .string("blue"), "age": .double(30)],
                                                                       ["size": .double(4), "color": .string("red"), "age": .double(50)]]))
            // A length prefix that overruns its input is a 400.
            let lying = #"{"inputs": [{"name": "color", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}"#
            let r2 = try await c.execute(uri: "/v2/models/houses/infer", method: .post,
                                         headers: [HTTPField.Name("Inference-Header-Content-Length")!: String(lying.utf8.count)],
                                         body: ByteBuffer(bytes: Array(lying.utf8) + [200, 0, 0, 0, 65, 66])) { ($0.status.code, Fixtures.json($0.body)) }
            XCTAssertEqual(r2.0, 400)
            XCTAssertEqual(r2.1["error"] as? String, "'inputs[0]' binary element 0 claims 200 bytes, 2 are left")
        }
    }

    func testTritonClientSendsRawColumns() async throws {
        guard let python = TritonClientTests.python() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { return XCTFail("tritonclient[http] is not installed") }
            throw XCTSkip("tritonclient[http] not installed")
        }
        let (m, p) = try model()
        let (port, task) = try await LiveTests.start(try LiveTests.liveServer(models: [m]))
        defer { task.cancel() }
        let out = try await Task.detached { () -> (Int32, Data) in
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: python)
            proc.arguments = [Fixtures.root.appendingPathComponent("Tests/ServeTests/Python/triton_raw.py").path, String(port), "houses"]
            let pipe = Pipe(); proc.standardOutput = pipe
            try proc.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            proc.waitUntilExit()
            return (proc.terminationStatus, data)
        }.value
        XCTAssertEqual(out.0, 0, String(decoding: out.1, as: UTF8.self))
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: out.1) as? [String: Any])
        let y = (obj["y"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.floatValue) }
        assertClose(y, try expected(m, p, [["size": .double(2.5), "color": .string("green"), "age": .double(35)],
                                           ["size": .double(1), "color": .string("red"), "age": .double(40)]]))
        XCTAssertEqual(obj["error"] as? String, "input 'color' has the unseen category 'purple' (known: blue, green, red); "
            + "expected inputs: size, color, age (raw columns) or 'input' (features after the fitted transforms)")
    }
}
