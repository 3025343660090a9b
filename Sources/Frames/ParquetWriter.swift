import FileIO
import Foundation

extension Dataset {
    /// Writes the dataset as a Parquet file that pyarrow, pandas, DuckDB and Spark read:
    /// every column OPTIONAL (missing cells as nulls); int -> INT64, float -> DOUBLE,
    /// string and category -> BYTE_ARRAY STRING (dictionary-encoded), datetime -> INT64
    /// TIMESTAMP(MICROS, UTC). Row groups of `rowGroupSize` rows, one data page (v1) per
    /// column chunk, min/max/null-count statistics per chunk. Through `SafeWrite`: a
    /// regular file is replaced atomically.
    ///
    ///     try ds.writeParquet(to: "out.parquet", compression: "zstd")
    public func writeParquet(to path: String, compression: String = "zstd", rowGroupSize: Int = 1 << 18) throws {
        guard let codec = ParquetCodec.named(compression) else {
            throw DataError(.badArgument, "compression must be \"zstd\", \"snappy\", \"gzip\" or \"none\", not \"\(compression)\"")
        }
        guard rowGroupSize > 0 else { throw DataError(.badArgument, "row group size must be positive") }
        guard !columns.isEmpty else { throw DataError(.badArgument, "a dataset with no columns cannot be written as Parquet") }
        guard Set(columnNames).count == columns.count else { throw DataError(.badArgument, "column names must be distinct") }
        var groups: [[ParquetWrittenChunk]] = []
        var groupRows: [Int] = []
        try SafeWrite.write(to: path) { emit in
            var offset = 0
            func put(_ bytes: [UInt8]) throws {
                try bytes.withUnsafeBytes { try emit($0) }
                offset += bytes.count
            }
            try put(Array("PAR1".utf8))
            var start = 0
            repeat {
                let end = Swift.min(start + rowGroupSize, rowCount)
                var chunks: [ParquetWrittenChunk] = []
                for c in columns {
                    let pages = try ParquetChunkWriter.encode(c, rows: start..<end, codec: codec)
                    var chunk = pages.meta
                    chunk.dictionaryOffset = pages.dictionary == nil ? nil : offset
                    if let d = pages.dictionary { try put(d) }
                    chunk.dataOffset = offset
                    try put(pages.data)
                    chunks.append(chunk)
                }
                groups.append(chunks)
                groupRows.append(end - start)
                start = end
            } while start < rowCount
            let footer = ParquetChunkWriter.footer(columns: columns, groups: groups, groupRows: groupRows, codec: codec, rows: rowCount)
            try put(footer)
            let n = UInt32(footer.count)
            try put([UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + Array("PAR1".utf8))
        }
    }
}

/// What the footer records about one written column chunk.
struct ParquetWrittenChunk {
    var physical: Int
    var encodings: [Int]
    var numValues: Int
    var uncompressed: Int
    var compressed: Int
    var dataOffset = 0
    var dictionaryOffset: Int?
    var nullCount: Int
    var min: [UInt8]?
    var max: [UInt8]?
}

enum ParquetChunkWriter {
    static func physical(_ c: Column) -> Int {
        switch c.data {
        case .int: return ParquetPhysical.int64.rawValue
        case .float: return ParquetPhysical.double.rawValue
        case .string, .category: return ParquetPhysical.byteArray.rawValue
        }
    }

    /// The chunk's pages (dictionary page, if any, and one data page), headers included.
    static func encode(_ c: Column, rows: Range<Int>, codec: ParquetCodec) throws
        -> (dictionary: [UInt8]?, data: [UInt8], meta: ParquetWrittenChunk) {
        let n = rows.count
        var values: [UInt8] = []
        var dictionaryPage: [UInt8]? = nil
        var encodings = [3]   // RLE definition levels
        var nulls = 0
        for r in rows where c.missing[r] { nulls += 1 }
        var minV: [UInt8]? = nil, maxV: [UInt8]? = nil
        switch c.data {
        case .int(let v):
            values.reserveCapacity((n - nulls) * 8)
            var lo = Int.max, hi = Int.min
            for r in rows where !c.missing[r] {
                withUnsafeBytes(of: Int64(v[r]).littleEndian) { values.append(contentsOf: $0) }
                lo = Swift.min(lo, v[r]); hi = Swift.max(hi, v[r])
            }
            if lo <= hi { minV = le(Int64(lo)); maxV = le(Int64(hi)) }
            encodings.append(0)
        case .float(let v):
            values.reserveCapacity((n - nulls) * 8)
            var lo = Double.infinity, hi = -Double.infinity
            for r in rows where !c.missing[r] {
                withUnsafeBytes(of: v[r].bitPattern.littleEndian) { values.append(contentsOf: $0) }
                if !v[r].isNaN { lo = Swift.min(lo, v[r]); hi = Swift.max(hi, v[r]) }
            }
            if lo <= hi { minV = le(Int64(bitPattern: (lo == 0 ? -0.0 : lo).bitPattern)); maxV = le(Int64(bitPattern: (hi == 0 ? 0.0 : hi).bitPattern)) }
            encodings.append(0)
        case .string, .category:
            // Dictionary of the chunk's distinct strings in first-seen order, indices bit-packed.
            var index: [String: UInt32] = [:], dict: [String] = [], idx: [UInt32] = []
            idx.reserveCapacity(n - nulls)
            let text = c.strings!
            for r in rows {
                guard let s = text[r], !c.missing[r] else { continue }
                if let i = index[s] { idx.append(i) } else {
                    let i = UInt32(dict.count); index[s] = i; dict.append(s); idx.append(i)
                }
            }
            var plain: [UInt8] = []
            for s in dict { appendByteArray(s, &plain) }
            if let lo = dict.min(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }),
               let hi = dict.max(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                minV = Array(lo.utf8); maxV = Array(hi.utf8)
            }
            let body = try codec.compress(plain)
            var h = ThriftWriter()
            h.beginStruct()
            h.i32(1, 2); h.i32(2, plain.count); h.i32(3, body.count)
            h.structure(7) { d in d.i32(1, dict.count); d.i32(2, 0) }
            h.endStruct()
            dictionaryPage = h.bytes + body
            let width = Swift.max(1, Int.bitWidth - Swift.max(dict.count - 1, 0).leadingZeroBitCount)
            values.append(UInt8(width))
            if !idx.isEmpty { bitPacked(idx, width: width, into: &values) }
            encodings += [0, 8]
        }
        // Definition levels: runs of present (1) and missing (0), RLE.
        var levels: [UInt8] = []
        var r = rows.lowerBound
        while r < rows.upperBound {
            let present = !c.missing[r]
            var e = r
            while e < rows.upperBound && !c.missing[e] == present { e += 1 }
            var w = ThriftWriter(); w.varint(UInt64(e - r) << 1)
            levels += w.bytes + [present ? 1 : 0]
            r = e
        }
        let n32 = UInt32(levels.count)
        let plain = [UInt8(n32 & 0xFF), UInt8(n32 >> 8 & 0xFF), UInt8(n32 >> 16 & 0xFF), UInt8(n32 >> 24)] + levels + values
        let body = try codec.compress(plain)
        var h = ThriftWriter()
        h.beginStruct()
        h.i32(1, 0); h.i32(2, plain.count); h.i32(3, body.count)
        h.structure(5) { d in
            d.i32(1, n); d.i32(2, encodings.last!); d.i32(3, 3); d.i32(4, 3)
            d.structure(5) { s in statistics(&s, nulls: nulls, min: minV, max: maxV) }
        }
        h.endStruct()
        let data = h.bytes + body
        let dictCount = dictionaryPage?.count ?? 0
        let meta = ParquetWrittenChunk(physical: physical(c), encodings: Array(Set(encodings)).sorted(), numValues: n,
                                       uncompressed: h.bytes.count + plain.count + dictCount, compressed: data.count + dictCount,
                                       nullCount: nulls, min: minV, max: maxV)
        return (dictionaryPage, data, meta)
    }

