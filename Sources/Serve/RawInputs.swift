import JSON

/// Raw-record V2 inputs, as Triton's ensemble preprocessors take them: one input per raw
/// column (BYTES for categories, FP32/FP64/INT*/UINT*/BOOL for numbers), each of shape [N]
/// or [N, 1], JSON or binary (`binary_data_size`; BYTES elements are a 4-byte little-endian
/// length and the bytes, as tritonclient writes them). They become one record per row,
/// which the route checks against the model's `RecordSchema` and runs through the fitted
/// transforms exactly like `/predict`.
extension InferenceCodec {
    /// Element sizes of the fixed-width datatypes.
    static let rawByteSizes: [String: Int] = ["BOOL": 1, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2,
                                              "INT32": 4, "UINT32": 4, "INT64": 8, "UINT64": 8, "FP32": 4, "FP64": 8]

    static func decodeRawInputs(_ inputs: [JSONValue], body: [UInt8], headerLength: Int?, schema: RecordSchema,
                                tensor: TensorSpec) throws -> [[(key: String, value: JSONValue)]] {
        let expected = "expected inputs: \(schema.expected) (raw columns, shape [N]) or '\(tensor.name)' (features after the fitted transforms)"
        guard !inputs.isEmpty else { throw ServeError.badRequest("'inputs' is empty; \(expected)") }
        var columns: [(name: String, values: [JSONValue])] = []
        var rows: Int?
        var offset = headerLength ?? 0   // binary inputs follow the JSON header in input order
        for (i, input) in inputs.enumerated() {
            let field = "inputs[\(i)]"
            guard case .object = input else { throw ServeError.badRequest("'\(field)' must be an object, got \(input.typeName)") }
            guard case .string(let name)? = input["name"] else { throw ServeError.badRequest("'\(field).name' must be a string") }
            guard !columns.contains(where: { $0.name == name }) else { throw ServeError.badRequest("'\(field).name': input '\(name)' is given twice") }
            guard case .string(let dtype)? = input["datatype"] else { throw ServeError.badRequest("'\(field).datatype' must be a string") }
            guard dtype == "BYTES" || rawByteSizes[dtype] != nil else {
                throw ServeError.badRequest("'\(field).datatype' '\(dtype)' is not a V2 datatype (BYTES for categories; FP32, FP64, INT8...INT64, UINT8...UINT64 or BOOL for numbers)")
            }
            guard case .array(let dims)? = input["shape"], let n = dims.first?.integer, n >= 1, n <= 1 << 24,
                  dims.count == 1 || (dims.count == 2 && dims[1].integer == 1) else {
                throw ServeError.badRequest("'\(field).shape' must be [N] or [N, 1] with N >= 1 (one value per row of the raw column '\(name)')")
            }
            if let r = rows, r != n { throw ServeError.badRequest("'\(field).shape' has \(n) rows, 'inputs[0]' has \(r)") }
            rows = n
            var values: [JSONValue] = []
            if let size = input["parameters"]?["binary_data_size"], size.number != nil {
                guard headerLength != nil else { throw ServeError.badRequest("'\(field).parameters.binary_data_size' needs the Inference-Header-Content-Length header") }
                guard let k = size.integer, k >= 0, offset + k <= body.count else {
                    throw ServeError.badRequest("'\(field).parameters.binary_data_size' is \(size.text()), more than the \(body.count - offset) bytes left in the body")
                }
                values = try binaryValues(body[offset ..< offset + k], dtype: dtype, count: n, field: field)
                offset += k
            } else {
                guard let d = input["data"] else { throw ServeError.badRequest("missing field '\(field).data'") }
                try flattenValues(d, into: &values, limit: n, field: "\(field).data", depth: 0)
                guard values.count == n else { throw ServeError.badRequest("'\(field).data' has \(values.count) values, shape [\(n)] needs \(n)") }
                for (k, v) in values.enumerated() {
                    switch (dtype, v) {
                    case ("BYTES", .string), ("BOOL", .bool): continue
                    case ("BYTES", _), ("BOOL", _):
                        throw ServeError.badRequest("'\(field).data[\(k)]' must be \(dtype == "BYTES" ? "a string" : "a boolean") (\(dtype)), got \(v.typeName)")
                    case (_, .int), (_, .double): continue
                    default: throw ServeError.badRequest("'\(field).data[\(k)]' must be a number (\(dtype)), got \(v.typeName)")
                    }
                }
            }
            columns.append((name, values))
        }
        let n = rows ?? 0
        return (0..<n).map { r in columns.map { (key: $0.name, value: $0.values[r]) } }
    }

    /// Nested or flat JSON data, at most `limit` values.
    static func flattenValues(_ v: JSONValue, into out: inout [JSONValue], limit: Int, field: String, depth: Int) throws {
        switch v {
        case .array(let items):
            guard depth < 8 else { throw ServeError.badRequest("'\(field)' is nested too deeply") }
            for item in items { try flattenValues(item, into: &out, limit: limit, field: field, depth: depth + 1) }
        default:
            guard out.count < limit else { throw ServeError.badRequest("'\(field)' has more than \(limit) values") }
            out.append(v)
        }
    }

    /// Little-endian elements of `dtype`; BYTES elements are length-prefixed UTF-8.
    static func binaryValues(_ bytes: ArraySlice<UInt8>, dtype: String, count: Int, field: String) throws -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(count)
        var at = bytes.startIndex
        func le(_ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<width { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            at += width
            return v
        }
        if dtype == "BYTES" {
            for k in 0..<count {
                guard bytes.endIndex - at >= 4 else { throw ServeError.badRequest("'\(field)' binary data ends inside element \(k)'s length") }
                let len = Int(le(4))
                guard bytes.endIndex - at >= len else { throw ServeError.badRequest("'\(field)' binary element \(k) claims \(len) bytes, \(bytes.endIndex - at) are left") }
                guard let s = String(validating: bytes[at ..< at + len], as: UTF8.self) else {
                    throw ServeError.badRequest("'\(field)' binary element \(k) is not UTF-8 text")
                }
                out.append(.string(s))
                at += len
            }
            guard at == bytes.endIndex else { throw ServeError.badRequest("'\(field)' binary data has \(bytes.endIndex - at) bytes after \(count) elements") }
            return out
        }
        let width = rawByteSizes[dtype] ?? 4
        guard bytes.count == width * count else {
            throw ServeError.badRequest("'\(field).parameters.binary_data_size' is \(bytes.count), expected \(width * count) bytes for \(count) \(dtype) values")
        }
        for _ in 0..<count {
            let u = le(width)
            switch dtype {
            case "BOOL": out.append(.bool(u != 0))
            case "FP32": out.append(.double(Double(Float(bitPattern: UInt32(u)))))
            case "FP64": out.append(.double(Double(bitPattern: u)))
            case "INT8": out.append(.int(Int(Int8(truncatingIfNeeded: u))))
            case "INT16": out.append(.int(Int(Int16(truncatingIfNeeded: u))))
            case "INT32": out.append(.int(Int(Int32(truncatingIfNeeded: u))))
            case "INT64": out.append(.int(Int(Int64(bitPattern: u))))
            case "UINT64": out.append(u <= UInt64(Int.max) ? .int(Int(u)) : .double(Double(u)))
            default: out.append(.int(Int(u)))   // UINT8/16/32
            }
        }
        return out
    }
}
