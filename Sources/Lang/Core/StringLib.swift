import Foundation

/// Text: splitting, joining, case, search and number formatting.
public let stringLibrary = Library("strings", doc: "Text: split, join, case, search, formatting.", [
    NativeFunction("split", [Param("s", .string), Param("sep", .optional(.string), .nil)],
                   doc: "Split on a separator, or on runs of whitespace when none is given.",
                   example: "split(\"a,b,c\", \",\")", result: "[\"a\", \"b\", \"c\"]") { a in
        let s = try a.string("s")
        if a.isNil("sep") {
            // At most one word per two bytes ("a b a b ..."): only a string that long can
            // pass the list limit, and then the words are counted before any is built.
            if s.utf8.count / 2 + 1 > Limits.maxListItems {
                var words = 0, inWord = false
                for u in s.unicodeScalars {
                    let space = u.properties.isWhitespace
                    if !space && !inWord { words += 1 }
                    inWord = !space
                }
                try Limits.checkList(words, "split")
            }
            return .strings(s.split(whereSeparator: { $0.isWhitespace }).map(String.init))
        }
        let sep = try a.string("sep")
        guard !sep.isEmpty else { throw a.invalid("sep", "must not be empty") }
        if s.utf8.count / sep.utf8.count + 1 > Limits.maxListItems {
            // Count the pieces before building them (each would be a String of its own):
            // occurrences of the separator's bytes, which bound the pieces from above.
            let needle = Array(sep.utf8)
            let pieces = s.utf8.withContiguousStorageIfAvailable { countOccurrences(needle, in: $0) + 1 } ?? 1
            try Limits.checkList(pieces, "split")
        }
        return .strings(s.components(separatedBy: sep))
    },
    NativeFunction("join", [Param("items", .list), Param("sep", .string, .string(""))],
                   doc: "Join the items' text with a separator.", example: "join([1, 2, 3], \"-\")", result: "\"1-2-3\"") { a in
        let items = try a.list("items"), sep = try a.string("sep")
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        var bytes = Limits.product(max(0, items.count - 1), sep.utf8.count)
        for x in items {
            let t = x.text
            bytes = bytes < 0 ? -1 : Limits.sum(bytes, t.utf8.count)
            try Limits.checkString(bytes, "join")
            texts.append(t)
        }
        try Limits.checkString(bytes, "join")
        return .string(texts.joined(separator: sep))
    },
    NativeFunction("upper", [Param("s", .string)], doc: "Upper-case copy.", example: "upper(\"mlw\")", result: "\"MLW\"") { a in
        .string(try a.string("s").uppercased())
    },
    NativeFunction("lower", [Param("s", .string)], doc: "Lower-case copy.", example: "lower(\"MLW\")", result: "\"mlw\"") { a in
        .string(try a.string("s").lowercased())
    },
    NativeFunction("trim", [Param("s", .string)], doc: "Copy without leading and trailing whitespace.", example: "trim(\"  x \")", result: "\"x\"") { a in
        .string(try a.string("s").trimmingCharacters(in: .whitespacesAndNewlines))
    },
    NativeFunction("contains", [Param("container", .oneOf([.string, .list, .record])), Param("item")],
                   doc: "Substring of a string, item of a list, or field of a record.",
                   example: "contains(\"pipeline\", \"line\")", result: "true") { a in
        switch a["container"] {
        case .string(let s):
            guard case .string(let sub) = a["item"] else { throw a.bad("item", "string", a["item"]) }
            return .bool(sub.isEmpty || s.contains(sub))
        case .list(let xs): return .bool(xs.contains { $0.equals(a["item"]) })
        case .record(let r):
            guard case .string(let k) = a["item"] else { throw a.bad("item", "string", a["item"]) }
            return .bool(r[k] != nil)
        default: return .bool(false)
        }
    },
    NativeFunction("starts_with", [Param("s", .string), Param("prefix", .string)], doc: "Whether s begins with prefix.",
                   example: "starts_with(\"model.mlw\", \"model\")", result: "true") { a in
        .bool(try a.string("s").hasPrefix(try a.string("prefix")))
    },
    NativeFunction("ends_with", [Param("s", .string), Param("suffix", .string)], doc: "Whether s ends with suffix.",
                   example: "ends_with(\"model.mlw\", \".mlw\")", result: "true") { a in
        .bool(try a.string("s").hasSuffix(try a.string("suffix")))
    },
    NativeFunction("replace", [Param("s", .string), Param("old", .string), Param("new", .string)],
                   doc: "Replace every occurrence of old with new.", example: "replace(\"a-b-c\", \"-\", \"+\")", result: "\"a+b+c\"") { a in
        let old = try a.string("old"), new = try a.string("new"), s = try a.string("s")
        guard !old.isEmpty else { throw a.invalid("old", "must not be empty") }
        if new.utf8.count > old.utf8.count {
            // Upper bound of the growth without counting matches: each match of old adds at most the difference.
            let most = Limits.sum(s.utf8.count, Limits.product(s.utf8.count / old.utf8.count, new.utf8.count - old.utf8.count))
            if most < 0 || most > Limits.maxStringBytes {
                let matches = s.components(separatedBy: old).count - 1
                try Limits.checkString(Limits.sum(s.utf8.count, Limits.product(matches, new.utf8.count - old.utf8.count)), "replace")
            }
        }
        return .string(s.replacingOccurrences(of: old, with: new))
    },
    NativeFunction("str", [Param("x")], doc: "The text print would show.", example: "str(1.5)", result: "\"1.5\"") { a in
        .string(a["x"].text)
    },
    NativeFunction("repr", [Param("x")], doc: "The text the REPL would show (strings quoted).", example: "repr(\"hi\")", result: "\"\\\"hi\\\"\"") { a in
        .string(a["x"].repr)
    },
    NativeFunction("format", [Param("x", .number), Param("spec", .string)],
                   doc: "Format a number: '.3f' fixed, '.2e' exponent, '.1%' percent, ',' thousands, optional width ('8.2f') and '<' to left-align.",
                   example: "format(0.98765, \".1%\")", result: "\"98.8%\"") { a in
        .string(try formatNumber(a["x"], try a.string("spec")))
    },
    NativeFunction("pad", [Param("s"), Param("width", .int), Param("right", .bool, .bool(false))],
                   doc: "Pad the text of s with spaces to a width (on the left, or on the right).",
                   example: "pad(7, 3)", result: "\"  7\"") { a in
        let s = a["s"].text, w = try a.int("width")
        let missing = w > 0 ? max(0, w - s.count) : 0
        try Limits.checkString(Limits.sum(s.utf8.count, missing), "pad")
        let fill = String(repeating: " ", count: missing)
        return .string(try a.bool("right") ? s + fill : fill + s)
    },
])

