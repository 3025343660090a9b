import Foundation
import XCTest
@testable import Train

/// Shared helpers of the classical tests: the Python peer (MLW_PYTHON, else the repo's
/// .venv; skipped without it, a failure on CI) and a scratch folder.
enum ClassicalFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func python(_ modules: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let py = env["MLW_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: py), (try? run(py, ["-c", "import \(modules)"])) != nil { return py }
        if env["CI"] == "true" { XCTFail("CI: \(modules) missing for \(py)") }
        throw XCTSkip("\(modules) not installed (python \(py))")
    }

    @discardableResult
    static func run(_ exe: String, _ args: [String]) throws -> String {
        let p = Process(); p.executableURL = URL(fileURLWithPath: exe); p.arguments = args
        let out = Pipe(), err = Pipe(); p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TrainError("\(exe) failed: \(String(decoding: e, as: UTF8.self))") }
        return String(decoding: o, as: UTF8.self)
    }

    static func tempDir(_ label: String) throws -> URL {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mlw-classical-\(label)-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
