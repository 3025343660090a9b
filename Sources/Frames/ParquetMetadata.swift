import Foundation

/// Parquet's footer and page headers (parquet.thrift), the fields MLW reads and writes.
/// Decoded from `ThriftValue`s with every number range checked: a value that cannot be
/// right (a negative size, an unknown type) throws a message naming the field.
enum ParquetPhysical: Int {
    case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray
    var name: String {
        ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][rawValue]
    }
}

/// How a column's physical values read as MLW cells.
enum ParquetLogical: Equatable {
    case none, string, date, decimal(scale: Int, precision: Int)
    /// Timestamp units per second: 1_000, 1_000_000 or 1_000_000_000.
    case timestamp(perSecond: Int)
    case other(String)
}

struct ParquetLeaf {
    var name: String
    var physical: ParquetPhysical
    var typeLength: Int
    var optional: Bool
    var logical: ParquetLogical
}

struct ParquetChunk {
    var physical: Int
    var path: [String]
    var codec: Int
    var numValues: Int
    var compressedSize: Int
    var dataPageOffset: Int
    var dictionaryPageOffset: Int?
    /// The chunk's min/max (plain-encoded) and null count, when the writer gave them.
    var stats = ParquetStats()
    var start: Int { dictionaryPageOffset.map { $0 > 0 && $0 < dataPageOffset ? $0 : dataPageOffset } ?? dataPageOffset }
}

/// Column-chunk statistics for row-group skipping. `min`/`max` are plain-encoded values
/// (no length prefix for byte arrays); nil when absent or in an ordering not trusted here.
struct ParquetStats {
    var min: [UInt8]?
    var max: [UInt8]?
    var nullCount: Int?

    /// Statistics field 6/5 (min_value/max_value); for numbers also the older 2/1
    /// (min/max, signed order, which byte arrays do not follow).
    init(_ f: [Int16: ThriftValue]? = nil, physical: Int = 0) {
        guard let f else { return }
        min = f[6]?.binary; max = f[5]?.binary
        if physical != 6 && physical != 7 && (min == nil || max == nil) {
            min = f[2]?.binary; max = f[1]?.binary
        }
        if min == nil || max == nil { min = nil; max = nil }
        nullCount = f[3]?.int.map { Int(clamping: $0) }
    }
}

struct ParquetRowGroup {
    var numRows: Int
    var chunks: [ParquetChunk]
}

struct ParquetFileMeta {
    var leaves: [ParquetLeaf]
    var numRows: Int
    var rowGroups: [ParquetRowGroup]
}

struct ParquetPageHeader {
    var type: Int
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues = 0
    var encoding = 0
    var defEncoding = 3
    // v2
    var numNulls = 0
    var numRows = 0
    var defLength = 0
    var repLength = 0
    var isCompressed = true
}

enum ParquetMeta {
    /// Limits on counts read from a footer: far above real files, below what would exhaust memory.
    static let maxColumns = 100_000
    static let maxRowGroups = 1_000_000

    static func int(_ f: [Int16: ThriftValue], _ id: Int16, _ what: String, required: Bool = true,
                    range: ClosedRange<Int64> = 0...Int64(Int.max)) throws -> Int? {
        guard let v = f[id] else {
            if required { throw ThriftError("\(what) is missing") }
            return nil
        }
        guard let i = v.int else { throw ThriftError("\(what) is not an integer") }
        guard range.contains(i) else { throw ThriftError("\(what) is \(i), out of range \(range.lowerBound)...\(range.upperBound)") }
        return Int(i)
    }

    static func fileMeta(_ f: [Int16: ThriftValue]) throws -> ParquetFileMeta {
        guard let schema = f[2]?.list, !schema.isEmpty else { throw ThriftError("the schema is missing") }
        guard schema.count <= maxColumns + 1 else { throw ThriftError("schema has \(schema.count) elements, more than \(maxColumns)") }
        var leaves: [ParquetLeaf] = []
        let root = schema[0].fields ?? [:]
        let rootChildren = try int(root, 5, "root num_children", required: false) ?? 0
        guard rootChildren == schema.count - 1 else {
            throw ThriftError("nested columns are not supported (only flat schemas: every column a top-level primitive); the schema has groups")
        }
        for (k, el) in schema.dropFirst().enumerated() {
            guard let e = el.fields else { throw ThriftError("schema element \(k + 1) is not a struct") }
            let name = e[4]?.string ?? "#\(k)"
            if let c = try int(e, 5, "num_children", required: false), c > 0 {
                throw ThriftError("column '\(name)' is nested (a group of \(c)): only flat schemas are supported")
            }
            let rep = try int(e, 3, "column '\(name)' repetition_type", required: false, range: 0...2) ?? 0
            if rep == 2 { throw ThriftError("column '\(name)' is repeated (a list): only flat schemas are supported") }
            guard let t = try int(e, 1, "column '\(name)' type", range: 0...7), let physical = ParquetPhysical(rawValue: t) else {
                throw ThriftError("column '\(name)' has no type")
            }
            let typeLength = try int(e, 2, "column '\(name)' type_length", required: false, range: 0...(1 << 20)) ?? 0
            leaves.append(ParquetLeaf(name: name, physical: physical, typeLength: typeLength, optional: rep == 1,
                                      logical: try logical(e, name)))
        }
        let numRows = try int(f, 3, "num_rows")!
        let groups = f[4]?.list ?? []
        guard groups.count <= maxRowGroups else { throw ThriftError("\(groups.count) row groups, more than \(maxRowGroups)") }
        var rowGroups: [ParquetRowGroup] = []
        var total = 0
        for (g, rg) in groups.enumerated() {
            guard let r = rg.fields, let cols = r[1]?.list else { throw ThriftError("row group \(g) has no columns") }
            let n = try int(r, 3, "row group \(g) num_rows")!
            total = total.addingReportingOverflow(n).partialValue
            guard cols.count == leaves.count else {
                throw ThriftError("row group \(g) has \(cols.count) column chunks for \(leaves.count) columns")
            }
            var chunks: [ParquetChunk] = []
            for (j, c) in cols.enumerated() {
                let what = "row group \(g) column '\(leaves[j].name)'"
                guard let cf = c.fields else { throw ThriftError("\(what): chunk is not a struct") }
                if cf[1] != nil { throw ThriftError("\(what): column data in another file (file_path) is not supported") }
                guard let m = cf[3]?.fields else { throw ThriftError("\(what): chunk has no metadata") }
                chunks.append(ParquetChunk(
                    physical: try int(m, 1, "\(what) type", range: 0...7)!,
                    path: (m[3]?.list ?? []).compactMap(\.string),
                    codec: try int(m, 4, "\(what) codec", range: 0...100)!,
                    numValues: try int(m, 5, "\(what) num_values")!,
                    compressedSize: try int(m, 7, "\(what) total_compressed_size")!,
                    dataPageOffset: try int(m, 9, "\(what) data_page_offset")!,
                    dictionaryPageOffset: try int(m, 11, "\(what) dictionary_page_offset", required: false),
                    stats: ParquetStats(m[12]?.fields, physical: Int(m[1]?.int ?? 0))))
                guard chunks[j].physical == leaves[j].physical.rawValue else {
                    throw ThriftError("\(what): chunk type \(chunks[j].physical) differs from the schema's \(leaves[j].physical.name)")
                }
            }
            rowGroups.append(ParquetRowGroup(numRows: n, chunks: chunks))
        }
        guard total == numRows else { throw ThriftError("row groups hold \(total) rows, the footer says \(numRows)") }
        return ParquetFileMeta(leaves: leaves, numRows: numRows, rowGroups: rowGroups)
    }

