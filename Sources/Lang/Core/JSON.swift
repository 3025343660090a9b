import Foundation

/// Conversions between MLW values and JSON (Foundation's JSONSerialization objects).
extension Value {
    /// Parses JSON text; objects become records in their key order, integers stay integers.
    public static func parseJSON(_ text: String) throws -> Value {
        var p = JSONParser(bytes: Array(text.utf8))
        return try p.document()
    }

    /// JSON text; records keep their field order. Natives and functions cannot be encoded.
    public func json(pretty: Bool = false, indent: String = "") throws -> String {
        let nl = pretty ? "\n" : "", step = pretty ? "  " : "", sep = pretty ? ": " : ":"
        switch self {
        case .nil: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d):
            guard d.isFinite else { throw NativeError("cannot encode \(formatFloat(d)) as JSON") }
            return d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : "\(d)"
        case .string(let s): return jsonQuote(s)
        case .list(let xs):
            if xs.isEmpty { return "[]" }
            let inner = indent + step
            return "[" + nl + (try xs.map { inner + (try $0.json(pretty: pretty, indent: inner)) }.joined(separator: "," + nl)) + nl + indent + "]"
        case .record(let r):
            if r.keys.isEmpty { return "{}" }
            let inner = indent + step
            let body = try zip(r.keys, r.values).map { k, v in inner + jsonQuote(k) + sep + (try v.json(pretty: pretty, indent: inner)) }
            return "{" + nl + body.joined(separator: "," + nl) + nl + indent + "}"
        default:
            throw NativeError("cannot encode a \(typeName) as JSON")
        }
    }
}

func jsonQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

/// A small strict JSON parser with positions in its errors and a nesting limit.
struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ msg: String) -> NativeError {
        var line = 1, col = 1
        for b in bytes[..<min(i, bytes.count)] { if b == 10 { line += 1; col = 1 } else { col += 1 } }
        return NativeError("invalid JSON at line \(line), column \(col): \(msg)")
    }

    mutating func ws() { while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 } }

    mutating func document() throws -> Value {
        ws()
        let v = try value()
        ws()
        if i < bytes.count { throw fail("unexpected text after the value") }
        return v
    }

    mutating func value() throws -> Value {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            if depth > 500 { throw fail("nested too deeply") }
            i += 1
            var keys: [String] = [], vals: [Value] = []
            ws()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .record(Record(keys: [], values: [])) }
            while true {
                ws()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                ws()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                ws()
                let v = try value()
                if let j = keys.firstIndex(of: k) { vals[j] = v } else { keys.append(k); vals.append(v) }
                ws()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .record(Record(keys: keys, values: vals)) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            if depth > 500 { throw fail("nested too deeply") }
            i += 1
            var out: [Value] = []
            ws()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .list([]) }
            while true {
                ws()
                out.append(try value())
                ws()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .list(out) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .nil)
        default: return try number()
        }
    }

    mutating func literal(_ word: String, _ v: Value) throws -> Value {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("unexpected character") }
        i += w.count
        return v
    }

    mutating func number() throws -> Value {
        let start = i
        var isFloat = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        while i < bytes.count {
            let c = bytes[i]
            if isDigit(c) { i += 1 }
            else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { isFloat = true; i += 1 }
            else { break }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if text.isEmpty || text == "-" { throw fail("unexpected character") }
        if !isFloat, let v = Int(text) { return .int(v) }
        guard let d = Double(text) else { throw fail("malformed number '\(text)'") }
        return .float(d)
    }

    mutating func string() throws -> String {
        i += 1
        var buf: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { buf.append(c); continue }
            guard i < bytes.count else { throw fail("unterminated string") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): buf.append(10)
            case UInt8(ascii: "t"): buf.append(9)
            case UInt8(ascii: "r"): buf.append(13)
            case UInt8(ascii: "b"): buf.append(8)
            case UInt8(ascii: "f"): buf.append(12)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): buf.append(e)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                buf += Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
            default: throw fail("unknown escape")
            }
        }
        guard let s = String(validating: buf, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = hexValue(bytes[i]) else { throw fail("bad \\u escape") }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
