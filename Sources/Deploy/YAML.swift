import Foundation

/// A YAML document built in code, keys in insertion order (manifests read top-down as
/// people write them). Strings are always double-quoted (JSON escapes are valid YAML), so no
/// value can turn into a number, a boolean or a null by accident.
public indirect enum YAML: Equatable {
    case map([(String, YAML)])
    case list([YAML])
    case string(String)
    case int(Int)
    case bool(Bool)

    public static func == (a: YAML, b: YAML) -> Bool { a.text() == b.text() }

    /// The document's text.
    public func text() -> String {
        var out = ""
        write(to: &out, indent: 0, inList: false)
        return out
    }

    private var isScalar: Bool {
        switch self {
        case .string, .int, .bool: return true
        case let .map(m): return m.isEmpty
        case let .list(l): return l.isEmpty
        }
    }

    private var scalar: String {
        switch self {
        case let .string(s): return YAML.quote(s)
        case let .int(i): return String(i)
        case let .bool(b): return b ? "true" : "false"
        case .map: return "{}"
        case .list: return "[]"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    private func write(to out: inout String, indent: Int, inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case let .map(entries) where !entries.isEmpty:
            for (i, (key, value)) in entries.enumerated() {
                // The first key of a list item shares the "- " line.
                out += (inList && i == 0) ? "" : pad
                out += YAML.quote(key) + ":"
                if value.isScalar { out += " " + value.scalar + "\n" } else {
                    out += "\n"
                    value.write(to: &out, indent: indent + 2, inList: false)
                }
            }
        case let .list(items) where !items.isEmpty:
            for item in items {
                out += pad + "- "
                if item.isScalar { out += item.scalar + "\n" } else if case .list = item {
                    out += "\n"; item.write(to: &out, indent: indent + 2, inList: false)
                } else {
                    item.write(to: &out, indent: indent + 2, inList: true)
                }
            }
        default:
            out += pad + scalar + "\n"
        }
    }
}