    static func logical(_ e: [Int16: ThriftValue], _ name: String) throws -> ParquetLogical {
        if let lt = e[10]?.fields {
            if lt[1] != nil || lt[4] != nil || lt[12] != nil { return .string }
            if let d = lt[5]?.fields {
                return .decimal(scale: try int(d, 1, "column '\(name)' decimal scale", range: 0...76)!,
                                precision: try int(d, 2, "column '\(name)' decimal precision", range: 1...76)!)
            }
            if lt[6] != nil { return .date }
            if let t = lt[8]?.fields {
                let unit = t[2]?.fields ?? [:]
                if unit[1] != nil { return .timestamp(perSecond: 1_000) }
                if unit[2] != nil { return .timestamp(perSecond: 1_000_000) }
                if unit[3] != nil { return .timestamp(perSecond: 1_000_000_000) }
                throw ThriftError("column '\(name)': timestamp without a unit")
            }
            if lt[10] != nil || lt[11] != nil { return .none }
            if lt[7] != nil { return .other("TIME") }
            if lt[14] != nil { return .other("UUID") }
            if lt[15] != nil { return .other("FLOAT16") }
            if lt[2] != nil || lt[3] != nil { return .other("nested") }
        }
        switch try int(e, 6, "column '\(name)' converted_type", required: false, range: 0...100) {
        case 0?, 4?, 19?: return .string   // UTF8, ENUM, JSON
        case 5?:
            return .decimal(scale: try int(e, 7, "column '\(name)' scale", required: false, range: 0...76) ?? 0,
                            precision: try int(e, 8, "column '\(name)' precision", required: false, range: 1...76) ?? 38)
        case 6?: return .date
        case 9?: return .timestamp(perSecond: 1_000)
        case 10?: return .timestamp(perSecond: 1_000_000)
        case 7?, 8?: return .other("TIME")
        default: return .none
        }
    }

    static func pageHeader(_ f: [Int16: ThriftValue]) throws -> ParquetPageHeader {
        let maxPage = Int64(Int32.max)
        var h = ParquetPageHeader(type: try int(f, 1, "page type", range: 0...3)!,
                                  uncompressedSize: try int(f, 2, "uncompressed_page_size", range: 0...maxPage)!,
                                  compressedSize: try int(f, 3, "compressed_page_size", range: 0...maxPage)!)
        if h.type == 0 {
            guard let d = f[5]?.fields else { throw ThriftError("data page without its header") }
            h.numValues = try int(d, 1, "num_values", range: 0...maxPage)!
            h.encoding = try int(d, 2, "encoding", range: 0...9)!
            h.defEncoding = try int(d, 3, "definition_level_encoding", range: 0...9)!
        } else if h.type == 2 {
            guard let d = f[7]?.fields else { throw ThriftError("dictionary page without its header") }
            h.numValues = try int(d, 1, "num_values", range: 0...maxPage)!
            h.encoding = try int(d, 2, "encoding", range: 0...9)!
        } else if h.type == 3 {
            guard let d = f[8]?.fields else { throw ThriftError("data page v2 without its header") }
            h.numValues = try int(d, 1, "num_values", range: 0...maxPage)!
            h.numNulls = try int(d, 2, "num_nulls", range: 0...maxPage)!
            h.numRows = try int(d, 3, "num_rows", range: 0...maxPage)!
            h.encoding = try int(d, 4, "encoding", range: 0...9)!
            h.defLength = try int(d, 5, "definition_levels_byte_length", range: 0...maxPage)!
            h.repLength = try int(d, 6, "repetition_levels_byte_length", range: 0...maxPage)!
            h.isCompressed = d[7]?.bool ?? true
        }
        return h
    }
}
