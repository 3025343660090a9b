/// A parsed JSON document. Objects keep their keys in document order, duplicates included
/// (lookups take the last one, as most parsers do); integers that fit in `Int` and have no
/// fraction or exponent stay `.int`, so a script's `1` comes back as `1`, not `1.0`.
///
///     let v = try JSONParser.parse(Array(#"{"a": [1, 2.5]}"#.utf8))
///     v["a"]?[1]?.number  // 2.5
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// Structural equality; `.int(1)` and `.double(1)` differ (the text differed), and NaN
    /// equals NaN so a parsed `NaN` token compares equal to itself.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value of `key` in an object (the last one when the key repeats); nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        var k = fields.count
        while k > 0 { k -= 1; if fields[k].key == key { return fields[k].value } }
        return nil
    }

    /// The item at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// Either kind of number as a double.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Either kind of number as an exact integer (`2.0` is 2, `2.5` is nil).
    public var integer: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }

    /// For messages: "a number", "a list", "an object"...
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
