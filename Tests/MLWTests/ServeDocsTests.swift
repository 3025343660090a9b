import Foundation
import XCTest

/// Docs/serving.md's "Serving what a script trained" examples run as written: the iris
/// example script trains and registers `iris@staging`, `mlw serve` serves it, and every
/// `curl` line of the section (with `localhost:8080` replaced by the server's port) answers
/// with the piece of JSON on the `# -> ` line under it.
final class ServeDocsTests: XCTestCase {
    func testScriptTrainedModelExamplesInServingDoc() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let doc = try String(contentsOf: DocsTests.root.appendingPathComponent("Docs/serving.md"), encoding: .utf8)
        guard let start = doc.range(of: "\n## Serving what a script trained\n") else { return XCTFail("no such section") }
        let section = doc[start.upperBound...].components(separatedBy: "\n## ")[0]
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var examples: [(String, String)] = []
        for (i, l) in lines.enumerated() where l.hasPrefix("curl ") && i + 1 < lines.count && lines[i + 1].hasPrefix("# -> ") {
            examples.append((l, String(lines[i + 1].dropFirst(5))))
        }
        XCTAssertGreaterThanOrEqual(examples.count, 7)

        let dir = NSTemporaryDirectory() + "mlw-servedocs-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/Scripts", withDestinationPath: DocsTests.root.appendingPathComponent("Scripts").path)
        let env = ["MLW_HOME": dir + "/home"]
        let run = try ReplTests.mlw(["run", "Scripts/examples/iris.mlw"], env: env, in: dir)
        XCTAssertEqual(run.2, 0, run.1)

        let server = try ServedMLW.start("iris@staging", in: dir, env: env)
        defer { server.stop() }
        let port = server.port
        guard port > 0 else { return XCTFail("server did not start: \(server.log)") }
        for (cmd, expected) in examples {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/bin/sh")
            curl.arguments = ["-c", cmd.replacingOccurrences(of: "localhost:8080", with: "127.0.0.1:\(port)")]
            let out = Pipe()
            curl.standardOutput = out
            try curl.run()
            let body = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            curl.waitUntilExit()
            XCTAssertTrue(body.contains(expected), "\(cmd)\nexpected: \(expected)\ngot: \(body.prefix(800))")
        }
    }
}
