/// Printing of values. `print` shows strings bare; the REPL and containers quote them.
extension Value {
    /// The text `print` writes.
    public var text: String {
        if case .string(let s) = self { return s }
        return repr
    }

    /// The text the REPL shows: strings quoted, floats always with a point or exponent.
    public var repr: String {
        var out = ""
        write(to: &out, depth: 0)
        return out
    }

    /// Printing is bounded two ways: nesting past 64 levels prints `...`, and once the
    /// text reaches the string limit the rest is cut with `...` (a list of large strings
    /// would otherwise build a string of any size).
    func write(to out: inout String, depth: Int) {
        if depth > 64 || out.utf8.count >= Limits.maxStringBytes { out += "..."; return }
        switch self {
        case .nil: out += "nil"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let v): out += String(v)
        case .float(let v): out += formatFloat(v)
        case .string(let s):
            // A string that alone would pass the limit is cut (quote can double its size).
            if out.utf8.count + 2 * s.utf8.count + 2 > Limits.maxStringBytes {
                let room = max(0, (Limits.maxStringBytes - out.utf8.count) / 2 - 16)
                out += quote(String(decoding: s.utf8.prefix(room), as: UTF8.self)) + "..."
            } else {
                out += quote(s)
            }
        case .list(let xs):
            out += "["
            for (i, x) in xs.enumerated() {
                if i > 0 { out += ", " }
                if i >= 1000 { out += "... (\(xs.count) items)"; break }
                x.write(to: &out, depth: depth + 1)
            }
            out += "]"
        case .record(let r):
            if r.isModule { out += "<module \(r.moduleName ?? "")>"; return }
            out += "{"
            for (i, k) in r.keys.enumerated() {
                if i > 0 { out += ", " }
                out += isPlainName(k) ? k : quote(k)
                out += ": "
                r.values[i].write(to: &out, depth: depth + 1)
            }
            out += "}"
        case .function(let f): out += "<fn \(f.signature)>"
        case .native(let n): out += n.description
        case .cell(let c): c.value.write(to: &out, depth: depth)
        case .undefined: out += "<undefined>"
        }
    }
}

/// Shortest text that reads back as the same double; integral values keep a `.0`.
public func formatFloat(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v < 0 ? "-inf" : "inf" }
    return v.description
}

func isPlainName(_ s: String) -> Bool {
    guard let f = s.utf8.first, isIdentStart(f) else { return false }
    return s.utf8.allSatisfy(isIdentPart) && !keywords.contains(s)
}

/// An MLW string literal that reads back as `s`. MLW's escapes, not JSON's: braces are
/// escaped (they start interpolation) and control characters are `\u{1b}`; JSON text is
/// escaped by the `JSON` target's `JSONWriter.string`.
public func quote(_ s: String) -> String {
    // Most strings need no escape: copy them whole (a scalar loop costs seconds on 100 MB).
    let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
        !bytes.contains { $0 < 32 || $0 == 34 || $0 == 92 || $0 == 123 || $0 == 125 }
    }
    if plain == true { return "\"" + s + "\"" }
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "{": out += "\\{"
        case "}": out += "\\}"
        default:
            if ch.value < 32 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out + "\""
}
