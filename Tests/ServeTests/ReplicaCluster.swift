import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import Serve

/// Text appended from another thread (a child's stderr).
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    var value: String { lock.withLock { text } }
    func append(_ s: String) { lock.withLock { text += s } }
}

/// A child process whose stderr (and stdout) is collected as it arrives.
final class Child {
    let process = Process()
    let log = LockedText()

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [log] h in
            let d = h.availableData
            if d.isEmpty { h.readabilityHandler = nil } else { log.append(String(decoding: d, as: UTF8.self)) }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    func signal(_ s: Int32) { if process.isRunning { kill(pid, s) } }

    /// The exit status once it has exited within `seconds`, else nil.
    func waitExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Polls `condition` every 20 ms for at most `seconds`.
    static func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    deinit { if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() } }
}

enum Replicas {
    /// The built `mlw` beside the test bundle (Linux: the bundle URL is the bin folder).
    static func mlwBinary() throws -> URL {
        let b = Bundle(for: Child.self).bundleURL
        guard let bin = [b.appendingPathComponent("mlw"), b.deletingLastPathComponent().appendingPathComponent("mlw")]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { throw XCTSkip("mlw binary not built beside \(b.path)") }
        return bin
    }

    /// haproxy from PATH or Debian's /usr/sbin.
    static func haproxy() throws -> URL {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin"]
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/haproxy") { return URL(fileURLWithPath: d + "/haproxy") }
        throw XCTSkip("haproxy is not installed (Debian package haproxy; Scripts/deps/apt.txt)")
    }

    /// A port free at the moment of asking (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = Glibc.close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw HTTPFailure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// `mlw serve REF --port PORT` with `environment`; returns once its "listening" line names the port.
    static func serve(_ ref: String, port: Int, extra: [String] = [], environment: [String: String]) throws -> Child {
        let c = try Child(try mlwBinary(), ["serve", ref, "--port", String(port)] + extra, environment: environment)
        guard Child.wait(seconds: 60, { c.log.value.contains("port=\(port)") || !c.process.isRunning }), c.process.isRunning else {
            throw HTTPFailure(description: "mlw serve did not start: \(c.log.value)")
        }
        return c
    }

    /// The haproxy configuration the replica tests (and Docs/deploy.md) use: health checks
    /// on readiness every 100 ms (down after 1 failure, up after 2 successes), and a request
    /// that meets a dead server (refused, reset, no answer) retried up to 3 times, on another
    /// server (`redispatch`). `X-Replica` names the server that answered.
    static func haproxyConfig(port: Int, servers: [(name: String, port: Int)]) -> String {
        """
        global
            maxconn 1024
        defaults
            mode http
            timeout connect 1s
            timeout client 30s
            timeout server 10s
            timeout check 1s
            retries 3
            option redispatch 1
            retry-on conn-failure empty-response response-timeout
        frontend mlw
            bind 127.0.0.1:\(port)
            default_backend replicas
        backend replicas
            balance roundrobin
            option httpchk GET /v2/health/ready
            http-check expect status 200
            http-response set-header X-Replica %s
        \(servers.map { "    server \($0.name) 127.0.0.1:\($0.port) check inter 100ms fall 1 rise 2" }.joined(separator: "\n"))

        """
    }

    static func startHAProxy(port: Int, servers: [(name: String, port: Int)], dir: URL) throws -> Child {
        let cfg = dir.appendingPathComponent("haproxy.cfg")
        try haproxyConfig(port: port, servers: servers).write(to: cfg, atomically: true, encoding: .utf8)
        // -db: stay in the foreground; -W off: one process we can signal.
        let h = try Child(try haproxy(), ["-db", "-f", cfg.path])
        guard Child.wait(seconds: 10, { (try? RawHTTP(port: port).request("GET", "/v2/health/live"))?.status == 200 }) else {
            throw HTTPFailure(description: "haproxy did not come up: \(h.log.value)")
        }
        return h
    }

    /// The version a replica's readiness reports for its first model (nil when unreachable).
    static func servedVersion(port: Int) -> Int? {
        guard let r = try? RawHTTP(port: port).request("GET", "/v2/health/ready", timeoutSeconds: 2),
              let m = r.text.range(of: #""version":""#) else { return nil }
        return Int(r.text[m.upperBound...].prefix { $0.isNumber })
    }
}
