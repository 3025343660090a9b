import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import Serve

/// A model for these tests that needs no model format: 4 features in, 2 out (sum and
/// first feature), so answers are easy to check.
final class SumModel: ServableModel, @unchecked Sendable {
    let name: String
    let version: Int
    let inputs = [TensorSpec(name: "input", shape: [-1, 4])]
    let outputs = [TensorSpec(name: "output", shape: [-1, 2])]
    init(name: String = "sum", version: Int = 1) { self.name = name; self.version = version }
    func predict(_ batch: Tensor) throws -> Tensor {
        let x = batch.toFloats(), n = batch.shape[0]
        var y: [Float] = []
        for r in 0..<n { y += [x[(r * 4)..<(r * 4 + 4)].reduce(0, +), x[r * 4]] }
        return try Tensor(y, shape: [n, 2])
    }
}

/// Issue 23: hostile HTTP from clients (chunk sizes, unknown model names, huge bodies,
/// undeclared methods) against a live server on 127.0.0.1.
final class HardeningTests: XCTestCase {
    func live(maxBody: Int = 1 << 20) async throws -> (InferenceServer, Int, Task<Void, Error>) {
        var c = ServeConfig(); c.port = 0; c.maxBody = maxBody; c.idleTimeout = .seconds(5)
        let server = InferenceServer(config: c)
        try server.add(SumModel())
        let (port, task) = try await LiveTests.start(server)
        addTeardownBlock { task.cancel() }
        return (server, port, task)
    }

    /// Sends raw bytes, reads until the server closes or 5 s pass; returns what came back.
    func exchange(_ port: Int, _ request: String) throws -> String {
        let s = try RawSocket(port: port)
        defer { s.close() }
        try s.send(request)
        var all = ""
        while true {
            let chunk = try s.receive()
            if chunk.isEmpty { break }
            all += chunk
            if all.contains("\r\n\r\n"), let r = all.range(of: "\r\n\r\n"), all[r.upperBound...].contains("}") { break }
        }
        return all
    }

