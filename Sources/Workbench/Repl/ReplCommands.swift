import Foundation
import Lang

/// `:help`, `:load`, `:time`, `:env`, `:quit`, `name?`, and tab completion.
extension ReplSession {
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
                Type an expression to see its value; open brackets continue on the next line,
                and so does a line starting with |>. _ is the last value shown; name? is :help name.

                """
                return (intro + ((try? interpreter.helpText(.nil)) ?? ""), "")
            }
            return help(arg)
        case ":load":
            guard !arg.isEmpty else { return ("", "error: usage: :load FILE\n") }
            guard let text = try? String(contentsOfFile: arg, encoding: .utf8) else {
                return reject("cannot read '\(arg)'")
            }
            last = nil  // a following `|>` line must not undo the file's names
            let r = evaluate(text)
            return (r.out, r.err)
        case ":time":
            guard !arg.isEmpty else { return ("", "error: usage: :time EXPR\n") }
            last = nil
            let start = DispatchTime.now().uptimeNanoseconds
            let r = evaluate(arg)
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return (r.out + "time: \(formatDuration(secs))\n", r.err)
        case ":env":
            let rows = interpreter.replNames.filter { $0.0 != "_" }.map { name, v in
                ReplSession.elide("\(name) = " + ReplSession.oneLine(v.repr), width: width)
            }
            return (rows.isEmpty ? "(no names defined yet)\n" : rows.joined(separator: "\n") + "\n", "")
        default:
            return reject("unknown command '\(parts[0])' (try :help)")
        }
    }

    /// `:help name` and `name?`: a function or library from the tables (as `help("name")`),
    /// else a name defined in the session, else a suggestion.
    func help(_ name: String) -> (out: String, err: String) {
        if let text = try? interpreter.helpText(.string(name)) { return (text + "\n", "") }
        if let v = interpreter.replNames.first(where: { $0.0 == name })?.1 {
            var text = "\(name): \(v.typeName)"
            if case .function(let f) = v { text = "\(f.signature)  (defined in this session)" }
            var fields: [String] = []
            if case .record(let r) = v { fields = r.keys }
            if case .native(let n) = v { fields = n.fieldNames }
            if !fields.isEmpty { text += "\n  fields: " + fields.joined(separator: ", ") }
            if case .function = v {} else { text += "\n  " + ReplSession.elide(ReplSession.oneLine(v.repr), width: width - 2) }
            return (text + "\n", "")
        }
        let known = interpreter.replNames.map(\.0) + interpreter.libraries.map(\.name) + interpreter.builtinNames
        let hint = closestName(to: name, among: known).map { "; did you mean '\($0)'?" } ?? ""
        return ("", "error: no function, library or name '\(name)'\(hint)\n")
    }

    /// Multi-line printing on one line: an indented line continues the one before (a
    /// tensor's rows) and joins it after one space; a line that is not indented starts
    /// something else (a dataset's preview table under its summary), left out as ` ...`.
    static func oneLine(_ text: String) -> String {
        guard text.contains("\n") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.count > 1 && lines.last?.isEmpty == true { lines.removeLast() }
        var out = String(lines[0])
        for line in lines.dropFirst() {
            guard let first = line.first, first == " " || first == "\t" else {
                out += " ..."
                break
            }
            out += " " + line.drop { $0 == " " || $0 == "\t" }
        }
        return out
    }

    /// `text` cut to `width` characters at an element or word boundary (after a comma, or
    /// at a space), marked with ` ...`; mid-word only when nothing in the line's second half
    /// is a boundary.
    public static func elide(_ text: String, width: Int) -> String {
        let chars = Array(text)
        guard chars.count > width else { return text }
        let room = max(8, width - 4)
        var cut = room
        while cut > room / 2 {
            if chars[cut] == " " || chars[cut - 1] == "," { break }
            cut -= 1
        }
        if cut <= room / 2 { cut = room }
        var head = String(chars[..<cut])
        while head.last == " " { head.removeLast() }
        return head + " ..."
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
