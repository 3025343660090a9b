import Foundation
import XCTest
@testable import Serve

/// The official Triton HTTP client (Python `tritonclient[http]`, installed by Scripts/test
/// into the ignored .venv) talks to the server unchanged, in JSON and binary modes.
/// Skipped when the package is missing, except under CI=true.
final class TritonClientTests: XCTestCase {
    static func python() -> String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["MLW_PYTHON"], Fixtures.root.appendingPathComponent(".venv/bin/python").path].compactMap { $0 }
        for p in candidates where FileManager.default.isExecutableFile(atPath: p) {
            let check = Process()
            check.executableURL = URL(fileURLWithPath: p)
            check.arguments = ["-c", "import tritonclient.http, numpy"]
            check.standardError = FileHandle.nullDevice
            if (try? check.run()) != nil { check.waitUntilExit(); if check.terminationStatus == 0 { return p } }
        }
        return nil
    }

    func testTritonHTTPClientInfers() async throws {
        guard let python = Self.python() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { return XCTFail("tritonclient[http] is not installed") }
            throw XCTSkip("tritonclient[http] not installed (pip install 'tritonclient[http]' into .venv)")
        }
        let model = try Fixtures.digits()
        let (port, task) = try await LiveTests.start(try LiveTests.liveServer(models: [model]))
        defer { task.cancel() }
        let out = try await Task.detached { () -> (Int32, Data) in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [Fixtures.root.appendingPathComponent("Tests/ServeTests/Python/triton_client.py").path, String(port), "digits"]
            let pipe = Pipe(); p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, data)
        }.value
        XCTAssertEqual(out.0, 0, String(decoding: out.1, as: UTF8.self))
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: out.1) as? [String: Any])
        let x = (obj["x"] as? [[NSNumber]] ?? []).map { $0.map(\.floatValue) }
        let y = (obj["y"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.floatValue) }
        assertClose(y, try Fixtures.predictDirect(model, x))
    }
}
