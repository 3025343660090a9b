/// What went wrong: a syntax error stops the program before it runs, a runtime error
/// while it runs, a usage error before it starts (bad command line, unknown parameter).
public enum ErrorKind: Sendable {
    case syntax, runtime, usage
}

/// One frame of a runtime traceback: the script function and the call site.
public struct TraceFrame: Sendable {
    public let function: String
    public let span: Span
}

/// Every MLW error: one format, rendered in one place (`render`).
public struct MLWError: Error, CustomStringConvertible, @unchecked Sendable {
    public var kind: ErrorKind
    public var message: String
    public var span: Span
    public var trace: [TraceFrame] = []
    /// Further syntax errors of the same file, reported together.
    public var more: [MLWError] = []

    public init(_ kind: ErrorKind, _ message: String, at span: Span = .none) {
        self.kind = kind
        self.message = message
        self.span = span
    }

    public static func syntax(_ message: String, at span: Span) -> MLWError { MLWError(.syntax, message, at: span) }
    public static func runtime(_ message: String, at span: Span = .none) -> MLWError { MLWError(.runtime, message, at: span) }
    public static func usage(_ message: String) -> MLWError { MLWError(.usage, message) }

    /// Process exit code for this error: 65 syntax (EX_DATAERR), 1 runtime, 2 usage.
    public var exitCode: Int32 {
        switch kind {
        case .syntax: return 65
        case .runtime: return 1
        case .usage: return 2
        }
    }

    /// `file:line:col: error: message` — the short form used by tests and one-line logs.
    public var location: String {
        guard let file = span.file, span.line > 0 else { return "" }
        return "\(file.name):\(span.line):\(span.col)"
    }

    /// Longest part of a source line shown under an error, in bytes.
    static let maxShownLine = 240

    public var description: String { location.isEmpty ? "error: \(message)" : "\(location): error: \(message)" }

    /// The full report: every error with its source line and a caret under the span,
    /// then the traceback of script frames (innermost last, like Python).
    public func render() -> String {
        var out = ""
        for e in [self] + more { out += e.renderOne() }
        return out
    }

    private func renderOne() -> String {
        var out = description + "\n"
        if let file = span.file, span.line > 0 {
            var text = file.line(span.line)
            var col = span.col
            // A long line (a generated record literal on one line) is shown as a window
            // around the column, so each error costs a bounded amount of output.
            let bytes = Array(text.utf8)
            if bytes.count > MLWError.maxShownLine {
                let start = max(0, min(col - 1 - MLWError.maxShownLine / 3, bytes.count - MLWError.maxShownLine))
                let end = min(bytes.count, start + MLWError.maxShownLine)
                text = (start > 0 ? "..." : "") + String(decoding: bytes[start..<end], as: UTF8.self) + (end < bytes.count ? "..." : "")
                col = col - start + (start > 0 ? 3 : 0)
            }
            out += "  " + text + "\n"
            let prefix = String(text.utf8.prefix(max(0, col - 1)).map { $0 == 9 ? Character("\t") : Character(" ") })
            let width = max(1, min(span.length, max(1, text.utf8.count - col + 1)))
            out += "  " + prefix + "^" + String(repeating: "~", count: width - 1) + "\n"
        }
        if !trace.isEmpty {
            out += "traceback (most recent call last):\n"
            for f in trace.reversed() {
                let loc = f.span.file.map { "\($0.name):\(f.span.line):\(f.span.col)" } ?? "?"
                out += "  \(loc): in \(f.function)\n"
            }
        }
        return out
    }
}
