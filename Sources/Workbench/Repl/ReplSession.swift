import Foundation
import Lang

/// The REPL's logic, independent of the terminal: collects lines until an input is
/// complete, runs it, and says what to print. The `mlw` front end adds readline.
///
/// A line starting with `|>` continues the input before it, as in a script. When more
/// input is already waiting (pasted text, a pipe), a complete input is held until the next
/// line shows whether it continues; a `|>` line typed after an input already ran re-runs
/// that input with the new line, from the names as they were before it.
public final class ReplSession {
    public let interpreter: Interpreter
    var buffer: [String] = []
    /// A complete input waiting for the next line, which may start with `|>`.
    var held: [String]?
    /// The last input that ran without error, and the names as they were before it.
    var last: (lines: [String], before: Interpreter.REPLState)?
    /// The buffer re-runs `last`: run it from `last.before`.
    var rerunning = false
    public var quitRequested = false
    /// Any input failed (the non-interactive REPL exits 1 then).
    public private(set) var hadError = false
    /// Columns for `:env` lines; the terminal front end sets its own width.
    public var width = 100

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    public var isContinuing: Bool { !buffer.isEmpty }

    /// Abandons a partly typed multi-line input (Ctrl-C).
    public func cancelInput() {
        buffer.removeAll()
        rerunning = false
    }

    /// Feeds one line (a pasted block may hold several). `more`: further input is already
    /// waiting, so a complete input is held until the next line. Returns the text to show on
    /// stdout and on stderr; both empty while an input is still open or held.
    public func feed(_ line: String, more: Bool = false) -> (out: String, err: String) {
        if line.contains("\n") {  // readline returns a bracketed paste as one line
            let lines = line.split(separator: "\n", omittingEmptySubsequences: false)
            var r = (out: "", err: "")
            for (i, l) in lines.enumerated() {
                let x = feed(String(l), more: more || i < lines.count - 1)
                r.out += x.out
                r.err += x.err
            }
            return r
        }
        var r = (out: "", err: "")
        if let h = held {
            held = nil
            if ReplSession.startsWithPipe(line) {
                buffer = h  // the held input continues on this line
            } else if more && ReplSession.isBlank(line) {
                held = h + [line]  // a script allows blank and comment lines before `|>`
                return r
            } else {
                r = run(h)
            }
        }
        let x = feedLine(line, more: more)
        return (r.out + x.out, r.err + x.err)
    }

    /// End of input: runs a held input, and lets the parser report one still open.
    public func finish() -> (out: String, err: String) {
        var r = (out: "", err: "")
        if let h = held {
            held = nil
            r = run(h)
        }
        if !buffer.isEmpty {
            let open = buffer
            buffer.removeAll()
            let x = run(open)
            r.out += x.out
            r.err += x.err
        }
        return r
    }

    /// An input line the front end could not take (too long); counts as a failed input.
    public func reject(_ message: String) -> (out: String, err: String) {
        hadError = true
        return ("", "error: \(message)\n")
    }

    func feedLine(_ line: String, more: Bool) -> (out: String, err: String) {
        if buffer.isEmpty {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(":") { return command(t) }
            if ReplSession.isBlank(line) { return ("", "") }
            if let name = ReplSession.helpQuery(t) { return help(name) }
            if ReplSession.startsWithPipe(line), let last {
                buffer = last.lines
                rerunning = true
            }
        }
        buffer.append(line)
        if ReplSession.needsMore(buffer.joined(separator: "\n")) { return ("", "") }
        let lines = buffer
        buffer.removeAll()
        if more {
            held = lines
            return ("", "")
        }
        return run(lines)
    }

    /// Runs one complete input and remembers it for a following `|>` line.
    func run(_ lines: [String]) -> (out: String, err: String) {
        var before = interpreter.replState()
        let now = before
        if rerunning, let last {
            rerunning = false
            before = last.before
            interpreter.restoreREPL(before)
        }
        let r = evaluate(lines.joined(separator: "\n"))
        if r.ok {
            last = (lines, before)
        } else if before !== now {
            // A failed continuation leaves the session as it was, so the previous input
            // can still be continued with a corrected line.
            interpreter.restoreREPL(now)
        } else {
            last = nil
        }
        return (r.out, r.err)
    }

    func evaluate(_ text: String) -> (out: String, err: String, ok: Bool) {
        var printed = ""
        let saved = interpreter.output
        interpreter.output = { printed += $0 }
        defer { interpreter.output = saved }
        do {
            let v = try interpreter.evalREPL(text)
            if !v.isNil {
                printed += v.repr + "\n"
                interpreter.bindREPL("_", v)
            }
            return (printed, "", true)
        } catch let e as MLWError {
            hadError = true
            return (printed, e.render(), false)
        } catch {
            hadError = true
            return (printed, "error: \(error)\n", false)
        }
    }

    static func startsWithPipe(_ line: String) -> Bool {
        line.drop { $0 == " " || $0 == "\t" }.hasPrefix("|>")
    }

    /// Empty, spaces, or only a comment.
    static func isBlank(_ line: String) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        return t.isEmpty || t.hasPrefix("#")
    }

    /// `name?` (also `lib?`) asks for help on name.
    static func helpQuery(_ t: String) -> String? {
        guard t.count > 1, t.hasSuffix("?") else { return nil }
        let name = t.dropLast()
        guard let f = name.utf8.first, f == UInt8(ascii: "_") || (f | 0x20 >= 97 && f | 0x20 <= 122),
              name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || ($0 >= 48 && $0 <= 57) })
        else { return nil }
        return String(name)
    }

    /// True while brackets are open, a string is unterminated, or the line ends with an
    /// operator that needs a right-hand side.
    public static func needsMore(_ text: String) -> Bool {
        var lexer = Lexer(file: SourceFile(name: "<repl>", text: text))
        let toks = lexer.tokenize()
        if lexer.errors.contains(where: { $0.message.hasPrefix("unterminated") }) { return true }
        var depth = 0
        for t in toks {
            switch t.kind {
            case .op("("), .op("["), .op("{"): depth += 1
            case .op(")"), .op("]"), .op("}"): depth -= 1
            default: break
            }
        }
        if depth > 0 { return true }
        let last = toks.last { $0.kind != .newline && $0.kind != .eof }
        switch last?.kind {
        case .op(let o)?: return ["+", "-", "*", "/", "//", "%", "**", "@", "|>", "=", ",", ".", "==", "!=", "<", "<=", ">", ">=", "+=", "-=", "*=", "/="].contains(o)
        case .keyword(let k)?: return ["and", "or", "not", "else"].contains(k)
        default: return false
        }
    }
}

public func formatDuration(_ secs: Double) -> String {
    if secs < 1e-3 { return String(format: "%.1f us", secs * 1e6) }
    if secs < 1 { return String(format: "%.2f ms", secs * 1e3) }
    return String(format: "%.3f s", secs)
}
