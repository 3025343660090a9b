import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Serve

/// A real server on 127.0.0.1 (free port): concurrent clients, batching, hostile input.
final class LiveTests: XCTestCase {
    /// Starts `server` on a free port; returns the port and a task to cancel.
    static func start(_ server: InferenceServer) async throws -> (Int, Task<Void, Error>) {
        let port = PortBox()
        let app = server.application { ch in port.set(ch.localAddress?.port ?? 0) }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for _ in 0..<500 where port.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        return (port.value, task)
    }

    static func liveServer(models: [ServableModel], maxBatch: Int = 32, delay: Int = 2000) throws -> InferenceServer {
        var c = ServeConfig(); c.port = 0; c.maxBatch = maxBatch; c.maxDelayMicros = delay
        c.idleTimeout = .seconds(2)
        return try Fixtures.server(c, models: models)
    }

    static func post(_ port: Int, _ path: String, _ body: String) async throws -> (Int, [String: Any]) {
        var req = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        req.httpMethod = "POST"; req.httpBody = Data(body.utf8)
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, resp) = try await URLSession.shared.data(for: req)
        let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((resp as? HTTPURLResponse)?.statusCode ?? 0, obj)
    }

    func testConcurrentClientsAreBatched() async throws {
        let model = try Fixtures.digits()
        let server = try Self.liveServer(models: [model])
        let (port, task) = try await Self.start(server)
        defer { task.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    for i in 0..<10 {
                        let row: [Float] = (0..<64).map { Float(($0 + client * 3 + i) % 11) / 5 }
                        let (s, r) = try await Self.post(port, "/v2/models/digits/infer", Fixtures.v2Body([row], id: "\(client)-\(i)"))
                        XCTAssertEqual(s, 200)
                        XCTAssertEqual(r["id"] as? String, "\(client)-\(i)")
                        assertClose(floats((r["outputs"] as? [[String: Any]])?.first?["data"]), try Fixtures.predictDirect(model, [row]))
                    }
                }
            }
            try await group.waitForAll()
        }
        // Some forward pass saw more than one row: the "<= 1 row" bucket holds fewer than all batches.
        let text = String(decoding: server.metrics.text(), as: UTF8.self)
        let count = Self.metric(text, #"mlw_batch_size_count{model="digits",version="1"}"#)
        let ones = Self.metric(text, #"mlw_batch_size_bucket{model="digits",version="1",le="1.0"}"#)
        XCTAssertGreaterThan(count, 0, text)
        XCTAssertLessThan(ones, count, "no batch had more than one row:\n\(text)")
    }

    static func metric(_ text: String, _ prefix: String) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.split(separator: " ").last ?? "") ?? -1
        }
        return -1
    }

    /// Random bytes, huge numbers, deep nesting, wrong types, a client that stalls
    /// mid-body, non-HTTP bytes: each gets an answer (or a closed socket), service goes on.
    func testHostileInput() async throws {
        let server = try Self.liveServer(models: [Fixtures.digits()])
        let (port, task) = try await Self.start(server)
        defer { task.cancel() }
        var rng = SystemRandomNumberGenerator()
        var bodies: [String] = [
            String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 10_000),
            #"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":[1e99999]}]}"#,
            #"{"inputs":[{"name":"input","shape":[1e30,64],"datatype":"FP32","data":[]}]}"#,
            #"{"inputs":[{"name":{"x":1},"shape":"big","datatype":7,"data":null}]}"#,
            "{\"id\":\"\\ud800\",\"inputs\":[]}", "\u{0}\u{1}\u{2}", "",
        ]
        for _ in 0..<30 { bodies.append(String(decoding: (0..<Int.random(in: 1...300)).map { _ in UInt8.random(in: 0...255, using: &rng) }, as: UTF8.self)) }
        for b in bodies {
            let (s, r) = try await Self.post(port, "/v2/models/digits/infer", b)
            XCTAssertTrue([400, 413].contains(s), "status \(s) for \(b.prefix(40))")
            XCTAssertNotNil(r["error"] as? String)
        }
        let stalled = try RawSocket(port: port)
        try stalled.send("POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\":")
        let raw = try RawSocket(port: port)
        try raw.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(try raw.receive().hasPrefix("HTTP/1.1 200"))
        let junk = try RawSocket(port: port)
        try junk.send("\u{16}\u{3}\u{1}\r\n\r\n garbage \r\n\r\n")
        _ = try? junk.receive()
        let (s, _) = try await Self.post(port, "/v2/models/digits/infer", Fixtures.v2Body([[Float](repeating: 1, count: 64)]))
        XCTAssertEqual(s, 200)
        stalled.close(); raw.close(); junk.close()
    }
}

final class PortBox: @unchecked Sendable {
    private let lock = NSLock(); private var p = 0
    func set(_ v: Int) { lock.withLock { p = v } }
    var value: Int { lock.withLock { p } }
}

/// A blocking TCP socket for requests URLSession will not send (stalls, non-HTTP bytes).
final class RawSocket {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET); addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { throw ServeError(0, "connect failed") }
    }
    func send(_ s: String) throws { _ = s.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) } }
    func receive() throws -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buf, buf.count)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
    }
    func close() { Glibc.close(fd) }
}