    static var python: String? {
        let env = ProcessInfo.processInfo.environment["MLW_PYTHON"]
        let local = Fixtures.root.appendingPathComponent(".venv/bin/python").path
        for p in [env, local, "/usr/bin/python3"].compactMap({ $0 }) where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    /// Runs a Python program (with `PORT` set); returns its standard output.
    func runPython(_ program: String, port: Int) async throws -> String {
        guard let python = Self.python else { throw XCTSkip("no Python (set MLW_PYTHON)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", program]
        p.environment = ProcessInfo.processInfo.environment.merging(["PORT": String(port)]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        // Read on another thread: the pipe may fill before the process ends.
        let data = try await Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A chunk size that overflows (`ffffffffffffffffffff`) is a malformed request: 400.
    func testOverflowingChunkSizeIs400() async throws {
        let (_, port, _) = try await live()
        for size in ["ffffffffffffffffffff", "zz", "-1"] {
            let answer = try exchange(port, "POST /v2/models/sum/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nabc\r\n0\r\n\r\n")
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 "), "\(size): \(answer)")
        }
        XCTAssertEqual(try exchange(port, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 200"), true)
    }

    /// RFC 9110: a method a known path does not take is 405 with `Allow`; an unknown path 404.
    func testUndeclaredMethodsAre405WithAllow() async throws {
        let server = InferenceServer(config: ServeConfig())
        try server.add(SumModel())
        let gets = ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/sum", "/v2/models/sum/versions/1",
                    "/v2/models/sum/ready", "/v2/models/sum/versions/1/ready", "/metrics", "/v2/models/nope/versions/x/ready"]
        let posts = ["/v2/models/sum/infer", "/v2/models/sum/versions/1/infer", "/predict", "/v2/models/other/infer"]
        try await server.application().test(.router) { client in
            for (paths, allowed) in [(gets, "GET"), (posts, "POST")] {
                for path in paths {
                    for method in [HTTPRequest.Method("TRACE")!, .delete, .put, .patch, allowed == "POST" ? .get : .post, .head] {
                        try await client.execute(uri: path, method: method) { r in
                            XCTAssertEqual(r.status.code, 405, "\(method) \(path)")
                            XCTAssertEqual(r.headers[.allow], allowed, "\(method) \(path)")
                            XCTAssertTrue(String(buffer: r.body).contains("is not allowed on \(path) (allowed: \(allowed))"), String(buffer: r.body))
                        }
                    }
                }
            }
            try await client.execute(uri: "/v2/nothing/here", method: HTTPRequest.Method("TRACE")!) { r in
                XCTAssertEqual(r.status.code, 404)
                XCTAssertNil(r.headers[.allow])
            }
        }
        // And over a real socket, as the issue's reproducer sent it.
        let (_, port, _) = try await live()
        let answer = try exchange(port, "TRACE /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 405 "), answer)
        XCTAssertTrue(answer.lowercased().contains("\r\nallow: get\r\n"), answer)
    }

    /// Made-up model names all count under `model="unknown"`: /metrics does not grow with them.
    func testUnknownModelNamesShareOneMetricSeries() async throws {
        let server = InferenceServer(config: ServeConfig())
        try server.add(SumModel())
        try await server.application().test(.router) { client in
            for i in 0..<100 {
                let (a, _, _) = try await client.call(.post, "/v2/models/made-up-\(i)/infer", "{}")
                let (b, _, _) = try await client.call(.post, "/predict?model=made-up-\(i)", "[1, 2, 3, 4]")
                let (c, _, _) = try await client.call(.post, "/v2/models/made-up-\(i)/versions/3/infer", "{}")
                XCTAssertEqual([a, b, c], [404, 404, 404])
            }
            let (ok, _, _) = try await client.call(.post, "/v2/models/sum/infer", Fixtures.v2Body([[1, 2, 3, 4]]))
            XCTAssertEqual(ok, 200)
        }
        let text = String(decoding: server.metrics.text(), as: UTF8.self)
        XCTAssertFalse(text.contains("made-up"), "a client-chosen name became a label")
        XCTAssertTrue(text.contains(#"mlw_requests_total{model="unknown",version="",endpoint="infer",status="404"} 200"#), text)
        XCTAssertTrue(text.contains(#"mlw_requests_total{model="unknown",version="",endpoint="predict",status="404"} 100"#), text)
        XCTAssertTrue(text.contains(#"mlw_requests_total{model="sum",version="1",endpoint="infer",status="200"} 1"#), text)
        let models = Set(text.split(separator: "\n").compactMap { line -> Substring? in
            guard let r = line.range(of: "model=\"") else { return nil }
            return line[r.upperBound...].prefix { $0 != "\"" }
        })
        XCTAssertEqual(models, ["sum", "unknown"])
    }

    /// Python clients send the whole body before reading: a 64 MB body must still get its
    /// 413 (the server reads and drops the rest), with urllib and requests, chunked or not.
    func testOversizedBodyGets413ForClientsThatSendItAll() async throws {
        let (_, port, _) = try await live()
        let out = try await runPython("""
            import os, urllib.request, urllib.error
            url = f"http://127.0.0.1:{os.environ['PORT']}/v2/models/sum/infer"
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=b"x" * (64 << 20), method="POST"), timeout=60)
                print("urllib: no error")
            except urllib.error.HTTPError as e:
                print("urllib:", e.code, e.read().decode())
            except Exception as e:
                print("urllib failed:", type(e).__name__, e)
            try:
                import requests
            except ImportError:
                requests = None
            if requests:
                r = requests.post(url, data=b"x" * (64 << 20), timeout=60)
                print("requests:", r.status_code, r.text)
                r = requests.post(url, data=(b"x" * (1 << 20) for _ in range(8)), timeout=60)   # chunked
                print("chunked:", r.status_code, r.text)
            else:
                print("requests: 413 (not installed)")
                print("chunked: 413 (not installed)")
            """, port: port)
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains(#"urllib: 413 {"error":"request body is larger than 1048576 bytes"}"#), out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("requests: 413") }, out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("chunked: 413") }, out)
        let (s, _) = try await LiveTests.post(port, "/v2/models/sum/infer", Fixtures.v2Body([[1, 2, 3, 4]]))
        XCTAssertEqual(s, 200, "the server goes on serving")
    }
}
