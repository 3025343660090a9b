import Foundation
@testable import Lang
import Workbench
import XCTest

/// Thousands of random and mutated programs through lexer, parser, resolver and
/// interpreter under a step budget: each must end with a clean error or a result. A crash
/// would kill this test process, which is the failure.
final class RobustnessTests: XCTestCase {
    /// Every library except the one that writes files, so mutants cannot scribble on disk.
    static var sandboxLibraries: [Library] {
        Workbench.libraries.map { lib in
            Library(lib.name, doc: lib.doc, lib.functions.filter { $0.name != "write_text" })
        }
    }

    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    }

    static let fragments = ["(", ")", "[", "]", "{", "}", ",", ":", "|", "|>", "...", "=", "+=", "+", "-", "*", "/", "//",
                            "%", "**", "@", "<", "==", "and", "not", "let x = ", "var v = ", "fn f(a) = ", "if ", "else",
                            "for i in ", "while ", "return", "break", "\"s{1}\"", "\"", "1", "0", "-1", "2.5", "nil",
                            "true", "x", "f", "f(x)", "\n", ";", "# c", "import std.metrics", "param p = 1", "\\", "$",
                            "9223372036854775807", "range(5)", "len", ".sum()", ".x", "[0]", "[1:2]", "|a| a"]

    func runSandboxed(_ text: String, _ name: String) {
        let interp = Interpreter(libraries: Self.sandboxLibraries, stdlibDirectory: Workbench.stdlibDirectory, maxDepth: 500, stackSlots: 1 << 14)
        interp.output = { _ in }
        interp.stepBudget = 20_000
        do {
            _ = try interp.runMain(SourceFile(name: name, text: text))
        } catch let e as MLWError {
            // Every error carries a message; located errors point inside the file.
            XCTAssertFalse(e.message.isEmpty, "empty message for \(name)")
            if let f = e.span.file, f.name == name { XCTAssertGreaterThan(e.span.line, 0) }
        } catch {
            XCTFail("non-MLW error \(error) for \(name)")
        }
    }

    func testMutatedGoldenScriptsNeverCrash() {
        let sources = GoldenScriptTests.allCases().compactMap { try? String(contentsOf: $0, encoding: .utf8) }
            .map { $0.replacingOccurrences(of: "write_text", with: "print") }
        XCTAssertFalse(sources.isEmpty)
        var rng = SplitMix(state: 7)
        Workbench.onLargeStack {
            for n in 0..<3000 {
                var chars = Array(sources[rng.below(sources.count)].unicodeScalars)
                for _ in 0...rng.below(4) {
                    let at = rng.below(chars.count + 1)
                    switch rng.below(4) {
                    case 0: if !chars.isEmpty { chars.remove(at: min(at, chars.count - 1)) }
                    case 1: chars.insert(contentsOf: Self.fragments[rng.below(Self.fragments.count)].unicodeScalars, at: at)
                    case 2:
                        let len = rng.below(30), from = rng.below(chars.count + 1)
                        let piece = chars[from..<min(chars.count, from + len)]
                        chars.insert(contentsOf: piece, at: at)
                    default:
                        let len = rng.below(20)
                        if at < chars.count { chars.removeSubrange(at..<min(chars.count, at + len)) }
                    }
                }
                var s = String.UnicodeScalarView()
                s.append(contentsOf: chars)
                self.runSandboxed(String(s), "mutant\(n).mlw")
            }
        }
    }

    func testRandomTokenSoupNeverCrashes() {
        var rng = SplitMix(state: 11)
        Workbench.onLargeStack {
            for n in 0..<2000 {
                var text = ""
                for _ in 0..<rng.below(40) { text += Self.fragments[rng.below(Self.fragments.count)] + (rng.below(3) == 0 ? " " : "") }
                self.runSandboxed(text, "soup\(n).mlw")
            }
        }
    }

    func testRandomBytesNeverCrash() {
        var rng = SplitMix(state: 3)
        Workbench.onLargeStack {
            for n in 0..<500 {
                let bytes = (0..<rng.below(200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                self.runSandboxed(String(decoding: bytes, as: UTF8.self), "bytes\(n).mlw")
            }
        }
    }

    func testDeepRecursionAndNestingAreErrors() {
        Workbench.onLargeStack {
            self.runSandboxed("fn f(n) = f(n + 1)\nf(0)", "recursion.mlw")
            self.runSandboxed(String(repeating: "-", count: 100_000) + "1", "unary.mlw")
            self.runSandboxed("let x = " + String(repeating: "not ", count: 50_000) + "true", "nots.mlw")
            self.runSandboxed(String(repeating: "if true {", count: 3000) + String(repeating: "}", count: 3000), "ifs.mlw")
            var deep = "var x = []\nfor i in range(100000) { x = [x] }\nprint(len(x))"
            self.runSandboxed(deep, "deeplist.mlw")
            deep = "var r = {}\nfor i in range(20000) { r = {r: r} }\nprint(str(r) == \"\")"
            self.runSandboxed(deep, "deeprecord.mlw")
        }
    }
}
