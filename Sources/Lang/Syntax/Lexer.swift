/// Turns source bytes into tokens. Newlines are tokens (they end statements); the parser
/// skips them where an expression obviously continues. Errors are collected, not thrown,
/// so one run reports several.
public struct Lexer {
    let file: SourceFile
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    var line: Int
    var lineStart: Int
    public private(set) var errors: [MLWError] = []
    /// Interpolation nesting guard, so `"{"{"{..."}"}"}` cannot exhaust the stack.
    let depth: Int

    public init(file: SourceFile) {
        self.init(file: file, from: 0, to: file.text.count, line: 1, lineStart: 0, depth: 0)
    }

    init(file: SourceFile, from: Int, to: Int, line: Int, lineStart: Int, depth: Int) {
        self.file = file
        self.bytes = file.text
        self.pos = from
        self.end = to
        self.line = line
        self.lineStart = lineStart
        self.depth = depth
    }

    public mutating func tokenize() -> [Token] {
        var out: [Token] = []
        var space = true
        while true {
            let before = pos
            skipSpaceAndComments()
            if pos > before { space = true }
            var tok = next()
            tok.spaceBefore = space
            space = tok.kind == .newline
            out.append(tok)
            if tok.kind == .eof { return out }
        }
    }

    private func span(_ start: Int, _ startLine: Int, _ startLineStart: Int) -> Span {
        Span(file: file, line: startLine, col: start - startLineStart + 1, length: max(1, pos - start))
    }

    private mutating func error(_ msg: String, _ start: Int, _ l: Int, _ ls: Int) {
        // The cap on reported errors holds for every kind (hostile input can have millions).
        if errors.count < Parser.maxErrors { errors.append(.syntax(msg, at: span(start, l, ls))) }
    }

    private func peek(_ k: Int = 0) -> UInt8 { pos + k < end ? bytes[pos + k] : 0 }

    private mutating func skipSpaceAndComments() {
        while pos < end {
            let c = bytes[pos]
            if c == 32 || c == 9 || c == 13 { pos += 1 }
            else if c == UInt8(ascii: "\\") && peek(1) == 10 {  // explicit line continuation
                pos += 2; line += 1; lineStart = pos
            } else if c == UInt8(ascii: "#") {
                while pos < end && bytes[pos] != 10 { pos += 1 }
            } else { break }
        }
    }

    /// The next token, skipping (and reporting) characters that start none. A loop, not
    /// recursion: a file of a million stray characters must not grow the stack.
    private mutating func next() -> Token {
        while true {
            if let t = token() { return t }
        }
    }

    /// The token at `pos`, or nil after reporting a character that starts no token.
    private mutating func token() -> Token? {
        let start = pos, l = line, ls = lineStart
        guard pos < end else { return Token(kind: .eof, span: Span(file: file, line: line, col: pos - lineStart + 1, length: 1)) }
        let c = bytes[pos]
        if c == 10 {
            pos += 1
            let t = Token(kind: .newline, span: span(start, l, ls))
            line += 1; lineStart = pos
            return t
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && isDigit(peek(1))) { return number(start) }
        if isIdentStart(c) {
            while pos < end && isIdentPart(bytes[pos]) { pos += 1 }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            return Token(kind: keywords.contains(word) ? .keyword(word) : .name(word), span: span(start, l, ls))
        }
        if c == UInt8(ascii: "\"") { return string(start) }
        for op in Lexer.operators where matches(op) {
            pos += op.utf8.count
            return Token(kind: .op(op), span: span(start, l, ls))
        }
        // Skip one whole UTF-8 character so the message shows it intact.
        pos += 1
        while pos < end && bytes[pos] & 0xC0 == 0x80 { pos += 1 }
        let ch = String(decoding: bytes[start..<pos], as: UTF8.self)
        error("unexpected character '\(ch)'", start, l, ls)
        skipSpaceAndComments()
        return nil
    }

    /// Longest first, so `**=` wins over `**` and `*`.
    static let operators = ["...", "**", "//", "|>", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=",
                            "+", "-", "*", "/", "%", "@", "<", ">", "=", "(", ")", "[", "]", "{", "}",
                            ",", ":", ";", ".", "|", "!"]

    private func matches(_ op: String) -> Bool {
        var i = pos
        for b in op.utf8 {
            guard i < end, bytes[i] == b else { return false }
            i += 1
        }
        return true
    }

