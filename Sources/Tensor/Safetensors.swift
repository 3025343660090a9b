import Foundation
import FileIO
import JSON

/// The safetensors format: 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, ...,
/// "__metadata__": {"k": "v"}}`, padded with spaces to a multiple of 8), then the raw
/// little-endian tensor bytes. Decoding validates everything and throws on bad input.
public enum Safetensors {
    static let maxHeader = 100_000_000
    /// Headers are flat (name -> {dtype, shape, data_offsets}); deeper nesting is hostile.
    static let maxHeaderDepth = 64

    static func code(_ d: DType) -> String {
        switch d {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int32: return "I32"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    static func dtype(_ code: String) -> DType? {
        ["F32": .float32, "F64": .float64, "I32": .int32, "I8": .int8, "U8": .uint8, "BOOL": .bool][code]
    }

    /// Serialises tensors (in the given order) and metadata to bytes.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let kv = metadata.keys.sorted().map { "\(jsonQuote($0)):\(jsonQuote(metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + kv.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, t) in tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw TensorError("safetensors", "duplicate or reserved tensor name '\(name)'")
            }
            let bytes = t.count * t.dtype.size
            entries.append("\(jsonQuote(name)):{\"dtype\":\"\(code(t.dtype))\",\"shape\":\(fmt(t.shape).replacingOccurrences(of: " ", with: "")),\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        var len = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for (_, t) in tensors {
            let c = t.contiguous()
            withExtendedLifetime(c) {
                out.append(contentsOf: UnsafeRawBufferPointer(start: c.basePointer, count: c.count * c.dtype.size))
            }
        }
        return out
    }

    /// Parses bytes produced by `encode` (or any conforming writer). Tensors come back in
    /// the order of their data offsets, which is the order they were written in.
    public static func decode(_ bytes: [UInt8]) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        func fail(_ m: String) -> TensorError { TensorError("safetensors", m) }
        guard bytes.count >= 8 else { throw fail("file too short (\(bytes.count) bytes) for the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(maxHeader), n <= UInt64(bytes.count - 8) else {
            throw fail("header length \(n) is invalid for a file of \(bytes.count) bytes")
        }
        let headerEnd = 8 + Int(n)
        let header: JSONValue
        do {
            header = try bytes.withUnsafeBytes { try JSONParser.parse(UnsafeRawBufferPointer(rebasing: $0[8..<headerEnd]), maxDepth: maxHeaderDepth) }
        } catch let e as JSONError { throw fail("bad JSON header at \(e)") }
        guard case let .object(items) = header else {
            throw fail("header is not a JSON object")
        }
        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var specs: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        var names = Set<String>()
        for (name, value) in items {
            if name == "__metadata__" {
                guard case let .object(kv) = value else { throw fail("__metadata__ must be an object of strings") }
                for (k, v) in kv {
                    guard case let .string(s) = v else { throw fail("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard names.insert(name).inserted else { throw fail("duplicate tensor name '\(name)'") }
            guard case .object = value else { throw fail("entry '\(name)' is not an object") }
            guard case let .string(code)? = value["dtype"] else { throw fail("entry '\(name)' has no dtype") }
            guard let dt = dtype(code) else { throw fail("entry '\(name)' has unknown dtype '\(code)'") }
            guard case let .array(sh)? = value["shape"] else { throw fail("entry '\(name)' has no shape") }
            let shape = try sh.map { v -> Int in
                guard let d = v.number, d >= 0, d == d.rounded(), d < 1e15 else { throw fail("entry '\(name)' has a bad shape") }
                return Int(d)
            }
            guard case let .array(offs)? = value["data_offsets"], offs.count == 2,
                  let b = offs[0].number, let e = offs[1].number,
                  b >= 0, e >= b, b == b.rounded(), e == e.rounded(), e <= Double(dataCount) else {
                throw fail("entry '\(name)' has data_offsets out of range (data is \(dataCount) bytes)")
            }
            let count = try ShapeUtil.count(shape, op: "safetensors")
            let (size, o) = count.multipliedReportingOverflow(by: dt.size)
            guard !o, size == Int(e) - Int(b) else {
                throw fail("entry '\(name)' of shape \(fmt(shape)) \(dt) needs \(o ? -1 : size) bytes but data_offsets span \(Int(e) - Int(b))")
            }
            specs.append((name, dt, shape, Int(b), Int(e)))
        }
        specs.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        for i in 1..<Swift.max(specs.count, 1) where specs[i].begin < specs[i - 1].end {
            throw fail("tensors '\(specs[i - 1].name)' and '\(specs[i].name)' overlap")
        }
        var tensors: [(String, Tensor)] = []
        try bytes.withUnsafeBytes { raw in
            for s in specs {
                let t = try Tensor(uninitialized: s.shape, dtype: s.dtype, op: "safetensors")
                if s.end > s.begin { t.basePointer.copyMemory(from: raw.baseAddress! + headerEnd + s.begin, byteCount: s.end - s.begin) }
                if s.dtype == .bool {
                    let p = t.ptr(UInt8.self)
                    for i in 0..<t.count where p[i] > 1 { throw fail("entry '\(s.name)' has a BOOL byte that is not 0 or 1") }
                }
                tensors.append((s.name, t))
            }
        }
        return (tensors, metadata)
    }

    /// Writes a .safetensors file.
    public static func save(_ path: String, _ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws {
        let bytes = try encode(tensors, metadata: metadata)
        do { try SafeWrite.write(bytes, to: path) } catch {
            throw TensorError("safetensors", "\(error)")
        }
    }

    /// Reads a .safetensors file.
    public static func load(_ path: String) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TensorError("safetensors", "cannot read '\(path)': \(error.localizedDescription)")
        }
        return try decode([UInt8](data))
    }
}

/// Free-function spellings used by the binding: `try saveSafetensors(path, tensors, metadata: [:])`.
public func saveSafetensors(_ path: String, _ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws {
    try Safetensors.save(path, tensors, metadata: metadata)
}

/// `let (tensors, meta) = try loadSafetensors(path)`.
public func loadSafetensors(_ path: String) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
    try Safetensors.load(path)
}
