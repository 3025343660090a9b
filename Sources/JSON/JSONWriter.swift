/// Appends JSON text to one byte buffer, so writing is linear in the output (no string per
/// level or per number). `string` is the one JSON string escaper of the project.
///
///     var w = JSONWriter()
///     w.raw("{\"name\":"); w.string(name); w.raw(",\"data\":["); w.floats(xs); w.raw("]}")
///     let body = w.bytes
public struct JSONWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Text that is already JSON (punctuation, field names known to need no escaping).
    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// A string literal: `"` and `\` escaped, `\n` `\r` `\t` by name, other control
    /// characters as `\u00XX`; everything else (non-ASCII, non-BMP) as its UTF-8 bytes.
    public mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { u in
            var run = 0
            for k in 0..<u.count {
                let b = u[k]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                if k > run { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<k])) }
                run = k + 1
                bytes.append(0x5C)
                switch b {
                case 0x22, 0x5C: bytes.append(b)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hexDigit(b >> 4), hexDigit(b & 15)])
                }
            }
            if u.count > run { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...])) }
        }
        bytes.append(0x22)
    }

    public mutating func int(_ v: Int) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { d in
            var n = 0
            repeat { d[n] = UInt8(m % 10) + 0x30; m /= 10; n += 1 } while m > 0
            while n > 0 { n -= 1; bytes.append(d[n]) }
        }
    }

    /// A double that reads back as the same double and as a float: integral values keep
    /// a `.0` (below 1e16), others are Swift's shortest round-trip text. Non-finite values
    /// are written as the `NaN`/`Infinity` tokens (`JSONParser(allowNonFinite:)` reads them);
    /// callers that must write strict JSON check first.
    public mutating func double(_ d: Double) {
        if !d.isFinite { raw(d.isNaN ? "NaN" : d < 0 ? "-Infinity" : "Infinity"); return }
        if d == d.rounded(), abs(d) < 1e16 {
            if d == 0, d.sign == .minus { bytes.append(UInt8(ascii: "-")) }
            int(Int(d)); raw(".0")
        } else {
            raw(d.description)
        }
    }

    /// A float32 as its shortest text (`0.1`, not `0.10000000149`); non-finite as tokens.
    @inlinable
    public mutating func float(_ f: Float) {
        if f.isNaN { raw("NaN") } else if f.isInfinite { raw(f < 0 ? "-Infinity" : "Infinity") } else { raw(f.description) }
    }

    /// Comma-separated floats (the inside of a list). Inlinable so a caller's collection type
    /// is specialised: the generic version cost a witness call per value in serving responses.
    @inlinable
    public mutating func floats<C: Collection>(_ values: C) where C.Element == Float {
        var first = true
        for v in values { if !first { bytes.append(UInt8(ascii: ",")) }; first = false; float(v) }
    }

    /// A line break and two spaces per level, for pretty output.
    public mutating func newline(indent: Int) {
        bytes.append(0x0A)
        for _ in 0..<indent { bytes.append(0x20); bytes.append(0x20) }
    }

    /// A whole value, compact or pretty (two-space indent, `"key": value`). Recursive:
    /// parsed values are at most `JSONParser.maxDepth` deep.
    public mutating func value(_ v: JSONValue, pretty: Bool = false, indent: Int = 0) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let items):
            if items.isEmpty { raw("[]"); return }
            byte(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { byte(UInt8(ascii: ",")) }
                if pretty { newline(indent: indent + 1) }
                value(item, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent: indent) }
            byte(UInt8(ascii: "]"))
        case .object(let fields):
            if fields.isEmpty { raw("{}"); return }
            byte(UInt8(ascii: "{"))
            for (k, f) in fields.enumerated() {
                if k > 0 { byte(UInt8(ascii: ",")) }
                if pretty { newline(indent: indent + 1) }
                string(f.key)
                raw(pretty ? ": " : ":")
                value(f.value, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent: indent) }
            byte(UInt8(ascii: "}"))
        }
    }
}

@inline(__always) private func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

/// A JSON string literal for `s` (the escaping of `JSONWriter.string`).
///
///     jsonQuote("a\"b")  // "\"a\\\"b\""
public func jsonQuote(_ s: String) -> String {
    var w = JSONWriter(capacity: s.utf8.count + 2)
    w.string(s)
    return w.text
}

extension JSONValue {
    /// JSON text of the value, compact or pretty.
    public func text(pretty: Bool = false) -> String {
        var w = JSONWriter()
        w.value(self, pretty: pretty)
        return w.text
    }
}