/// A small, documented subset of Python's format mini-language.
func formatNumber(_ x: Value, _ spec: String) throws -> String {
    var s = Substring(spec)
    var left = false
    if s.first == "<" { left = true; s = s.dropFirst() } else if s.first == ">" { s = s.dropFirst() }
    var grouping = false
    var widthText = ""
    while let c = s.first, c.isNumber { widthText.append(c); s = s.dropFirst() }
    if s.first == "," { grouping = true; s = s.dropFirst() }
    var precision: Int?
    if s.first == "." {
        s = s.dropFirst()
        var p = ""
        while let c = s.first, c.isNumber { p.append(c); s = s.dropFirst() }
        precision = Int(p)
        guard precision != nil, precision! <= 30 else { throw NativeError("bad format spec '\(spec)': precision") }
    }
    let kind = s.first ?? (x.asDouble.map { _ in Character(x.typeName == "integer" ? "d" : "g") } ?? "g")
    if s.count > 1 { throw NativeError("bad format spec '\(spec)'") }
    guard let d = x.asDouble else { throw NativeError("format needs a number") }
    var out: String
    switch kind {
    case "f": out = String(format: "%.\(precision ?? 6)f", d)
    case "e": out = String(format: "%.\(precision ?? 6)e", d)
    case "g": out = precision.map { String(format: "%.\($0)g", d) } ?? x.repr
    case "%": out = String(format: "%.\(precision ?? 6)f", d * 100) + "%"
    case "d":
        guard case .int(let i) = x else { throw NativeError("format spec 'd' needs an integer") }
        out = String(i)
    default: throw NativeError("bad format spec '\(spec)': unknown type '\(kind)'")
    }
    if grouping {
        let neg = out.hasPrefix("-")
        var digits = neg ? String(out.dropFirst()) : out
        let rest: String
        if let dot = digits.firstIndex(where: { !$0.isNumber }) { rest = String(digits[dot...]); digits = String(digits[..<dot]) } else { rest = "" }
        var grouped = ""
        for (i, c) in digits.reversed().enumerated() { if i > 0 && i % 3 == 0 { grouped.append(",") }; grouped.append(c) }
        out = (neg ? "-" : "") + String(grouped.reversed()) + rest
    }
    if !widthText.isEmpty {
        // An over-long width is an error, never dropped: digits past Int's range too.
        guard let w = Int(widthText), w <= Limits.maxFormatWidth else {
            throw NativeError("bad format spec '\(spec)': width \(widthText) exceeds the limit of \(Limits.maxFormatWidth)")
        }
        if w > out.count {
            out = left ? out + String(repeating: " ", count: w - out.count) : String(repeating: " ", count: w - out.count) + out
        }
    }
    return out
}

/// Non-overlapping occurrences of `needle` in `hay` (a plain byte scan).
func countOccurrences(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>) -> Int {
    guard let first = needle.first, hay.count >= needle.count else { return 0 }
    var count = 0, i = 0
    let last = hay.count - needle.count
    while i <= last {
        if hay[i] == first && (needle.count == 1 || needle.indices.allSatisfy { hay[i + $0] == needle[$0] }) {
            count += 1
            i += needle.count
        } else {
            i += 1
        }
    }
    return count
}
