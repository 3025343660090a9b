import JSON

/// KServe V2 / Open Inference Protocol request and response bodies, JSON and the binary
/// tensor extension (`Inference-Header-Content-Length`), as Triton's clients send them.
/// Every error names the field: `inputs[0].shape`, `inputs[0].data[7]`.

struct InferRequest {
    var id: String?
    var rows: Int
    /// Row-major `[rows, width]` features of the model's one input.
    var data: [Float]
    /// Output names asked for (nil: all); names whose data goes back as binary.
    var requestedOutputs: [String]?
    var binaryOutputs: Set<String>
    /// Raw-column inputs (one per column, shape [N] or [N, 1]) as one record per row, for
    /// the model's fitted transforms; `data` is then empty.
    var records: [[(key: String, value: JSONValue)]]? = nil
}

public enum InferenceCodec {
    /// Parses and validates a request against the model's metadata.
    /// `headerLength` is the `Inference-Header-Content-Length` value for binary bodies.
    /// With `raw` (the model's record schema), a request whose inputs are not the one
    /// feature tensor is read as raw columns instead (`decodeRawInputs`).
    static func decodeRequest(_ body: [UInt8], headerLength: Int?, input spec: TensorSpec,
                              outputs: [TensorSpec], raw: RecordSchema? = nil) throws -> InferRequest {
        if headerLength == nil, raw.map({ $0.field(spec.name) == nil && !$0.ignored.contains(spec.name) }) ?? true,
           let fast = body.withUnsafeBytes({ decodeCommon($0, spec: spec) }) {
            return fast
        }
        return try decodeGeneral(body, headerLength: headerLength, input: spec, outputs: outputs, raw: raw)
    }

    /// Every request form: the JSON tree, then the fields.
    static func decodeGeneral(_ body: [UInt8], headerLength: Int?, input spec: TensorSpec,
                              outputs: [TensorSpec], raw: RecordSchema? = nil) throws -> InferRequest {
        let jsonEnd: Int
        if let h = headerLength {
            guard h >= 0, h <= body.count else {
                throw ServeError.badRequest("Inference-Header-Content-Length \(h) is larger than the body (\(body.count) bytes)")
            }
            jsonEnd = h
        } else { jsonEnd = body.count }
        let root = try body.withUnsafeBytes { try parseRequestJSON(UnsafeRawBufferPointer(rebasing: $0[0..<jsonEnd])) }
        guard case .object = root else { throw ServeError.badRequest("request body must be a JSON object, got \(root.typeName)") }

        var id: String?
        switch root["id"] {
        case nil, .null?: id = nil
        case .string(let s)?: id = s
        case let v?: throw ServeError.badRequest("'id' must be a string, got \(v.typeName)")
        }
        guard let inputsValue = root["inputs"] else { throw ServeError.badRequest("missing field 'inputs'") }
        guard case .array(let inputs) = inputsValue else { throw ServeError.badRequest("'inputs' must be a list, got \(inputsValue.typeName)") }
        var records: [[(key: String, value: JSONValue)]]?
        // Raw columns when any input is named after one (the rest is checked like a record).
        if let raw, inputs.contains(where: { i in
            guard case .string(let n)? = i["name"] else { return false }
            return raw.field(n) != nil || raw.ignored.contains(n)
        }) {
            records = try decodeRawInputs(inputs, body: body, headerLength: headerLength, schema: raw, tensor: spec)
        }
        let rows: Int
        var data: [Float] = []
        if let records {
            rows = records.count
        } else {
            (rows, data) = try decodeTensorInput(inputs, body: body, headerLength: headerLength, spec: spec, rawColumns: raw?.expected)
        }
        var requested: [String]?
        var binary = Set<String>()
        let binaryAll: Bool
        if case .bool(let b)? = root["parameters"]?["binary_data_output"] { binaryAll = b } else { binaryAll = false }
        if let outs = root["outputs"] {
            guard case .array(let list) = outs else { throw ServeError.badRequest("'outputs' must be a list, got \(outs.typeName)") }
            requested = []
            for (k, o) in list.enumerated() {
                guard case .string(let n)? = o["name"] else { throw ServeError.badRequest("'outputs[\(k)].name' must be a string") }
                guard outputs.contains(where: { $0.name == n }) else {
                    throw ServeError.badRequest("'outputs[\(k)].name': unknown output '\(n)' (outputs: \(outputs.map(\.name).joined(separator: ", ")))")
                }
                requested?.append(n)
                if case .bool(true)? = o["parameters"]?["binary_data"] { binary.insert(n) }
            }
        }
        if binaryAll { binary.formUnion(outputs.map(\.name)) }
        return InferRequest(id: id, rows: rows, data: data, requestedOutputs: requested, binaryOutputs: binary, records: records)
    }