    private mutating func number(_ start: Int) -> Token {
        let l = line, ls = lineStart
        var isFloat = false
        while pos < end && (isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_")) { pos += 1 }
        if peek() == UInt8(ascii: ".") && isDigit(peek(1)) {
            isFloat = true
            pos += 1
            while pos < end && (isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_")) { pos += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let save = pos
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            if isDigit(peek()) {
                isFloat = true
                while pos < end && isDigit(bytes[pos]) { pos += 1 }
            } else { pos = save }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingAll("_", "")
        if pos < end && isIdentStart(bytes[pos]) {
            while pos < end && isIdentPart(bytes[pos]) { pos += 1 }
            error("malformed number '\(String(decoding: bytes[start..<pos], as: UTF8.self))'", start, l, ls)
            return Token(kind: .int(0), span: span(start, l, ls))
        }
        if isFloat {
            return Token(kind: .float(Double(text) ?? .nan), span: span(start, l, ls))
        }
        // `-9223372036854775808`: the one literal whose magnitude only fits negated.
        if text == "9223372036854775808", start > 0, bytes[start - 1] == UInt8(ascii: "-") {
            return Token(kind: .int(Int.min), span: span(start, l, ls))
        }
        guard let v = Int(text) else {
            error("integer literal \(text) does not fit in 64 bits", start, l, ls)
            return Token(kind: .int(0), span: span(start, l, ls))
        }
        return Token(kind: .int(v), span: span(start, l, ls))
    }

    /// A double-quoted string with escapes and `{expr}` interpolation; may span lines.
    private mutating func string(_ start: Int) -> Token {
        let l = line, ls = lineStart
        pos += 1
        var parts: [StringPart] = []
        var buf: [UInt8] = []
        var invalidUTF8 = false
        func flush() {
            guard !buf.isEmpty else { return }
            if let s = String(validating: buf, as: UTF8.self) { parts.append(.text(s)) } else {
                invalidUTF8 = true
                parts.append(.text(String(decoding: buf, as: UTF8.self)))
            }
            buf.removeAll()
        }
        while true {
            guard pos < end else {
                error("unterminated string", start, l, ls)
                break
            }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c == 10 { buf.append(c); pos += 1; line += 1; lineStart = pos; continue }
            if c == UInt8(ascii: "\\") {
                let escStart = pos
                pos += 1
                let e = peek()
                pos += 1
                switch e {
                case UInt8(ascii: "n"): buf.append(10)
                case UInt8(ascii: "t"): buf.append(9)
                case UInt8(ascii: "r"): buf.append(13)
                case UInt8(ascii: "0"): buf.append(0)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"): buf.append(e)
                case UInt8(ascii: "u"): unicodeEscape(&buf, escStart)
                default:
                    if e == 0 { pos = min(pos, end) }
                    error("unknown escape '\\\(String(decoding: [e], as: UTF8.self))' in string", escStart, line, lineStart)
                }
                continue
            }
            if c == UInt8(ascii: "{") {
                flush()
                let codeStart = pos + 1, codeLine = line, codeLineStart = lineStart
                var nesting = 0
                pos += 1
                var inString = false
                while pos < end {
                    let d = bytes[pos]
                    if d == 10 { line += 1; lineStart = pos + 1 }
                    if inString {
                        if d == UInt8(ascii: "\\") { pos += 1 } else if d == UInt8(ascii: "\"") { inString = false }
                    } else if d == UInt8(ascii: "\"") { inString = true }
                    else if d == UInt8(ascii: "{") { nesting += 1 }
                    else if d == UInt8(ascii: "}") { if nesting == 0 { break }; nesting -= 1 }
                    pos += 1
                }
                guard pos < end else {
                    error("unterminated '{' in string interpolation", codeStart - 1, codeLine, codeLineStart)
                    break
                }
                let codeSpan = Span(file: file, line: codeLine, col: codeStart - codeLineStart + 1, length: max(1, pos - codeStart))
                if depth > 16 {
                    error("string interpolation nested too deeply", codeStart - 1, codeLine, codeLineStart)
                } else {
                    var sub = Lexer(file: file, from: codeStart, to: pos, line: codeLine, lineStart: codeLineStart, depth: depth + 1)
                    let toks = sub.tokenize()
                    errors += sub.errors
                    if toks.count <= 1 { error("empty '{}' in string; write '\\{' for a literal brace", codeStart - 1, codeLine, codeLineStart) }
                    parts.append(.code(toks, codeSpan))
                }
                pos += 1  // the closing brace
                continue
            }
            buf.append(c)
            pos += 1
        }
        flush()
        if invalidUTF8 { error("string is not valid UTF-8", start, l, ls) }
        var tok = Token(kind: .string, span: span(start, l, ls))
        if tok.span.line != line { tok.span = Span(file: file, line: l, col: start - ls + 1, length: 1) }
        tok.parts = parts
        return tok
    }

    private mutating func unicodeEscape(_ buf: inout [UInt8], _ escStart: Int) {
        // \u{1F600}
        guard peek() == UInt8(ascii: "{") else {
            error("expected '{' after \\u", escStart, line, lineStart); return
        }
        pos += 1
        var v: UInt32 = 0, n = 0
        while pos < end, let d = hexValue(bytes[pos]), n < 8 { v = v * 16 + d; pos += 1; n += 1 }
        guard peek() == UInt8(ascii: "}"), n > 0, let scalar = Unicode.Scalar(v) else {
            error("malformed \\u{...} escape", escStart, line, lineStart); return
        }
        pos += 1
        buf += Array(String(Character(scalar)).utf8)
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) func isIdentStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
@inline(__always) func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 48...57: return UInt32(c - 48)
    case 65...70: return UInt32(c - 55)
    case 97...102: return UInt32(c - 87)
    default: return nil
    }
}

extension String {
    func replacingAll(_ a: String, _ b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
