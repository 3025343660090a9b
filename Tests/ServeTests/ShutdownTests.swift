import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Registry
import XCTest
@testable import Serve

/// `mlw serve` as a process: serves a registry alias; on SIGTERM readiness answers 503 while
/// requests are still served for --drain-seconds, in-flight requests finish, and it exits 0.
final class ShutdownTests: XCTestCase {
    func testSigtermDrainsAndExitsZero() async throws {
        // The test bundle sits beside the built products (Linux: the bundle URL is the bin folder).
        let b = Bundle(for: Self.self).bundleURL
        guard let bin = [b.appendingPathComponent("mlw"), b.deletingLastPathComponent().appendingPathComponent("mlw")]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { throw XCTSkip("mlw binary not built beside \(b.path)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-serve-sig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reg = try Registry.open(root: dir.appendingPathComponent("home"))
        let model = try Fixtures.digits()
        let file = dir.appendingPathComponent("d.safetensors")
        try DenseModel.save(model, to: file.path)
        _ = try reg.register(file: file, name: "digits", alias: "production")

        let p = Process()
        p.executableURL = bin
        p.arguments = ["serve", "digits@production", "--port", "0", "--max-delay-us", "2000000", "--drain-seconds", "0.5"]
        p.environment = ProcessInfo.processInfo.environment.merging(["MLW_HOME": dir.appendingPathComponent("home").path]) { $1 }
        let err = Pipe(); p.standardError = err
        try p.run()
        // The "listening" log line names the port.
        var port = 0
        var seen = ""
        let deadline = Date().addingTimeInterval(20)
        while port == 0, Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let r = seen.range(of: #"port=(\d+)"#, options: .regularExpression) {
                port = Int(seen[r].dropFirst(5)) ?? 0
            }
        }
        guard port > 0 else { p.terminate(); return XCTFail("server did not start: \(seen)") }
        let row = [Float](repeating: 0.5, count: 64)
        // Requests in flight (held by a 2 s batch delay, all connected well before the signal)
        // when SIGTERM arrives still get answers; only new connections are refused.
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            // Six: URLSession opens at most six connections per host; a seventh would only
            // connect after the signal, when the listener is already closed.
            for _ in 0..<6 {
                group.addTask {
                    do { return try await LiveTests.post(port, "/v2/models/digits/infer", Fixtures.v2Body([row])).0 }
                    catch { XCTFail("request failed: \(error)\nserver log: \(seen)"); return -1 }
                }
            }
            group.addTask { try await Task.sleep(for: .milliseconds(700)); kill(p.processIdentifier, SIGTERM); return 0 }
            var out: [Int] = []
            for try await s in group where s != 0 { out.append(s) }
            return out
        }
        XCTAssertEqual(statuses, [Int](repeating: 200, count: 6))
        let exited = try await Task.detached { p.waitUntilExit(); return p.terminationStatus }.value
        XCTAssertEqual(exited, 0, seen)
    }

    /// During the drain readiness is 503 and requests are still answered; a second SIGTERM
    /// ends a long drain at once.
    func testDrainServesWithReadiness503AndSecondSignalEndsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-serve-drain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reg = try Registry.open(root: dir.appendingPathComponent("home"))
        let file = dir.appendingPathComponent("d.safetensors")
        try DenseModel.save(try Fixtures.digits(), to: file.path)
        _ = try reg.register(file: file, name: "digits", alias: "production")
        let port = try Replicas.freePort()
        let p = try Replicas.serve("digits@production", port: port, extra: ["--drain-seconds", "600"],
                                   environment: ["MLW_HOME": dir.appendingPathComponent("home").path])
        let client = RawHTTP(port: port)
        let body = Fixtures.v2Body([[Float](repeating: 0.5, count: 64)])
        // Ready from the first answer: the port opens only once the model is loaded and warmed.
        let ready = try client.request("GET", "/v2/health/ready")
        XCTAssertEqual(ready.status, 200)
        XCTAssertTrue(ready.text.contains(#""state":"serving""#), ready.text)
        p.signal(SIGTERM)
        XCTAssertTrue(Child.wait(seconds: 5) { (try? client.request("GET", "/v2/health/ready"))?.status == 503 }, p.log.value)
        let draining = try client.request("GET", "/v2/health/ready")
        XCTAssertTrue(draining.text.contains(#""state":"draining""#), draining.text)
        XCTAssertEqual(try client.request("GET", "/v2/models/digits/ready").status, 503)
        // Still serving, on the open connection and on a new one.
        XCTAssertEqual(try client.request("POST", "/v2/models/digits/infer", body: body).status, 200)
        XCTAssertEqual(try RawHTTP(port: port).request("POST", "/v2/models/digits/infer", body: body).status, 200)
        XCTAssertTrue(p.process.isRunning, "exited before its 600 s drain: \(p.log.value)")
        p.signal(SIGTERM)
        XCTAssertEqual(p.waitExit(seconds: 20), 0, p.log.value)
        XCTAssertTrue(p.log.value.contains("second signal"), p.log.value)
    }
}
