import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import Serve

/// Every error answer: status and a message naming the field.
final class ErrorTests: XCTestCase {
    func check(_ c: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String?,
               _ status: Int, _ needle: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let (s, j, raw) = try await c.call(method, uri, body)
        XCTAssertEqual(s, status, "\(String(buffer: raw))", file: file, line: line)
        let msg = j["error"] as? String ?? ""
        XCTAssertTrue(msg.contains(needle), "'\(msg)' should mention '\(needle)'", file: file, line: line)
    }

    func testBadRequests() async throws {
        var config = ServeConfig(); config.maxBody = 4096
        let app = try Fixtures.server(config, models: [Fixtures.digits()]).application()
        let row = [Float](repeating: 0.5, count: 64)
        let u = "/v2/models/digits/infer"
        try await app.test(.router) { c in
            try await check(c, .post, u, "{not json", 400, "malformed JSON")
            try await check(c, .post, u, "[1,2]", 400, "JSON object")
            try await check(c, .post, u, #"{"id": 3, "inputs": []}"#, 400, "'id'")
            try await check(c, .post, u, #"{"id": "x"}"#, 400, "'inputs'")
            try await check(c, .post, u, #"{"inputs": 5}"#, 400, "'inputs' must be a list")
            try await check(c, .post, u, Fixtures.v2Body([row], name: "pixels"), 400, "inputs[0].name")
            try await check(c, .post, u, Fixtures.v2Body([row], datatype: "INT64"), 400, "inputs[0].datatype")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[1,63],"datatype":"FP32","data":[1]}]}"#, 400, "inputs[0].shape")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[2,64],"datatype":"FP32","data":[1,2]}]}"#, 400, "inputs[0].data")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":[NaN]}]}"#, 400, "inputs[0].data[0]")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":[1e300]}]}"#, 400, "FP32 range")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":["a"]}]}"#, 400, "inputs[0].data[0]")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[1,-64],"datatype":"FP32","data":[]}]}"#, 400, "inputs[0].shape")
            try await check(c, .post, u, #"{"inputs":[{"name":"input","shape":[99999999999,64],"datatype":"FP32","data":[]}]}"#, 400, "inputs[0].shape")
            let outs = Fixtures.v2Body([row]).dropLast() + #","outputs":[{"name":"logits"}]}"#
            try await check(c, .post, u, String(outs), 400, "outputs[0].name")
            try await check(c, .post, u, String(repeating: "[", count: 3000), 400, "nested deeper")
            try await check(c, .post, u, "{\"inputs\": \"" + String(repeating: "x", count: 5000) + "\"}", 413, "larger than 4096")
            try await check(c, .post, "/v2/models/digits/versions/x/infer", Fixtures.v2Body([row]), 400, "'version'")
            try await check(c, .post, "/predict", "3", 400, "record")
        }
    }

    func testNotFound() async throws {
        let app = try Fixtures.server(models: [Fixtures.digits()]).application()
        try await app.test(.router) { c in
            try await check(c, .get, "/v2/models/iris", nil, 404, "unknown model 'iris'")
            try await check(c, .get, "/v2/models/iris/ready", nil, 404, "unknown model")
            try await check(c, .post, "/v2/models/iris/infer", "{}", 404, "unknown model 'iris'")
            try await check(c, .get, "/v2/models/digits/versions/9", nil, 404, "no served version 9")
            try await check(c, .post, "/v2/models/digits/versions/9/infer", Fixtures.v2Body([[Float](repeating: 0, count: 64)]), 404, "version 9")
            try await check(c, .get, "/v3/nothing", nil, 404, "no route")
            try await check(c, .post, "/predict?model=iris", "{}", 404, "unknown model 'iris'")
        }
    }

    /// A model slower than the timeout: 503, and the server keeps answering.
    func testTimeout() async throws {
        final class Slow: ServableModel, @unchecked Sendable {
            let name = "slow", version = 1
            let inputs = [TensorSpec(name: "input", shape: [-1, 2])]
            let outputs = [TensorSpec(name: "output", shape: [-1, 1])]
            var calls = 0
            func predict(_ batch: Tensor) throws -> Tensor {
                calls += 1
                if calls > 1 { usleep(400_000) }   // the warm-up call is fast
                return try Tensor([Float](repeating: 1, count: batch.shape[0]), shape: [batch.shape[0], 1])
            }
        }
        var config = ServeConfig(); config.timeout = .milliseconds(100)
        let app = try Fixtures.server(config, models: [Slow()]).application()
        try await app.test(.router) { c in
            try await check(c, .post, "/v2/models/slow/infer", #"{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,2]}]}"#, 503, "timed out")
            let (s, _, _) = try await c.call(.get, "/v2/health/live")
            XCTAssertEqual(s, 200)
        }
    }
}
