/// The one JSON parser (RFC 8259), over bytes in place: nothing is copied but the strings it
/// returns. Nesting is limited (`maxDepth`), so hostile input cannot overflow the stack, and
/// every error carries its line and column.
///
///     let v = try JSONParser.parse(Array(#"{"a": [1, 2.5]}"#.utf8))
///     let body = try JSONParser.parse(bytes, maxDepth: 64, allowNonFinite: true)
///
/// `allowNonFinite` accepts the `NaN`, `Infinity` and `-Infinity` tokens Python's `json`
/// writes, so a server can parse them and name the field in its error instead of failing at
/// the whole body. The inner loops (the plain-string scan and the exact number fast path)
/// came unchanged from the serving parser, which is the speed-critical user.
public struct JSONParser {
    /// The deepest nesting of arrays and objects any caller gets (a document nested this deep
    /// parses; one level more is an error). Callers may ask for less, never more: recursion
    /// is one native stack frame per level.
    public static let maxDepth = 512

    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    let allowNonFinite: Bool
    var i = 0

    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.maxDepth,
                             allowNonFinite: Bool = false) throws -> JSONValue {
        var p = JSONParser(bytes: bytes, maxDepth: Swift.max(1, Swift.min(maxDepth, JSONParser.maxDepth)),
                           allowNonFinite: allowNonFinite)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected text after the value") }
        return v
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = JSONParser.maxDepth,
                             allowNonFinite: Bool = false) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0, maxDepth: maxDepth, allowNonFinite: allowNonFinite) }
    }

    public static func parse(_ text: String, maxDepth: Int = JSONParser.maxDepth,
                             allowNonFinite: Bool = false) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), maxDepth: maxDepth, allowNonFinite: allowNonFinite) }
    }

    func fail(_ m: String, at offset: Int? = nil) -> JSONError {
        JSONError(.syntax, m, at: offset ?? i, in: bytes)
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw JSONError(.tooDeep, "nested deeper than \(maxDepth) levels", at: i, in: bytes) }
            i += 1; var fields: [(key: String, value: JSONValue)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            while true {
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                guard bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a field name") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1; skipSpace()
                fields.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw JSONError(.tooDeep, "nested deeper than \(maxDepth) levels", at: i, in: bytes) }
            i += 1; var items: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N") where allowNonFinite: try literal("NaN"); return .double(.nan)
        case UInt8(ascii: "I") where allowNonFinite: try literal("Infinity"); return .double(.infinity)
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("unexpected character") }
        i += n
    }

    /// A string token starting at the opening quote.
    mutating func string() throws -> String {
        let quote = i
        i += 1
        let start = i
        var simple = true
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                if simple {
                    guard let s = utf8(start, i) else { throw fail("invalid UTF-8 in string", at: quote) }
                    i += 1; return s
                }
                break
            }
            if b == UInt8(ascii: "\\") { simple = false; i += 2; continue }
            if b < 0x20 { throw fail("control character in string") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string", at: bytes.count) }
        // Escapes: decoded on this slower path, they are rare in inference requests.
        var out: [UInt8] = []
        out.reserveCapacity(i - start)
        var k = start
        while k < i {
            let b = bytes[k]
            guard b == UInt8(ascii: "\\") else {
                if b < 0x20 { throw fail("control character in string", at: k) }
                out.append(b); k += 1; continue
            }
            let e = bytes[k + 1]
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var code = try hex4(k + 2, end: i)
                k += 4
                // A high surrogate followed by a low one is one scalar; a lone surrogate has
                // no UTF-8 form and becomes U+FFFD.
                if (0xD800..<0xDC00).contains(code), k + 8 <= i, bytes[k + 2] == UInt8(ascii: "\\"), bytes[k + 3] == UInt8(ascii: "u"),
                   let low = try? hex4(k + 4, end: i), (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                }
                appendUTF8(Unicode.Scalar(code) ?? "\u{FFFD}", to: &out)
            default: throw fail("bad escape '\\\(Character(Unicode.Scalar(e)))'", at: k)
            }
            k += 2
        }
        i += 1
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string", at: quote) }
        return s
    }

    /// Four hex digits at `at` (before `end`), for `\uXXXX`.
    func hex4(_ at: Int, end: Int) throws -> UInt32 {
        guard at + 4 <= end else { throw fail("bad \\u escape: four hex digits expected", at: at) }
        var v: UInt32 = 0
        for k in at..<at + 4 {
            let c = bytes[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("bad \\u escape: four hex digits expected", at: at)
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    func utf8(_ from: Int, _ to: Int) -> String? {
        guard to > from, let base = bytes.baseAddress else { return "" }
        let p = UnsafeBufferPointer(start: (base + from).assumingMemoryBound(to: UInt8.self), count: to - from)
        return String(validating: p, as: UTF8.self)
    }

    /// Exact fast path for up to 15 significant digits and small exponents (Clinger);
    /// anything else goes through the standard library's correctly rounded parser.
    /// Integers without fraction or exponent that fit in `Int` stay integers.
    mutating func number() throws -> JSONValue {
        let start = i
        var neg = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            neg = true; i += 1
            if allowNonFinite, i < bytes.count, bytes[i] == UInt8(ascii: "I") { try literal("Infinity"); return .double(-.infinity) }
        }
        var mant: UInt64 = 0, digits = 0, fracDigits = 0
        let intStart = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { mant = mant &* 10 &+ UInt64(bytes[i] - 0x30); digits += 1; i += 1 }
        guard i > intStart else { throw fail(i < bytes.count ? "unexpected character" : "unexpected end of input") }
        guard bytes[intStart] != 0x30 || i - intStart == 1 else { throw fail("leading zero in number", at: intStart) }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fs = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { mant = mant &* 10 &+ UInt64(bytes[i] - 0x30); digits += 1; i += 1 }
            fracDigits = i - fs
            guard fracDigits > 0 else { throw fail("digits expected after '.'") }
        }
        var hasExp = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            hasExp = true; i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let es = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            guard i > es else { throw fail("digits expected in exponent") }
        }
        if !hasExp, fracDigits == 0, digits <= 18 {
            let v = Int(mant)
            return .int(neg ? -v : v)
        }
        if !hasExp, digits <= 15, fracDigits <= 22 {
            let v = Double(mant) / pow10[fracDigits]
            return .double(neg ? -v : v)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if !hasExp, fracDigits == 0, let v = Int(text) { return .int(v) }
        guard let v = Double(text) else { throw fail("bad number '\(text.prefix(40))'", at: start) }
        return .double(v)
    }
}

private let pow10: [Double] = (0...22).map { var x = 1.0; for _ in 0..<$0 { x *= 10 }; return x }

func appendUTF8(_ s: Unicode.Scalar, to out: inout [UInt8]) {
    let v = s.value
    switch v {
    case 0..<0x80: out.append(UInt8(v))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
    default:
        out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
        out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
    }
}
