import Foundation
import XCTest

/// `mlw serve REF --port 0` started in a project folder, and the port it reported on stderr
/// (0 when it exited or stayed silent for 30 s; `log` then says why).
struct ServedMLW {
    let process: Process
    let port: Int
    let log: String

    static func start(_ ref: String, in dir: String, env: [String: String]) throws -> ServedMLW {
        let p = Process()
        p.executableURL = ReplTests.binary
        p.arguments = ["serve", ref, "--port", "0"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var seen = "", port = 0
        let deadline = Date().addingTimeInterval(30)
        while port == 0, Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let r = seen.range(of: #"port=(\d+)"#, options: .regularExpression) { port = Int(seen[r].dropFirst(5)) ?? 0 }
        }
        return ServedMLW(process: p, port: port, log: seen)
    }

    /// SIGTERM and wait (a no-op once it has exited).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
    }
}
