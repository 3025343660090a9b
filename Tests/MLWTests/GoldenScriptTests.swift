import Foundation
import Lang
import Workbench
import XCTest

/// Runs every `Tests/Scripts/<feature>/<case>.mlw` and checks its expectations, written
/// as comments in the script:
///   `# expect: TEXT`                 the next line of output is TEXT
///   `# expect error: L:C: MESSAGE`   a syntax/resolve error at line L, column C
///   `# expect runtime error: L:C: MESSAGE`  the run stops with this error
final class GoldenScriptTests: XCTestCase {
    static var scriptsDir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts")
    }

    static func allCases() -> [URL] {
        let fm = FileManager.default
        guard let e = fm.enumerator(at: scriptsDir, includingPropertiesForKeys: nil) else { return [] }
        return e.compactMap { $0 as? URL }.filter { $0.pathExtension == "mlw" && !$0.path.contains("/lib/") }
            .sorted { $0.path < $1.path }
    }

    func testGoldenScripts() throws {
        let cases = Self.allCases()
        XCTAssertGreaterThanOrEqual(cases.count, 100, "the golden suite should cover every construct")
        var failures: [String] = []
        for url in cases {
            if let f = Self.check(url) { failures.append(f) }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(cases.count) golden scripts failed:\n" + failures.joined(separator: "\n\n"))
    }

    /// Runs one case; returns a description of the mismatch, or nil when it passes.
    static func check(_ url: URL) -> String? {
        let name = url.path.replacingOccurrences(of: scriptsDir.path + "/", with: "")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return "\(name): unreadable" }
        var expectOut: [String] = [], expectErrors: [String] = [], expectRuntime: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let r = t.range(of: "# expect") else { continue }
            let rest = t[r.upperBound...]
            if rest.hasPrefix(": ") || rest == ":" { expectOut.append(String(rest.dropFirst(2))) }
            else if rest.hasPrefix(" error: ") { expectErrors.append(String(rest.dropFirst(8))) }
            else if rest.hasPrefix(" runtime error: ") { expectRuntime = String(rest.dropFirst(16)) }
        }
        let (out, error) = run(url)
        var problems: [String] = []
        let outLines = out.isEmpty ? [] : out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        if outLines != expectOut {
            problems.append("output:\n  expected \(expectOut)\n  got      \(outLines)")
        }
        if !expectErrors.isEmpty || expectRuntime != nil {
            guard let error else { return "\(name): expected an error, got none\n" + problems.joined(separator: "\n") }
            let all = [error] + error.more
            // Multi-line messages (a validation report) are matched on their first line.
            let got = all.map { "\($0.span.line):\($0.span.col): \($0.message.split(separator: "\n").first.map(String.init) ?? "")" }
            if let rt = expectRuntime {
                if error.kind != .runtime || got[0] != rt { problems.append("runtime error:\n  expected \(rt)\n  got      \(got[0]) (\(error.kind))") }
            } else if error.kind != .syntax || got != expectErrors {
                problems.append("errors:\n  expected \(expectErrors)\n  got      \(got)")
            }
        } else if let error {
            problems.append("unexpected error: \(error.render())")
        }
        return problems.isEmpty ? nil : "\(name): " + problems.joined(separator: "\n")
    }

    /// Scripts that cache stages or record runs write under a throwaway MLW_HOME.
    static let home: String = {
        let dir = NSTemporaryDirectory() + "mlw-golden-home-\(getpid())"
        setenv("MLW_HOME", dir, 1)
        return dir
    }()

    static func run(_ url: URL) -> (String, MLWError?) {
        _ = home
        return Workbench.onLargeStack {
            var out = ""
            do {
                let interp = try Workbench.makeInterpreter()
                interp.output = { out += $0 }
                interp.stepBudget = 50_000_000
                _ = try interp.runFile(url.path)
                return (out, nil)
            } catch let e as MLWError {
                return (out, e)
            } catch {
                return (out, MLWError.runtime("\(error)"))
            }
        }
    }
}
