/// A piece of an interpolated string: literal text, or the tokens of an `{expr}`.
public enum StringPart {
    case text(String)
    case code([Token], Span)
}

public enum TokenKind: Equatable {
    case int(Int)
    case float(Double)
    case string
    case name(String)
    case keyword(String)
    case op(String)
    case newline
    case eof

    public static func == (a: TokenKind, b: TokenKind) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case let (.float(x), .float(y)): return x == y
        case (.string, .string), (.newline, .newline), (.eof, .eof): return true
        case let (.name(x), .name(y)), let (.keyword(x), .keyword(y)), let (.op(x), .op(y)): return x == y
        default: return false
        }
    }
}

public struct Token {
    public var kind: TokenKind
    public var span: Span
    /// Only for `.string`: its parts after escapes and interpolation.
    public var parts: [StringPart] = []
    /// True when whitespace or a newline separates this token from the previous one.
    public var spaceBefore = false

    public var text: String {
        switch kind {
        case .int(let v): return String(v)
        case .float(let v): return String(v)
        case .string: return "string"
        case .name(let s), .keyword(let s), .op(let s): return s
        case .newline: return "newline"
        case .eof: return "end of input"
        }
    }

    /// How the token reads in an error message.
    public var quoted: String {
        switch kind {
        case .newline, .eof, .string: return text
        default: return "'\(text)'"
        }
    }
}

public let keywords: Set<String> = [
    "let", "var", "fn", "param", "import", "as", "return", "break", "continue",
    "if", "else", "for", "in", "while", "and", "or", "not", "true", "false", "nil",
]
