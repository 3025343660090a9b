import Foundation
import XCTest
@testable import Serve

/// Runs every `curl` line of Docs/serving.md's Endpoints section against a live server and checks the
/// `# -> ...` line under it appears in the answer.
final class DocsTests: XCTestCase {
    func testCurlExamplesInServingDoc() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let doc = try String(contentsOf: Fixtures.root.appendingPathComponent("Docs/serving.md"), encoding: .utf8)
        // Only the Endpoints section: the one above it runs against a script-trained iris
        // model (MLWTests.ServeDocsTests).
        guard let start = doc.range(of: "\n## Endpoints\n") else { return XCTFail("no Endpoints section") }
        let section = doc[start.upperBound...].components(separatedBy: "\n## ")[0]
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var examples: [(String, String)] = []
        for (i, l) in lines.enumerated() where l.hasPrefix("curl ") && i + 1 < lines.count && lines[i + 1].hasPrefix("# -> ") {
            examples.append((l, String(lines[i + 1].dropFirst(5))))
        }
        XCTAssertGreaterThanOrEqual(examples.count, 9)
        let (port, task) = try await LiveTests.start(try LiveTests.liveServer(models: [Fixtures.digits()], delay: 0))
        defer { task.cancel() }
        for (cmd, expected) in examples {
            let line = cmd.replacingOccurrences(of: "localhost:8080", with: "127.0.0.1:\(port)")
            let out = try await Task.detached { () -> String in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", line]
                let pipe = Pipe(); p.standardOutput = pipe
                try p.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }.value
            XCTAssertTrue(out.contains(expected), "\(cmd)\nexpected: \(expected)\ngot: \(out.prefix(600))")
        }
    }
}
