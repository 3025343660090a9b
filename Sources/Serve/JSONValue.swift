/// A small JSON parser for request bodies. Why not JSONSerialization: it is slow on Linux for
/// the many-numbers bodies inference gets, it has no depth limit (hostile nesting would blow
/// the stack), and it rejects the `NaN`/`Infinity` tokens Python clients send, which we want
/// to parse so the error can name the field.
///
///     let v = try JSONValue.parse(Array(#"{"a": [1, 2.5]}"#.utf8))
enum JSONValue: Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([(String, JSONValue)])

    static let maxDepth = 64

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields.first { $0.0 == key }?.1 }
        return nil
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected text after the JSON value") }
        return v
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0) }
    }
}

private let pow10: [Double] = (0...22).map { var x = 1.0; for _ in 0..<$0 { x *= 10 }; return x }

struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var i = 0

    func fail(_ m: String) -> ServeError { .badRequest("malformed JSON at byte \(i): \(m)") }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < JSONValue.maxDepth else { throw ServeError.badRequest("JSON nested deeper than \(JSONValue.maxDepth) levels") }
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1; var fields: [(String, JSONValue)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a field name") }
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
        case UInt8(ascii: "N"): try literal("NaN"); return .number(.nan)
        case UInt8(ascii: "I"): try literal("Infinity"); return .number(.infinity)
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("unexpected character") }
        i += n
    }

    mutating func string() throws -> String {
        i += 1
        let start = i
        var simple = true
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                if simple {
                    let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                    i += 1; return s
                }
                break
            }
            if b == UInt8(ascii: "\\") { simple = false; i += 2; continue }
            if b < 0x20 { throw fail("control character in string") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        // Escapes: decode slowly, they are rare in inference requests.
        var out: [UInt8] = []
        var k = start
        while k < i {
            let b = bytes[k]
            guard b == UInt8(ascii: "\\") else { out.append(b); k += 1; continue }
            guard k + 1 < i else { throw fail("bad escape") }
            let e = bytes[k + 1]; k += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard k + 4 <= i, let code = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[k..<k + 4]), as: UTF8.self), radix: 16) else {
                    throw fail("bad \\u escape")
                }
                k += 4
                out.append(contentsOf: Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8))
            default: out.append(e)
            }
        }
        i += 1
        return String(decoding: out, as: UTF8.self)
    }

    /// Exact fast path for up to 15 significant digits and small exponents (Clinger);
    /// anything else goes through the standard library's correctly rounded parser.
    mutating func number() throws -> Double {
        let start = i
        var neg = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            neg = true; i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "I") { try literal("Infinity"); return -.infinity }
        }
        var mant: UInt64 = 0, digits = 0, fracDigits = 0
        let intStart = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { mant = mant &* 10 &+ UInt64(bytes[i] - 0x30); digits += 1; i += 1 }
        guard i > intStart else { throw fail("unexpected character") }
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
        if !hasExp, digits <= 15, fracDigits <= 22 {
            let v = Double(mant) / pow10[fracDigits]
            return neg ? -v : v
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let v = Double(text) else { throw fail("bad number '\(text.prefix(40))'") }
        return v
    }
}
