import JSON

/// Request bodies are read with the `JSON` target's parser: nesting is capped at 64 levels
/// (far more than any inference request needs), and the `NaN`/`Infinity` tokens Python
/// clients send are parsed so the error can name the field that holds them.
let requestMaxDepth = 64

func parseRequestJSON(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
    do { return try JSONParser.parse(bytes, maxDepth: requestMaxDepth, allowNonFinite: true) }
    catch let e as JSONError {
        if e.kind == .tooDeep { throw ServeError.badRequest("JSON nested deeper than \(requestMaxDepth) levels") }
        throw ServeError.badRequest("malformed JSON at \(e)")
    }
}

func parseRequestJSON(_ bytes: [UInt8]) throws -> JSONValue {
    try bytes.withUnsafeBytes { try parseRequestJSON($0) }
}

/// Serve's files that write JSON but do not import the target (the routes) see its writer
/// through this name.
typealias JSONWriter = JSON.JSONWriter
