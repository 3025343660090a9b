import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import Serve

/// Every KServe V2 endpoint and `/predict`, in process (HummingbirdTesting's router client).
final class ProtocolTests: XCTestCase {
    func testHealthAndServerMetadata() async throws {
        let app = try Fixtures.server(models: [Fixtures.digits()]).application()
        try await app.test(.router) { c in
            let (s1, live, _) = try await c.call(.get, "/v2/health/live")
            XCTAssertEqual(s1, 200); XCTAssertEqual(live["live"] as? Bool, true)
            let (s2, ready, _) = try await c.call(.get, "/v2/health/ready")
            XCTAssertEqual(s2, 200); XCTAssertEqual(ready["ready"] as? Bool, true)
            let (s3, meta, _) = try await c.call(.get, "/v2")
            XCTAssertEqual(s3, 200); XCTAssertEqual(meta["name"] as? String, "mlw")
        }
    }

    func testModelMetadataAndReady() async throws {
        let app = try Fixtures.server(models: [Fixtures.digits(version: 3)]).application()
        try await app.test(.router) { c in
            for uri in ["/v2/models/digits", "/v2/models/digits/versions/3"] {
                let (s, m, _) = try await c.call(.get, uri)
                XCTAssertEqual(s, 200)
                XCTAssertEqual(m["name"] as? String, "digits")
                XCTAssertEqual(m["versions"] as? [String], ["3"])
                let input = (m["inputs"] as? [[String: Any]])?.first
                XCTAssertEqual(input?["name"] as? String, "input")
                XCTAssertEqual(input?["datatype"] as? String, "FP32")
                XCTAssertEqual(input?["shape"] as? [Int], [-1, 64])
                XCTAssertEqual(((m["outputs"] as? [[String: Any]])?.first?["shape"]) as? [Int], [-1, 10])
            }
            for uri in ["/v2/models/digits/ready", "/v2/models/digits/versions/3/ready"] {
                let (s, r, _) = try await c.call(.get, uri)
                XCTAssertEqual(s, 200); XCTAssertEqual(r["ready"] as? Bool, true)
            }
        }
    }

    func testInferFlatNestedAndVersioned() async throws {
        let model = try Fixtures.digits(version: 2)
        let app = try Fixtures.server(models: [model]).application()
        let rows: [[Float]] = (0..<3).map { r in (0..<64).map { Float(($0 * 7 + r * 13) % 17) / 4 } }
        let want = try Fixtures.predictDirect(model, rows)
        try await app.test(.router) { c in
            let (s, r, _) = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body(rows, id: "req-1"))
            XCTAssertEqual(s, 200)
            XCTAssertEqual(r["model_name"] as? String, "digits")
            XCTAssertEqual(r["model_version"] as? String, "2")
            XCTAssertEqual(r["id"] as? String, "req-1")
            let out = (r["outputs"] as? [[String: Any]])?.first
            XCTAssertEqual(out?["name"] as? String, "output")
            XCTAssertEqual(out?["datatype"] as? String, "FP32")
            XCTAssertEqual(out?["shape"] as? [Int], [3, 10])
            assertClose(floats(out?["data"]), want)
            // Nested data (as Triton accepts) and an explicit version.
            let nested = "[" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
            let body = #"{"inputs":[{"name":"input","shape":[3,64],"datatype":"FP32","data":\#(nested)}],"outputs":[{"name":"output"}]}"#
            let (s2, r2, _) = try await c.call(.post, "/v2/models/digits/versions/2/infer", body)
            XCTAssertEqual(s2, 200)
            assertClose(floats((r2["outputs"] as? [[String: Any]])?.first?["data"]), want)
        }
    }

    func testBinaryTensorExtension() async throws {
        let model = try Fixtures.digits()
        let app = try Fixtures.server(models: [model]).application()
        let row: [Float] = (0..<64).map { Float($0) / 64 }
        let header = #"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","parameters":{"binary_data_size":256}}],"outputs":[{"name":"output","parameters":{"binary_data":true}}]}"#
        var buffer = ByteBuffer(string: header)
        row.withUnsafeBytes { buffer.writeBytes($0) }
        let body = buffer
        try await app.test(.router) { c in
            try await c.execute(uri: "/v2/models/digits/infer", method: .post,
                                headers: [HTTPField.Name("Inference-Header-Content-Length")!: String(header.utf8.count)], body: body) { r in
                XCTAssertEqual(r.status, .ok, String(buffer: r.body))
                let h = Int(r.headers[HTTPField.Name("Inference-Header-Content-Length")!] ?? "") ?? -1
                let bytes = Array(r.body.readableBytesView)
                guard h >= 0, bytes.count - h == 40 else { return XCTFail("binary output of \(bytes.count - h) bytes") }
                let out: [Float] = bytes[h...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                assertClose(out, try Fixtures.predictDirect(model, [row]))
            }
        }
    }

    func testPredictRawRecords() async throws {
        let model = try Fixtures.iris()
        let app = try Fixtures.server(models: [model]).application()
        try await app.test(.router) { c in
            let rec = #"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#
            let (s, r, _) = try await c.call(.post, "/predict", rec)
            XCTAssertEqual(s, 200)
            let p = (r["predictions"] as? [[String: Any]])?.first
            let probs = floats(p?["probabilities"])
            XCTAssertEqual(probs.count, 3)
            let x = try model.transforms!.apply(toJSONRecord: Data(rec.utf8))
            assertClose(probs, try Fixtures.predictDirect(model, [x]))
            let best = probs.indices.max { probs[$0] < probs[$1] }!
            XCTAssertEqual(p?["label"] as? String, ["setosa", "versicolor", "virginica"][best])
            // A list of records; a missing field is named.
            let (s2, r2, _) = try await c.call(.post, "/predict?model=iris", "[\(rec), \(rec)]")
            XCTAssertEqual(s2, 200); XCTAssertEqual((r2["predictions"] as? [Any])?.count, 2)
            let (s3, e3, _) = try await c.call(.post, "/predict", #"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}"#)
            XCTAssertEqual(s3, 400); XCTAssertTrue((e3["error"] as? String ?? "").contains("petal_width"), "\(e3)")
            let (s4, e4, _) = try await c.call(.post, "/predict", #"{"sepal_length": "wide", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 1}"#)
            XCTAssertEqual(s4, 400); XCTAssertTrue((e4["error"] as? String ?? "").contains("sepal_length"), "\(e4)")
        }
    }

    func testMetricsEndpoint() async throws {
        let app = try Fixtures.server(models: [Fixtures.digits()]).application()
        try await app.test(.router) { c in
            _ = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body([[Float](repeating: 1, count: 64)]))
            _ = try await c.call(.post, "/v2/models/nope/infer", "{}")
            let (s, _, body) = try await c.call(.get, "/metrics")
            XCTAssertEqual(s, 200)
            let text = String(buffer: body)
            for needle in [#"mlw_requests_total{model="digits",version="1",endpoint="infer",status="200"} 1"#,
                           #"mlw_requests_total{model="unknown",version="",endpoint="infer",status="404"} 1"#,
                           "mlw_request_duration_seconds_bucket", "mlw_batch_size_bucket", "mlw_queue_depth",
                           #"mlw_model_version{model="digits",role="primary"} 1"#] {
                XCTAssertTrue(text.contains(needle), "missing \(needle) in\n\(text)")
            }
        }
    }
}
