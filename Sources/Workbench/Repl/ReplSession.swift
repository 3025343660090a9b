import Foundation
import Lang

/// The REPL's logic, independent of the terminal: collects lines until an input is
/// complete, runs it, and says what to print. The `mlw` front end adds readline.
public final class ReplSession {
    public let interpreter: Interpreter
    var buffer: [String] = []
    public var quitRequested = false
    /// Any input failed (the non-interactive REPL exits 1 then).
    public private(set) var hadError = false

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    public var isContinuing: Bool { !buffer.isEmpty }

    /// Abandons a partly typed multi-line input (Ctrl-C).
    public func cancelInput() { buffer.removeAll() }

    /// Feeds one line. Returns the text to show on stdout and on stderr; both empty while
    /// a multi-line input is still open.
    public func feed(_ line: String) -> (out: String, err: String) {
        if buffer.isEmpty {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(":") { return command(t) }
            if t.isEmpty { return ("", "") }
        }
        buffer.append(line)
        let text = buffer.joined(separator: "\n")
        if ReplSession.needsMore(text) { return ("", "") }
        buffer.removeAll()
        return evaluate(text)
    }

    func evaluate(_ text: String) -> (out: String, err: String) {
        var printed = ""
        let saved = interpreter.output
        interpreter.output = { printed += $0 }
        defer { interpreter.output = saved }
        do {
            let v = try interpreter.evalREPL(text)
            if !v.isNil { printed += v.repr + "\n" }
            return (printed, "")
        } catch let e as MLWError {
            hadError = true
            return (printed, e.render())
        } catch {
            hadError = true
            return (printed, "error: \(error)\n")
        }
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

    func command(_ line: String) -> (out: String, err: String) {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch parts[0] {
        case ":quit", ":q", ":exit":
            quitRequested = true
            return ("", "")
        case ":help", ":h":
            if arg.isEmpty {
                let intro = """
                Commands: :help [name]  :load FILE  :time EXPR  :env  :quit
                Type an expression to see its value; open brackets continue on the next line.

                """
                return (intro + ((try? interpreter.helpText(.nil)) ?? ""), "")
            }
            do { return (try interpreter.helpText(.string(arg)) + "\n", "") } catch {
                return ("", "error: \(error)\n")
            }
        case ":load":
            guard !arg.isEmpty else { return ("", "error: usage: :load FILE\n") }
            guard let text = try? String(contentsOfFile: arg, encoding: .utf8) else {
                hadError = true
                return ("", "error: cannot read '\(arg)'\n")
            }
            return evaluate(text)
        case ":time":
            guard !arg.isEmpty else { return ("", "error: usage: :time EXPR\n") }
            let start = DispatchTime.now().uptimeNanoseconds
            var r = evaluate(arg)
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            r.out += "time: \(formatDuration(secs))\n"
            return r
        case ":env":
            let rows = interpreter.replNames.map { name, v -> String in
                let text = v.repr
                return "\(name) = \(text.count > 60 ? String(text.prefix(57)) + "..." : text)"
            }
            return (rows.isEmpty ? "(no names defined yet)\n" : rows.joined(separator: "\n") + "\n", "")
        default:
            hadError = true
            return ("", "error: unknown command '\(parts[0])' (try :help)\n")
        }
    }

    /// Names for tab completion: keywords, builtins, REPL names, commands, and after
    /// `x.` the fields of x.
    public func completions(for prefix: String) -> [String] {
        if prefix.hasPrefix(":") {
            return [":help", ":load", ":time", ":env", ":quit"].filter { $0.hasPrefix(prefix) }
        }
        if let dot = prefix.lastIndex(of: ".") {
            let base = String(prefix[..<dot]), partial = String(prefix[prefix.index(after: dot)...])
            guard let v = interpreter.replNames.first(where: { $0.0 == base })?.1 ?? interpreter.builtin(base) else { return [] }
            var fields: [String] = []
            if case .record(let r) = v { fields = r.keys }
            if case .native(let n) = v { fields = n.fieldNames }
            return fields.filter { $0.hasPrefix(partial) }.map { base + "." + $0 }.sorted()
        }
        let names = Set(keywords).union(interpreter.builtinNames).union(interpreter.replNames.map(\.0))
        return names.filter { $0.hasPrefix(prefix) }.sorted()
    }
}

public func formatDuration(_ secs: Double) -> String {
    if secs < 1e-3 { return String(format: "%.1f us", secs * 1e6) }
    if secs < 1 { return String(format: "%.2f ms", secs * 1e3) }
    return String(format: "%.3f s", secs)
}