    /// The one feature tensor: `[rows, width]` FP32, JSON or binary.
    static func decodeTensorInput(_ inputs: [JSONValue], body: [UInt8], headerLength: Int?, spec: TensorSpec,
                                  rawColumns: String?) throws -> (rows: Int, data: [Float]) {
        guard inputs.count == 1 else {
            throw ServeError.badRequest("'inputs' must hold exactly 1 tensor ('\(spec.name)'), got \(inputs.count)")
        }
        let input = inputs[0]
        let field = "inputs[0]"
        guard case .object = input else { throw ServeError.badRequest("'\(field)' must be an object, got \(input.typeName)") }
        guard case .string(let name)? = input["name"] else { throw ServeError.badRequest("'\(field).name' must be a string") }
        guard name == spec.name else { throw ServeError.badRequest("'\(field).name': unknown input '\(name)' (the model's input is '\(spec.name)'\(rawColumns.map { " (features after the fitted transforms), or one input per raw column: \($0)" } ?? ""))") }
        guard case .string(let dtype)? = input["datatype"] else { throw ServeError.badRequest("'\(field).datatype' must be a string") }
        guard dtype == spec.datatype else { throw ServeError.badRequest("'\(field).datatype' must be \(spec.datatype), got '\(dtype)'") }
        let shape = try decodeShape(input["shape"], field: "\(field).shape", spec: spec)
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 28 else { throw ServeError.badRequest("'\(field).shape' \(shape) is too large") }
            count = p
        }
        var data: [Float]
        if let size = input["parameters"]?["binary_data_size"], size.number != nil {
            guard let h = headerLength else { throw ServeError.badRequest("'\(field).parameters.binary_data_size' needs the Inference-Header-Content-Length header") }
            let n = size.integer ?? -1
            guard n == count * 4, h + n <= body.count else {
                throw ServeError.badRequest("'\(field).parameters.binary_data_size' is \(size.text()), expected \(count * 4) bytes for shape \(shape) within the body")
            }
            data = [Float](repeating: 0, count: count)
            data.withUnsafeMutableBytes { dst in body.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[h..<h + n])) } }
            for (k, v) in data.enumerated() where !v.isFinite {
                throw ServeError.badRequest("'\(field).data[\(k)]' is \(v) (only finite numbers are allowed)")
            }
        } else {
            guard let d = input["data"] else { throw ServeError.badRequest("missing field '\(field).data'") }
            data = []
            data.reserveCapacity(count)
            try flatten(d, into: &data, field: "\(field).data", depth: 0)
            guard data.count == count else {
                throw ServeError.badRequest("'\(field).data' has \(data.count) values, shape \(shape) needs \(count)")
            }
        }
        return (shape[0], data)
    }

    /// The common request (an optional `id` and one input with `name`, `shape`, `datatype`
    /// and JSON `data`, nothing else) read straight into floats, with no JSON tree: building
    /// the tree was most of the decode's cost at 64 connections. Anything else, and anything
    /// wrong, answers nil, and `decodeRequest` parses the body the general way, which accepts
    /// every other form and names the error. The values are the ones the general path reads.
    static func decodeCommon(_ bytes: UnsafeRawBufferPointer, spec: TensorSpec) -> InferRequest? {
        var s = JSONScanner(bytes, allowNonFinite: true)
        guard s.take(UInt8(ascii: "{")) else { return nil }
        var id: String?, sawID = false
        var input: (rows: Int, data: [Float])?
        repeat {
            guard let k = s.key() else { return nil }
            if s.bytes(k, equal: "inputs") {
                guard input == nil, s.take(UInt8(ascii: "[")), let one = commonInput(&s, spec: spec, limit: bytes.count),
                      s.take(UInt8(ascii: "]")) else { return nil }
                input = one
            } else if s.bytes(k, equal: "id"), !sawID {
                sawID = true
                if !s.null() { guard let v = s.string() else { return nil }; id = v }
            } else { return nil }
        } while s.take(UInt8(ascii: ","))
        guard s.take(UInt8(ascii: "}")), s.atEnd(), let input else { return nil }
        return InferRequest(id: id, rows: input.rows, data: input.data, requestedOutputs: nil, binaryOutputs: [])
    }

    private static func commonInput(_ s: inout JSONScanner, spec: TensorSpec, limit: Int) -> (rows: Int, data: [Float])? {
        guard s.take(UInt8(ascii: "{")) else { return nil }
        var named = false, typed = false
        var shape: [Int]?, data: [Float]?
        repeat {
            guard let k = s.key() else { return nil }
            if s.bytes(k, equal: "name"), !named {
                guard let v = s.plainString(), s.bytes(v, equal: spec.name) else { return nil }
                named = true
            } else if s.bytes(k, equal: "datatype"), !typed {
                guard let v = s.plainString(), s.bytes(v, equal: spec.datatype) else { return nil }
                typed = true
            } else if s.bytes(k, equal: "shape"), shape == nil {
                guard s.take(UInt8(ascii: "[")) else { return nil }
                var dims: [Int] = []
                if !s.take(UInt8(ascii: "]")) {
                    repeat {
                        guard case .int(let d)? = s.number(), d >= 0, dims.count < 8 else { return nil }
                        dims.append(d)
                    } while s.take(UInt8(ascii: ","))
                    guard s.take(UInt8(ascii: "]")) else { return nil }
                }
                shape = dims
            } else if s.bytes(k, equal: "data"), data == nil {
                // Every number takes at least two bytes of the body: a bound for the reservation.
                var out: [Float] = []
                out.reserveCapacity(min(shape?.reduce(1, { $0 &* max($1, 1) }) ?? 0, limit / 2 + 1))
                // Nesting as `flatten` allows: arrays at depths 0 to 7.
                guard s.floats(into: &out, maxDepth: 8) else { return nil }
                data = out
            } else { return nil }
        } while s.take(UInt8(ascii: ","))
        guard s.take(UInt8(ascii: "}")), named, typed, let shape, let data,
              let checked = try? decodeShape(.array(shape.map { .int($0) }), field: "", spec: spec) else { return nil }
        var count = 1
        for d in checked {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 28 else { return nil }
            count = p
        }
        return data.count == count ? (checked[0], data) : nil
    }

    static func decodeShape(_ v: JSONValue?, field: String, spec: TensorSpec) throws -> [Int] {
        guard let v else { throw ServeError.badRequest("missing field '\(field)'") }
        guard case .array(let dims) = v else { throw ServeError.badRequest("'\(field)' must be a list of integers, got \(v.typeName)") }
        var shape: [Int] = []
        for d in dims {
            guard let n = d.integer, n >= 0 else {
                throw ServeError.badRequest("'\(field)' must be a list of non-negative integers")
            }
            shape.append(n)
        }
        let want = spec.shape.map { $0 < 0 ? "-1" : String($0) }.joined(separator: ", ")
        guard shape.count == spec.shape.count, zip(shape, spec.shape).allSatisfy({ $1 < 0 || $0 == $1 }), shape[0] >= 1 else {
            throw ServeError.badRequest("'\(field)' is \(shape), the model expects [\(want)] with at least one row")
        }
        return shape
    }

    /// Flat and nested data both work (Triton accepts both); nesting is bounded by the
    /// parser's depth limit.
    static func flatten(_ v: JSONValue, into out: inout [Float], field: String, depth: Int) throws {
        switch v {
        case .int(let n):
            out.append(Float(n))
        case .double(let x):
            let f = Float(x)
            guard f.isFinite else {
                throw ServeError.badRequest("'\(field)[\(out.count)]' is \(x.isNaN ? "NaN" : x.isInfinite ? "infinite" : "out of FP32 range") (only finite numbers are allowed)")
            }
            out.append(f)
        case .array(let items):
            guard depth < 8 else { throw ServeError.badRequest("'\(field)' is nested too deeply") }
            for item in items { try flatten(item, into: &out, field: field, depth: depth + 1) }
        default:
            throw ServeError.badRequest("'\(field)[\(out.count)]' must be a number, got \(v.typeName)")
        }
    }

    /// The response; binary outputs go after the JSON header (returned length for the
    /// `Inference-Header-Content-Length` header, nil when everything is JSON).
    static func encodeResponse(model: String, version: Int, id: String?, output: TensorSpec,
                               rows: Int, data: ArraySlice<Float>, binary: Bool) -> (body: [UInt8], headerLength: Int?) {
        var w = JSONWriter()
        w.raw("{\"model_name\":"); w.string(model)
        w.raw(",\"model_version\":\""); w.raw(String(version)); w.raw("\"")
        if let id { w.raw(",\"id\":"); w.string(id) }
        w.raw(",\"outputs\":[{\"name\":"); w.string(output.name)
        w.raw(",\"datatype\":\"FP32\",\"shape\":[")
        let width = rows == 0 ? 0 : data.count / rows
        w.raw(String(rows)); w.raw(","); w.raw(String(width)); w.raw("]")
        if binary {
            w.raw(",\"parameters\":{\"binary_data_size\":"); w.raw(String(data.count * 4)); w.raw("}}]}")
            let h = w.bytes.count
            data.withUnsafeBytes { w.bytes.append(contentsOf: $0) }
            return (w.bytes, h)
        }
        w.raw(",\"data\":[")
        w.floats(data)
        w.raw("]}]}")
        return (w.bytes, nil)
    }
}

extension InferenceCodec {
    /// Decodes and validates a V2 request body against a model's metadata without a server:
    /// the entry point of the `v2` fuzz target (Scripts/fuzz), which release builds compile
    /// without testability.
    public static func validateRequest(_ body: [UInt8], headerLength: Int?, input: TensorSpec, outputs: [TensorSpec]) throws {
        _ = try decodeRequest(body, headerLength: headerLength, input: input, outputs: outputs)
    }
}
