import Foundation

/// One raw value as it arrives from JSON (a JSONL line, an HTTP request body) or as a
/// cell read back from a dataset. Used by `FittedPipeline.apply(toRecord:)`.
public enum DataValue: Equatable, Sendable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Numbers compare by value (`.int(5) == .double(5)`): JSON does not keep the
    /// difference, and a pipeline must equal itself after a JSON round trip.
    public static func == (a: DataValue, b: DataValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.int, .double), (.double, .int), (.double, .double): return a.number! == b.number!
        default: return false
        }
    }

    /// The numeric value, when this is a number (or a bool, as 0/1).
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let v): return String(v)
        case .double(let v): return formatNumber(v)
        case .string(let s): return s
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let s): try c.encode(s)
        }
    }
}

/// Short text for a double: integral values without a trailing ".0".
func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    return String(v)
}
