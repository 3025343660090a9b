import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Serve

struct HTTPFailure: Error, CustomStringConvertible {
    let description: String
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 over a blocking socket: what the replica
/// tests need from a load generator (URLSession opens at most six connections per host and
/// hides which connection failed). Reconnects after the server closes the connection.
final class RawHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The V2 answer's `model_version`, when there is one.
        var modelVersion: Int? {
            guard let r = text.range(of: #""model_version":""#) else { return nil }
            return Int(text[r.upperBound...].prefix { $0.isNumber })
        }
    }

    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }
    deinit { close() }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        buffer = []
    }

    func request(_ method: String, _ path: String, body: String = "", timeoutSeconds: Int = 10) throws -> Response {
        if fd < 0 { try connect(timeoutSeconds) }
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        do {
            try send(Array((head + body).utf8))
            let r = try readResponse()
            if r.headers["connection"]?.lowercased() == "close" { close() }
            return r
        } catch {
            close()
            throw error
        }
    }

    private func connect(_ timeoutSeconds: Int) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HTTPFailure(description: "socket: errno \(errno)") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            let e = errno
            _ = Glibc.close(s)
            throw HTTPFailure(description: "connect to port \(port): errno \(e)")
        }
        fd = s
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a peer that closed must be an error here, not SIGPIPE for the test process.
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HTTPFailure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HTTPFailure(description: "recv: errno \(errno)") }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func readResponse() throws -> Response {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        var end: Int?
        while true {
            if buffer.count >= 4, let i = (0...(buffer.count - 4)).first(where: { buffer[$0..<($0 + 4)].elementsEqual(crlf2) }) { end = i; break }
            guard try fill() else { throw HTTPFailure(description: "connection closed before a response") }
            if buffer.count > 64 << 10 { throw HTTPFailure(description: "response head over 64 KB") }
        }
        let headEnd = end!
        let lines = String(decoding: buffer[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPFailure(description: "bad status line '\(lines[0])'") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let c = line.firstIndex(of: ":") else { continue }
            headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
        buffer.removeFirst(headEnd + 4)
        guard let length = headers["content-length"].flatMap({ Int($0) }), length >= 0, length <= 16 << 20 else {
            throw HTTPFailure(description: "response without a usable Content-Length: \(headers)")
        }
        while buffer.count < length {
            guard try fill() else { throw HTTPFailure(description: "connection closed mid-body") }
        }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }
}

/// `connections` threads, each sending `body` to `path` on its own keep-alive connection in a
/// loop (a short pause after an error) until `finish()`; every outcome is kept in order.
final class HTTPLoad: @unchecked Sendable {
    struct Outcome {
        var status: Int
        var version: Int?
        /// haproxy's `X-Replica` header: the server that answered.
        var replica: String?
        var error: String?
        var ok: Bool { error == nil && status == 200 }
    }

    private let lock = NSLock()
    private var results: [[Outcome]]
    private let stop = LockedFlag()
    private let done = DispatchGroup()

    init(port: Int, connections: Int, path: String, body: String) {
        results = Array(repeating: [], count: connections)
        for c in 0..<connections {
            done.enter()
            let t = Thread { [self] in
                let client = RawHTTP(port: port)
                while !stop.value {
                    var o: Outcome
                    do {
                        let r = try client.request("POST", path, body: body)
                        o = Outcome(status: r.status, version: r.modelVersion, replica: r.headers["x-replica"],
                                    error: r.status == 200 ? nil : "status \(r.status): \(r.text.prefix(200))")
                    } catch {
                        o = Outcome(status: 0, version: nil, replica: nil, error: "\(error)")
                    }
                    lock.withLock { results[c].append(o) }
                    if !o.ok { usleep(10_000) }
                }
                done.leave()
            }
            t.start()
        }
    }

    /// Outcomes so far, all connections.
    var count: Int { lock.withLock { results.reduce(0) { $0 + $1.count } } }
    func answered(by replica: String) -> Int { lock.withLock { results.joined().filter { $0.replica == replica && $0.ok }.count } }

    /// Stops the threads and returns each connection's outcomes in order.
    func finish() -> [[Outcome]] {
        stop.set(true)
        done.wait()
        return lock.withLock { results }
    }
}
