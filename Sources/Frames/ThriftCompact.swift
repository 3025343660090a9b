import Foundation

/// Thrift's compact protocol, the encoding of Parquet's footer and page headers, by hand:
/// a generic reader into `ThriftValue` (structs as field id -> value) and a writer.
///
/// Every length and count read is checked against the bytes left before anything is
/// allocated (a list of n elements needs at least n bytes, a string of n bytes n bytes),
/// and nesting is limited to `maxDepth`, so a lying header throws `ThriftError` instead of
/// allocating or recursing without bound.
indirect enum ThriftValue {
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case binary([UInt8])
    case list([ThriftValue])
    case map([(ThriftValue, ThriftValue)])
    case structure([Int16: ThriftValue])

    var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
    var binary: [UInt8]? { if case .binary(let v) = self { return v }; return nil }
    var list: [ThriftValue]? { if case .list(let v) = self { return v }; return nil }
    var fields: [Int16: ThriftValue]? { if case .structure(let v) = self { return v }; return nil }
    var string: String? { binary.flatMap { String(validating: $0, as: UTF8.self) } }
}

struct ThriftError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Reads compact-protocol values from `bytes[start..<end]`; `position` is where it stopped.
/// A reader of single bytes; ULEB128 varints and zigzag integers on top (Thrift's compact
/// protocol and Parquet's RLE/DELTA encodings use the same two).
protocol VarintSource {
    mutating func byte() throws -> UInt8
}

extension VarintSource {
    mutating func varint() throws -> UInt64 {
        var shift: UInt64 = 0, out: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ThriftError("varint longer than 10 bytes") }
            out |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return out }
            shift += 7
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}

struct ThriftReader: VarintSource {
    static let maxDepth = 64
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes; position = start; self.end = end ?? bytes.count
    }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw ThriftError("metadata ends early (truncated)") }
        defer { position += 1 }
        return bytes[position]
    }


    /// A whole struct (after its opening; up to and including its stop field).
    mutating func readStruct(depth: Int = 0) throws -> [Int16: ThriftValue] {
        guard depth < ThriftReader.maxDepth else { throw ThriftError("metadata nested deeper than \(ThriftReader.maxDepth) levels") }
        var fields: [Int16: ThriftValue] = [:]
        var last: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return fields }
            let type = header & 0x0F, delta = header >> 4
            let id: Int16
            if delta == 0 {
                let z = try zigzag()
                guard z >= Int64(Int16.min), z <= Int64(Int16.max) else { throw ThriftError("field id \(z) out of range") }
                id = Int16(z)
            } else {
                id = last &+ Int16(delta)
            }
            last = id
            switch type {
            case 1: fields[id] = .bool(true)
            case 2: fields[id] = .bool(false)
            default: fields[id] = try value(type: type, depth: depth + 1)
            }
        }
    }

    mutating func value(type: UInt8, depth: Int) throws -> ThriftValue {
        switch type {
        case 1, 2: return .bool(try byte() == 1)   // inside lists: one byte per bool
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            guard end - position >= 8 else { throw ThriftError("metadata ends early (truncated double)") }
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
            position += 8
            return .double(Double(bitPattern: bits))
        case 8:
            let n = try varint()
            guard n <= UInt64(end - position) else { throw ThriftError("string of \(n) bytes runs past the end of the metadata") }
            let out = Array(bytes[position..<(position + Int(n))])
            position += Int(n)
            return .binary(out)
        case 9, 10:
            let h = try byte()
            var count = UInt64(h >> 4)
            if count == 15 { count = try varint() }
            guard count <= UInt64(end - position) else { throw ThriftError("list of \(count) elements runs past the end of the metadata") }
            let et = h & 0x0F
            var items: [ThriftValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try element(type: et, depth: depth)) }
            return .list(items)
        case 11:
            let count = try varint()
            guard count <= UInt64(end - position) else { throw ThriftError("map of \(count) entries runs past the end of the metadata") }
            if count == 0 { return .map([]) }
            let kv = try byte()
            var items: [(ThriftValue, ThriftValue)] = []
            for _ in 0..<Int(count) {
                items.append((try element(type: kv >> 4, depth: depth), try element(type: kv & 0x0F, depth: depth)))
            }
            return .map(items)
        case 12: return .structure(try readStruct(depth: depth))
        default: throw ThriftError("unknown field type \(type)")
        }
    }

    private mutating func element(type: UInt8, depth: Int) throws -> ThriftValue {
        guard depth < ThriftReader.maxDepth else { throw ThriftError("metadata nested deeper than \(ThriftReader.maxDepth) levels") }
        return try value(type: type, depth: depth + 1)
    }
}

/// Writes compact-protocol structs: `field...` calls between `beginStruct` / `endStruct`.
struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    private mutating func header(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 { bytes.append(UInt8(delta) << 4 | type) }
        else { bytes.append(type); zigzag(Int64(id)) }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int) { header(id, 5); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int) { header(id, 6); zigzag(Int64(v)) }
    mutating func bool(_ id: Int16, _ v: Bool) { header(id, v ? 1 : 2) }
    mutating func binary(_ id: Int16, _ v: [UInt8]) { header(id, 8); rawBinary(v) }
    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    mutating func rawBinary(_ v: [UInt8]) { varint(UInt64(v.count)); bytes.append(contentsOf: v) }

    /// A struct field; `body` writes its fields.
    mutating func structure(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        header(id, 12)
        beginStruct(); body(&self); endStruct()
    }

    mutating func beginStruct() { lastField.append(0) }
    mutating func endStruct() { bytes.append(0); lastField.removeLast() }

    /// A list header of `count` elements of compact type `type` (5 i32, 8 binary, 12 struct).
    mutating func listHeader(_ id: Int16, type: UInt8, count: Int) {
        header(id, 9)
        if count < 15 { bytes.append(UInt8(count) << 4 | type) } else { bytes.append(0xF0 | type); varint(UInt64(count)) }
    }

    /// A list of structs, each written by `body(index, &writer)`.
    mutating func structList(_ id: Int16, count: Int, _ body: (Int, inout ThriftWriter) -> Void) {
        listHeader(id, type: 12, count: count)
        for i in 0..<count { beginStruct(); body(i, &self); endStruct() }
    }
}