    static func le(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static func appendByteArray(_ s: String, _ out: inout [UInt8]) {
        let u = Array(s.utf8)
        let n = UInt32(u.count)
        out += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
        out += u
    }

    /// One bit-packed run of the RLE hybrid holding all `values` (padded to a multiple of 8).
    static func bitPacked(_ values: [UInt32], width: Int, into out: inout [UInt8]) {
        let groups = (values.count + 7) / 8
        var w = ThriftWriter(); w.varint(UInt64(groups) << 1 | 1)
        out += w.bytes
        var acc: UInt64 = 0, bits = 0
        for k in 0..<(groups * 8) {
            acc |= UInt64(k < values.count ? values[k] : 0) << UInt64(bits)
            bits += width
            while bits >= 8 { out.append(UInt8(acc & 0xFF)); acc >>= 8; bits -= 8 }
        }
        if bits > 0 { out.append(UInt8(acc & 0xFF)) }
    }

    static func statistics(_ s: inout ThriftWriter, nulls: Int, min: [UInt8]?, max: [UInt8]?) {
        s.i64(3, nulls)
        if let max { s.binary(5, max) }
        if let min { s.binary(6, min) }
    }

    static func footer(columns: [Column], groups: [[ParquetWrittenChunk]], groupRows: [Int], codec: ParquetCodec, rows: Int) -> [UInt8] {
        var w = ThriftWriter()
        w.beginStruct()
        w.i32(1, 1)
        w.structList(2, count: columns.count + 1) { i, e in
            if i == 0 { e.string(4, "schema"); e.i32(5, columns.count); return }
            let c = columns[i - 1]
            e.i32(1, physical(c)); e.i32(3, 1); e.string(4, c.name)
            switch (c.data, c.isDatetime) {
            case (.int, true):
                e.i32(6, 10)   // TIMESTAMP_MICROS
                e.structure(10) { l in l.structure(8) { t in t.bool(1, true); t.structure(2) { u in u.structure(2) { _ in } } } }
            case (.string, _), (.category, _):
                e.i32(6, 0)    // UTF8
                e.structure(10) { l in l.structure(1) { _ in } }
            default: break
            }
        }
        w.i64(3, rows)
        w.structList(4, count: groups.count) { g, rg in
            var bytes = 0
            rg.structList(1, count: columns.count) { j, cc in
                let m = groups[g][j]
                bytes += m.uncompressed
                cc.i64(2, m.dictionaryOffset ?? m.dataOffset)
                cc.structure(3) { md in
                    md.i32(1, m.physical)
                    md.listHeader(2, type: 5, count: m.encodings.count)
                    for e in m.encodings { md.zigzag(Int64(e)) }
                    md.listHeader(3, type: 8, count: 1); md.rawBinary(Array(columns[j].name.utf8))
                    md.i32(4, codec.rawValue)
                    md.i64(5, m.numValues); md.i64(6, m.uncompressed); md.i64(7, m.compressed)
                    md.i64(9, m.dataOffset)
                    if let d = m.dictionaryOffset { md.i64(11, d) }
                    md.structure(12) { s in statistics(&s, nulls: m.nullCount, min: m.min, max: m.max) }
                }
            }
            rg.i64(2, bytes)
            rg.i64(3, groupRows[g])
        }
        w.string(6, "mlw " + "parquet writer")
        w.structList(7, count: columns.count) { _, o in o.structure(1) { _ in } }   // TYPE_ORDER per column
        w.endStruct()
        return w.bytes
    }
}
