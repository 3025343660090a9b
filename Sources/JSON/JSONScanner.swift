/// A pull scanner over JSON bytes, for a decoder that knows the document's shape and wants
/// no `JSONValue` tree: the serving fast path reads a KServe V2 body straight into floats.
/// It uses the parser's own token rules (numbers, strings, literals), so a value it reads is
/// the value `JSONParser.parse` would give. Every method answers nil or false when the input
/// is not what the caller expects, and the caller then parses the body the general way,
/// which also gives the precise error.
public struct JSONScanner {
    var p: JSONParser

    public init(_ bytes: UnsafeRawBufferPointer, allowNonFinite: Bool = false) {
        p = JSONParser(bytes: bytes, maxDepth: JSONParser.maxDepth, allowNonFinite: allowNonFinite)
    }

    /// True when only whitespace is left.
    public mutating func atEnd() -> Bool { p.skipSpace(); return p.i == p.bytes.count }

    /// The next byte after whitespace, without consuming it.
    public mutating func peek() -> UInt8? {
        p.skipSpace()
        return p.i < p.bytes.count ? p.bytes[p.i] : nil
    }

    /// Consumes `byte` (after whitespace) when it is next.
    public mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        p.i += 1
        return true
    }

    /// The bytes of a string without escapes (the next token), as a range of the input; nil
    /// for anything else (escaped strings go through the general parser).
    public mutating func plainString() -> Range<Int>? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        var k = p.i + 1
        while k < p.bytes.count {
            let b = p.bytes[k]
            if b == UInt8(ascii: "\"") { let r = (p.i + 1)..<k; p.i = k + 1; return r }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            k += 1
        }
        return nil
    }

    /// True when the plain string at `range` is exactly `text`.
    public func bytes(_ range: Range<Int>, equal text: String) -> Bool {
        var t = text
        return t.withUTF8 { u in
            u.count == range.count && (u.isEmpty || memcmp(u.baseAddress!, p.bytes.baseAddress! + range.lowerBound, u.count) == 0)
        }
    }

    /// A plain object key and its colon; nil when the next token is not one.
    public mutating func key() -> Range<Int>? {
        guard let r = plainString(), take(UInt8(ascii: ":")) else { return nil }
        return r
    }

    /// A string value, escapes decoded as the parser decodes them.
    public mutating func string() -> String? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        return try? p.string()
    }

    /// A number token (`.int` or `.double`, as the parser reads it; the non-finite tokens when
    /// allowed); nil when the next token is not a number.
    public mutating func number() -> JSONValue? {
        guard let b = peek() else { return nil }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try? p.number()
        case UInt8(ascii: "N") where p.allowNonFinite: return (try? p.literal("NaN")).map { .double(.nan) }
        case UInt8(ascii: "I") where p.allowNonFinite: return (try? p.literal("Infinity")).map { .double(.infinity) }
        default: return nil
        }
    }

    /// A (possibly nested, at most `maxDepth` arrays deep) array of numbers appended to `out`
    /// flat, each converted as `Float(n)` for an integer token and `Float(x)` for any other,
    /// as a decoder reading the parsed tree would; false at anything else, including a value
    /// that is not finite as a Float. One call per array, so the per-number work stays in
    /// this module rather than a cross-module call per token.
    public mutating func floats(into out: inout [Float], maxDepth: Int) -> Bool {
        guard maxDepth > 0, take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            p.skipSpace()
            guard p.i < p.bytes.count else { return false }
            let b = p.bytes[p.i]
            if b == UInt8(ascii: "[") {
                guard floats(into: &out, maxDepth: maxDepth - 1) else { return false }
                continue
            }
            guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39), let v = try? p.number() else { return false }
            switch v {
            case .int(let n): out.append(Float(n))
            case .double(let x):
                let f = Float(x)
                guard f.isFinite else { return false }
                out.append(f)
            default: return false
            }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// Consumes the literal `null` when it is next.
    public mutating func null() -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        return (try? p.literal("null")) != nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
