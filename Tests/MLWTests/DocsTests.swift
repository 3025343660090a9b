import Foundation
import Workbench
import XCTest

/// Every ```mlw block in Docs/*.md runs as a golden script (its `# expect:` comments are
/// the output it must print). Blocks fenced as ```mlw-norun are illustrations only.
final class DocsTests: XCTestCase {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func blocks(in text: String) -> [(line: Int, code: String)] {
        var out: [(Int, String)] = []
        var current: [String]?
        var start = 0
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```mlw" {
                current = []
                start = i + 2
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                out.append((start, current!.joined(separator: "\n") + "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return out
    }

    func testDocExamplesRun() throws {
        let docs = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Docs").path)
            .filter { $0.hasSuffix(".md") }.sorted()
        XCTAssertTrue(docs.contains("language.md"))
        let tmp = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mlw-docs-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        // Examples that record runs or models use a throwaway registry; paths stay relative
        // to the project root, as in the README.
        setenv("MLW_HOME", tmp.appendingPathComponent("home").path, 1)
        let savedCwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(Self.root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(savedCwd) }
        var count = 0
        for doc in docs {
            let text = try String(contentsOf: Self.root.appendingPathComponent("Docs/" + doc), encoding: .utf8)
            for (line, code) in Self.blocks(in: text) {
                count += 1
                let file = tmp.appendingPathComponent("\(doc.dropLast(3))_line\(line).mlw")
                try code.write(to: file, atomically: true, encoding: .utf8)
                if let failure = GoldenScriptTests.check(file) {
                    XCTFail("Docs/\(doc) block at line \(line): \(failure)")
                }
            }
        }
        XCTAssertGreaterThan(count, 10)
    }
}
