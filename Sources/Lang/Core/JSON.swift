import JSON

/// Conversions between MLW values and JSON text, through the `JSON` target. Objects become
/// records in key order (a repeated key keeps its first place and its last value), integers
/// stay integers. Both directions are bounded by `JSONParser.maxDepth` levels of nesting,
/// and encoding appends to one buffer, so it is linear in the output.
extension Value {
    /// Parses JSON text.
    ///
    ///     try Value.parseJSON(#"{"lr": 0.1, "layers": [64, 32]}"#)
    public static func parseJSON(_ text: String) throws -> Value {
        let doc: JSONValue
        do { doc = try JSONParser.parse(text) } catch let e as JSONError { throw NativeError("invalid JSON at \(e)") }
        return try Value(json: doc)
    }

    /// The MLW value of a JSON value.
    public init(json: JSONValue) throws {
        self = try Value.fromJSON(json, depth: 0)
    }

    private static func fromJSON(_ v: JSONValue, depth: Int) throws -> Value {
        switch v {
        case .null: return .nil
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .array(let items):
            guard depth < JSONParser.maxDepth else { throw tooDeep("decode") }
            return .list(try items.map { try fromJSON($0, depth: depth + 1) })
        case .object(let fields):
            guard depth < JSONParser.maxDepth else { throw tooDeep("decode") }
            var keys: [String] = [], vals: [Value] = []
            keys.reserveCapacity(fields.count); vals.reserveCapacity(fields.count)
            var index: [String: Int] = [:]
            for (k, fv) in fields {
                let x = try fromJSON(fv, depth: depth + 1)
                if let j = index[k] { vals[j] = x; continue }
                index[k] = keys.count
                keys.append(k); vals.append(x)
            }
            return .record(Record(keys: keys, values: vals))
        }
    }

    private static func tooDeep(_ verb: String) -> NativeError {
        NativeError("cannot \(verb) JSON nested deeper than \(JSONParser.maxDepth) levels")
    }

    /// JSON text; records keep their field order. Natives, functions and non-finite
    /// floats cannot be encoded.
    ///
    ///     try Value.record([("a", .int(1))]).json()  // {"a":1}
    public func json(pretty: Bool = false) throws -> String {
        var w = JSONWriter()
        try writeJSON(to: &w, pretty: pretty, depth: 0)
        return w.text
    }

    private func writeJSON(to w: inout JSONWriter, pretty: Bool, depth: Int) throws {
        switch self {
        case .nil: w.raw("null")
        case .bool(let b): w.raw(b ? "true" : "false")
        case .int(let i): w.int(i)
        case .float(let d):
            guard d.isFinite else { throw NativeError("cannot encode \(formatFloat(d)) as JSON") }
            w.double(d)
        case .string(let s): w.string(s)
        case .list(let xs):
            guard depth < JSONParser.maxDepth else { throw Value.tooDeep("encode") }
            if xs.isEmpty { w.raw("[]"); return }
            w.byte(UInt8(ascii: "["))
            for (k, x) in xs.enumerated() {
                if k > 0 { w.byte(UInt8(ascii: ",")) }
                if pretty { w.newline(indent: depth + 1) }
                try x.writeJSON(to: &w, pretty: pretty, depth: depth + 1)
            }
            if pretty { w.newline(indent: depth) }
            w.byte(UInt8(ascii: "]"))
        case .record(let r):
            guard depth < JSONParser.maxDepth else { throw Value.tooDeep("encode") }
            if r.keys.isEmpty { w.raw("{}"); return }
            w.byte(UInt8(ascii: "{"))
            for k in r.keys.indices {
                if k > 0 { w.byte(UInt8(ascii: ",")) }
                if pretty { w.newline(indent: depth + 1) }
                w.string(r.keys[k])
                w.raw(pretty ? ": " : ":")
                try r.values[k].writeJSON(to: &w, pretty: pretty, depth: depth + 1)
            }
            if pretty { w.newline(indent: depth) }
            w.byte(UInt8(ascii: "}"))
        default:
            throw NativeError("cannot encode a \(typeName) as JSON")
        }
    }
}
