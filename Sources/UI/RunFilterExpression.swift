import Foundation
import Registry
import Support

/// The runs page's filter: clauses joined by `and` (or `,`), each `NAME OP VALUE` with OP one
/// of `>`, `>=`, `<`, `<=`, `=`, `==`, `!=`, `~` (contains). NAME is `script`, `status`, `id`,
/// `host`, a metric key (final value) or a parameter; `metric.x` / `param.x` choose when a
/// name is both. A clause without an operator matches the script or the id.
///
///     test_accuracy > 0.9 and script ~ iris and lr = 0.01
struct RunFilterExpression {
    enum Op: String, CaseIterable { case ge = ">=", le = "<=", ne = "!=", eq2 = "==", gt = ">", lt = "<", eq = "=", contains = "~" }
    enum Field: Equatable { case script, status, id, host, param(String), metric(String), anyText }
    struct Clause { var field: Field; var op: Op; var value: String }

    /// Longest accepted expression (a request's query is bounded by the server too).
    static let maxLength = 2000
    var clauses: [Clause]

    struct ParseError: Error, CustomStringConvertible { var description: String }

    init(_ text: String, paramKeys: [String], metricKeys: [String]) throws {
        guard text.count <= Self.maxLength else { throw ParseError(description: "filter longer than \(Self.maxLength) characters") }
        clauses = []
        for part in Self.split(text) {
            clauses.append(try Self.clause(part, paramKeys: Set(paramKeys), metricKeys: Set(metricKeys)))
        }
    }

    /// Splits on `,`, `&&` and the word `and` outside quotes.
    static func split(_ text: String) -> [String] {
        var parts: [String] = [], current = "", quote: Character? = nil
        let chars = Array(text)
        var i = 0
        func flush() {
            let t = current.trimmingCharacters(in: .whitespaces)
            if !t.isEmpty { parts.append(t) }
            current = ""
        }
        while i < chars.count {
            let c = chars[i]
            if let q = quote { current.append(c); if c == q { quote = nil }; i += 1; continue }
            if c == "\"" || c == "'" { quote = c; current.append(c); i += 1; continue }
            if c == "," { flush(); i += 1; continue }
            if c == "&", i + 1 < chars.count, chars[i + 1] == "&" { flush(); i += 2; continue }
            if c.isWhitespace, i + 4 < chars.count, String(chars[(i + 1)...(i + 3)]).lowercased() == "and", chars[i + 4].isWhitespace {
                flush(); i += 5; continue
            }
            current.append(c); i += 1
        }
        flush()
        return parts
    }

    static func clause(_ text: String, paramKeys: Set<String>, metricKeys: Set<String>) throws -> Clause {
        // The first operator after the name (names never contain operator characters).
        guard let opStart = text.firstIndex(where: { "<>=!~".contains($0) }) else {
            return Clause(field: .anyText, op: .contains, value: unquote(text))
        }
        let name = text[..<opStart].trimmingCharacters(in: .whitespaces)
        let rest = text[opStart...]
        guard let op = Op.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw ParseError(description: "bad operator in '\(text)' (use >, >=, <, <=, =, != or ~)")
        }
        let value = unquote(String(rest.dropFirst(op.rawValue.count)).trimmingCharacters(in: .whitespaces))
        guard !name.isEmpty else { throw ParseError(description: "missing name before '\(op.rawValue)' in '\(text)'") }
        let field: Field
        switch name {
        case "script": field = .script
        case "status": field = .status
        case "id": field = .id
        case "host": field = .host
        default:
            if name.hasPrefix("metric."), name.count > 7 { field = .metric(String(name.dropFirst(7))) }
            else if name.hasPrefix("param."), name.count > 6 { field = .param(String(name.dropFirst(6))) }
            else if metricKeys.contains(name) { field = .metric(name) }
            else if paramKeys.contains(name) { field = .param(name) }
            else {
                let known = Array(metricKeys) + Array(paramKeys) + ["script", "status", "id", "host"]
                let close = known.filter { editDistance($0, name) <= 2 }.sorted().first
                throw ParseError(description: "unknown name '\(name)': not a metric, a parameter, script, status, id or host"
                                 + (close.map { " (did you mean '\($0)'?)" } ?? ""))
            }
        }
        if case .metric = field, op != .contains, Double(value) == nil {
            throw ParseError(description: "'\(name) \(op.rawValue) \(value)': a metric compares with a number")
        }
        return Clause(field: field, op: op, value: value)
    }

    private static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f { return String(s.dropFirst().dropLast()) }
        return s
    }

    func matches(_ row: RunTableRow) -> Bool {
        clauses.allSatisfy { c in
            switch c.field {
            case .script: return Self.compare(text: row.run.script, c.op, c.value)
            case .status: return Self.compare(text: row.run.status.rawValue, c.op, c.value)
            case .id: return c.op == .contains || c.op == .eq || c.op == .eq2 ? row.run.id.hasPrefix(c.value.lowercased()) || (c.op == .contains && row.run.id.contains(c.value.lowercased()))
                : Self.compare(text: row.run.id, c.op, c.value)
            case .host: return Self.compare(text: row.run.host, c.op, c.value)
            case .anyText: return row.run.script.localizedCaseInsensitiveContains(c.value) || row.run.id.hasPrefix(c.value.lowercased())
            case let .metric(m):
                guard let v = row.finalMetrics[m] else { return false }
                if c.op == .contains { return Format.number(v).contains(c.value) }
                return Self.compare(number: v, c.op, Double(c.value) ?? .nan)
            case let .param(p):
                guard let v = row.run.params[p] else { return c.op == .ne }
                switch v {
                case let .int(i): if let x = Double(c.value), c.op != .contains { return Self.compare(number: Double(i), c.op, x) }
                case let .double(d): if let x = Double(c.value), c.op != .contains { return Self.compare(number: d, c.op, x) }
                default: break
                }
                return Self.compare(text: v.description, c.op, c.value)
            }
        }
    }

    static func compare(number a: Double, _ op: Op, _ b: Double) -> Bool {
        switch op {
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .eq, .eq2: return a == b
        case .ne: return a != b
        case .contains: return false
        }
    }

    static func compare(text a: String, _ op: Op, _ b: String) -> Bool {
        switch op {
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .eq, .eq2: return a == b
        case .ne: return a != b
        case .contains: return a.localizedCaseInsensitiveContains(b)
        }
    }
}
