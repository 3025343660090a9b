import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads Parquet files (flat schemas) into a dataset, one column chunk at a time.
///
///     let ds = try readParquet("data/transactions.parquet", columns: ["user_id", "amount", "ts"])
///     let all = try readParquet("data/part-*.parquet")   // a glob: files in name order, same schema
///
/// Types: BOOLEAN and integers -> int; FLOAT, DOUBLE and DECIMAL -> float; strings
/// (BYTE_ARRAY) -> string; DATE and TIMESTAMP (millis, micros, nanos) -> datetime.
/// Encodings PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE, DELTA_BINARY_PACKED,
/// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; codecs UNCOMPRESSED,
/// SNAPPY, GZIP, ZSTD; data pages v1 and v2. Nested columns, INT96 and other codecs are
/// refused by name. Every size and offset in the file is checked against the file and the
/// page it lies in; errors name the file, the row group, the page and the column.
///
/// `shard:` reads only part `rank` of `size`: the row groups whose first row (counted over
/// all the files, in name order) lies in that part's share of the rows, so shards 0..<size
/// together are the whole table in order. `filter:` keeps the rows where the expression is
/// true, and skips row groups whose statistics rule it out (`ParquetPushdown`); `stats`
/// counts them.
public func readParquet(_ pathOrGlob: String, columns: [String]? = nil, filter: ColumnExpr? = nil,
                        shard: Shard? = nil, fileHashCache: FileHashCache? = nil,
                        stats: ParquetScanStats? = nil) throws -> Dataset {
    let paths = try parquetPaths(pathOrGlob)
    // The files' content hashes (lineage) run on the other core while this one decodes.
    let hashes = ParquetHashJob()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        do { hashes.result = .success(try paths.map { try fileHashCache?.hash(ofFile: $0) ?? SHA256.hexOfFile($0) }) }
        catch { hashes.result = .failure(error) }
    }
    defer { group.wait() }
    // Row groups to read per file: all, or those of this shard that the filter may match.
    var groups: [[Int]?] = Array(repeating: nil, count: paths.count)
    if shard != nil || filter != nil || stats != nil {
        let metas = try paths.map { try ParquetFileReader(path: $0).metadata() }
        let total = metas.reduce(0) { $0 + $1.numRows }
        var first = 0
        for (k, meta) in metas.enumerated() {
            var keep: [Int] = []
            for (g, rg) in meta.rowGroups.enumerated() {
                defer { first += rg.numRows }
                stats?.rowGroups += 1
                if let shard, !shard.owns(first, of: total) { stats?.otherShards += 1; continue }
                if let filter, !ParquetPushdown.mayMatch(filter, rg, meta.leaves) { stats?.skippedByFilter += 1; continue }
                keep.append(g)
            }
            groups[k] = keep
        }
    }
    // The filter's columns are read too, and dropped after filtering.
    var read = columns
    if let columns, let filter { read = columns + filter.columns.filter { !columns.contains($0) } }
    var parts: [Dataset] = []
    for (k, p) in paths.enumerated() {
        parts.append(try ParquetFileReader(path: p).read(columns: read, groups: groups[k]))
    }
    var ds = parts[0]
    for (k, part) in parts.enumerated().dropFirst() {
        guard part.columns.map({ "\($0.name):\($0.type)" }) == ds.columns.map({ "\($0.name):\($0.type)" }) else {
            throw DataError(.typeConflict, "columns (\(part.columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", "))) differ from \(paths[0])'s", file: paths[k])
        }
        for j in ds.columns.indices { ds.columns[j].appendRows(part.columns[j]) }
        ds.sourceLines += part.sourceLines
    }
    group.wait()
    let fileHashes = try hashes.result!.get()
    var hash = fileHashes[0]
    if paths.count > 1 {
        var h = SHA256()
        for x in fileHashes { h.update(x); h.update("\n") }
        hash = h.finalizeHex()
    }
    var params = "files=\(paths.count)"
    if let read { params += " columns=" + read.joined(separator: ",") }
    if let shard { params += " shard=\(shard)" }
    ds.lineage = Lineage(source: "read_parquet", contentHash: hash, params: params)
    if let filter {
        ds = try ds.filter(filter)
        if let columns, read != columns { ds = try ds.select(columns) }
    }
    return ds
}

private final class ParquetHashJob: @unchecked Sendable {
    var result: Result<[String], Error>?
}

/// The files a path or glob names (sorted); a glob that matches nothing is an error.
func parquetPaths(_ pattern: String) throws -> [String] {
    guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
    var g = glob_t()
    defer { globfree(&g) }
    guard glob(pattern, 0, nil, &g) == 0, g.gl_pathc > 0 else {
        throw DataError(.io, "no files match this pattern", file: pattern)
    }
    return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
}

extension Column {
    /// Appends `other`'s rows (same name and type; checked by the caller).
    fileprivate mutating func appendRows(_ other: Column) {
        switch (data, other.data) {
        case (.int(var a), .int(let b)): data = .int([]); a += b; data = .int(a)
        case (.float(var a), .float(let b)): data = .float([]); a += b; data = .float(a)
        case (.string(var a), .string(let b)): data = .string([]); a += b; data = .string(a)
        default: break
        }
        missing += other.missing
    }
}

struct ParquetFileReader {
    let path: String
    /// Largest page, compressed or not: pages are megabytes in practice.
    static let maxPageBytes = 1 << 30

    /// The footer alone (for choosing row groups before reading).
    func metadata() throws -> ParquetFileMeta {
        let (fd, size) = try InputFile.openRegular(path)
        defer { close(fd) }
        return try footer(fd, size).meta
    }

    private func footer(_ fd: Int32, _ size: Int) throws -> (meta: ParquetFileMeta, dataEnd: Int) {
        func fail(_ m: String, column: String? = nil) -> DataError { DataError(.io, m, file: path, column: column) }
        guard size >= 12 else { throw fail("not a Parquet file: \(size) bytes, too short for the PAR1 header and footer") }
        let tail = try pread(fd, at: size - 8, count: 8)
        guard Array(tail[4...]) == Array("PAR1".utf8) else { throw fail("not a Parquet file: no PAR1 magic at the end (truncated?)") }
        guard try pread(fd, at: 0, count: 4) == Array("PAR1".utf8) else { throw fail("not a Parquet file: no PAR1 magic at the start") }
        let metaLen = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard metaLen > 0, metaLen <= size - 12 else { throw fail("footer length \(metaLen) does not fit in a file of \(size) bytes") }
        let metaBytes = try pread(fd, at: size - 8 - metaLen, count: metaLen)
        let meta: ParquetFileMeta
        do {
            meta = try metaBytes.withUnsafeBufferPointer { b in
                var r = ThriftReader(b)
                return try ParquetMeta.fileMeta(try r.readStruct())
            }
        } catch let e as ThriftError { throw fail("bad footer: \(e)") }
        return (meta, size - 8 - metaLen)
    }

    /// Reads `columns` (all when nil) of row groups `groups` (all when nil, else in that order).
    func read(columns wanted: [String]?, groups: [Int]? = nil) throws -> Dataset {
        let (fd, size) = try InputFile.openRegular(path)
        defer { close(fd) }
        func fail(_ m: String, column: String? = nil) -> DataError { DataError(.io, m, file: path, column: column) }
        let (meta, dataEnd) = try footer(fd, size)
        let groups = groups ?? Array(meta.rowGroups.indices)
        let numRows = groups.reduce(0) { $0 + meta.rowGroups[$1].numRows }
        var pick: [Int] = []
        if let wanted {
            for name in wanted {
                guard let j = meta.leaves.firstIndex(where: { $0.name == name }) else {
                    throw DataError(.unknownColumn, "no column named '\(name)' (have: \(meta.leaves.map(\.name).joined(separator: ", ")))", file: path)
                }
                pick.append(j)
            }
        } else {
            pick = Array(meta.leaves.indices)
        }
        // Rows x columns x (8 bytes + a missing flag) must fit in memory before anything is made.
        let cells = numRows.multipliedReportingOverflow(by: max(pick.count, 1))
        guard !cells.overflow, cells.partialValue <= physicalMemoryBytes / 18 else {
            throw DataError(.tooLarge, "\(numRows) rows x \(pick.count) columns would not fit in memory", file: path)
        }
        var out: [Column] = []
        for j in pick {
            let leaf = meta.leaves[j]
            var acc = try ParquetColumnBuilder(leaf: leaf, path: path)
            acc.reserve(numRows)
            for g in groups {
                let rg = meta.rowGroups[g]
                let chunk = rg.chunks[j]
                let place = "row group \(g)"
                guard ParquetCodec(rawValue: chunk.codec) != nil else {
                    throw fail("\(place): compression \(ParquetCodec.name(of: chunk.codec)) is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD are)", column: leaf.name)
                }
                let start = chunk.start, len = chunk.compressedSize
                guard start >= 4, len >= 0, len <= dataEnd, start <= dataEnd - len else {
                    throw fail("\(place): column chunk at \(start), \(len) bytes, lies outside the data (4..<\(dataEnd))", column: leaf.name)
                }
                let bytes = try pread(fd, at: start, count: len)
                try acc.readChunk(bytes, rows: rg.numRows, codec: ParquetCodec(rawValue: chunk.codec)!, place: place)
            }
            out.append(acc.finish())
        }
        // The caller sets the lineage from the file's hash (hashing the columns here would cost
        // as much as a fifth of the read).
        return Dataset(columns: out, sourceLines: [Int](repeating: 0, count: numRows),
                       lineage: Lineage(source: "read_parquet", contentHash: ""))
    }

    private func pread(_ fd: Int32, at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DataError(.io, "read failed at byte \(offset + done) (file shrank?)", file: path) }
            done += n
        }
        return out
    }
}

/// One output column, filled page by page.
struct ParquetColumnBuilder {
    enum Target { case int, float, string }
    let leaf: ParquetLeaf
    let path: String
    let target: Target
    var ints: [Int] = []
    var doubles: [Double] = []
    var strings: [String] = []
    var missing: [Bool] = []
    /// The current chunk's dictionary, converted to the target.
    var dictInts: [Int] = [], dictDoubles: [Double] = [], dictStrings: [String] = []
    var dictCount = -1

    init(leaf: ParquetLeaf, path: String) throws {
        self.leaf = leaf; self.path = path
        func refuse(_ m: String) -> DataError { DataError(.typeConflict, m, file: path, column: leaf.name) }
        switch (leaf.physical, leaf.logical) {
        case (.int96, _): throw refuse("INT96 timestamps are not supported (write TIMESTAMP(MICROS) instead)")
        case (_, .other(let t)): throw refuse("logical type \(t) is not supported")
        case (.float, _), (.double, _), (_, .decimal): target = .float
        case (.boolean, _), (.int32, _), (.int64, _): target = .int
        case (.byteArray, _): target = .string
        case (.fixedLenByteArray, _): throw refuse("FIXED_LEN_BYTE_ARRAY is read only as a DECIMAL")
        }
    }

    func fail(_ place: String, _ m: String) -> DataError { DataError(.io, "\(place): \(m)", file: path, column: leaf.name) }

    /// Room for the rows the footer announces (already checked to fit in memory), so the
    /// columns never regrow page by page.
    mutating func reserve(_ rows: Int) {
        missing.reserveHuge(rows)
        switch target {
        case .int: ints.reserveHuge(rows)
        case .float: doubles.reserveHuge(rows)
        case .string: strings.reserveCapacity(rows)
        }
    }

    mutating func readChunk(_ bytes: [UInt8], rows: Int, codec: ParquetCodec, place: String) throws {
        dictCount = -1
        var pos = 0, got = 0, page = 0
        while got < rows {
            let here = "\(place), page \(page)"
            guard pos < bytes.count else { throw fail(here, "the column chunk ends after \(got) of \(rows) rows") }
            let header: ParquetPageHeader
            do {
                header = try bytes.withUnsafeBufferPointer { b in
                    var r = ThriftReader(b, start: pos)
                    let h = try ParquetMeta.pageHeader(try r.readStruct())
                    pos = r.position
                    return h
                }
            } catch let e as ThriftError { throw fail(here, "bad page header: \(e)") }
            guard header.compressedSize <= bytes.count - pos else {
                throw fail(here, "page of \(header.compressedSize) bytes runs past the column chunk (\(bytes.count - pos) left)")
            }
            guard header.uncompressedSize <= ParquetFileReader.maxPageBytes else {
                throw fail(here, "page claims \(header.uncompressedSize) bytes uncompressed, over the limit of \(ParquetFileReader.maxPageBytes)")
            }
            let body = pos..<(pos + header.compressedSize)
            pos = body.upperBound
            do {
                switch header.type {
                case 2:
                    guard dictCount < 0 else { throw ThriftError("a second dictionary page") }
                    let plain = try bytes[body].withUnsafeBytes { try codec.decompress($0, size: header.uncompressedSize) }
                    try readDictionary(plain, count: header.numValues)
                case 0:
                    guard header.numValues <= rows - got else { throw ThriftError("page holds \(header.numValues) values, more than the \(rows - got) rows left") }
                    let plain = try bytes[body].withUnsafeBytes { try codec.decompress($0, size: header.uncompressedSize) }
                    try plain.withUnsafeBytes { p in
                        var b = ParquetBytes(p)
                        var defs: [UInt64]? = nil
                        if leaf.optional {
                            guard header.defEncoding == 3 else { throw ThriftError("definition levels encoded as \(header.defEncoding) (only RLE is supported)") }
                            let n = Int(try b.le32())
                            try b.need(n, "definition levels")
                            var d = ParquetBytes(p, start: b.pos, end: b.pos + n)
                            defs = try d.hybrid(header.numValues, width: 1)
                            b.pos += n
                        }
                        try readValues(&b, count: header.numValues, defs: defs, encoding: header.encoding)
                    }
                    got += header.numValues
                case 3:
                    guard header.numRows <= rows - got, header.numValues == header.numRows else {
                        throw ThriftError("page holds \(header.numRows) rows and \(header.numValues) values; \(rows - got) rows are left")
                    }
                    guard header.repLength == 0, header.defLength <= header.compressedSize - header.repLength,
                          header.defLength <= header.uncompressedSize else {
                        throw ThriftError("level lengths (\(header.repLength), \(header.defLength)) do not fit the page")
                    }
                    let levels = body.lowerBound..<(body.lowerBound + header.defLength)
                    let values = levels.upperBound..<body.upperBound
                    let valueSize = header.uncompressedSize - header.defLength
                    let plain = try bytes[values].withUnsafeBytes {
                        try (header.isCompressed ? codec : .uncompressed).decompress($0, size: valueSize)
                    }
                    var defs: [UInt64]? = nil
                    if leaf.optional {
                        defs = try bytes[levels].withUnsafeBytes { p in
                            var d = ParquetBytes(p)
                            return try d.hybrid(header.numValues, width: 1)
                        }
                    }
                    try plain.withUnsafeBytes { p in
                        var b = ParquetBytes(p)
                        try readValues(&b, count: header.numValues, defs: defs, encoding: header.encoding)
                    }
                    got += header.numValues
                default:
                    break   // index pages: skipped
                }
            } catch let e as ThriftError { throw fail(here, e.description) }
            page += 1
        }
    }

    /// Decoded target values of one page (non-null ones only).
    enum Values { case ints([Int]), doubles([Double]), strings([String]) }

    mutating func readDictionary(_ plain: [UInt8], count: Int) throws {
        let v = try plain.withUnsafeBytes { p -> Values in
            var b = ParquetBytes(p)
            return try decode(&b, count: count, encoding: 0)
        }
        switch v {
        case .ints(let x): dictInts = x
        case .doubles(let x): dictDoubles = x
        case .strings(let x): dictStrings = x
        }
        dictCount = count
    }

    mutating func readValues(_ b: inout ParquetBytes, count: Int, defs: [UInt64]?, encoding: Int) throws {
        let present = defs.map { $0.reduce(0) { $0 + Int($1 & 1) } } ?? count
        if let defs, defs.contains(where: { $0 > 1 }) { throw ThriftError("definition level above 1 in a flat column") }
        let values: Values
        if encoding == 2 || encoding == 8 {
            guard dictCount >= 0 else { throw ThriftError("dictionary-encoded page without a dictionary page") }
            let width = Int(try b.byte())
            let idx = present == 0 ? [] : try b.hybrid(present, width: width)
            for i in idx where i >= UInt64(dictCount) { throw ThriftError("dictionary index \(i) out of range (\(dictCount) entries)") }
            switch target {
            case .int: values = .ints(idx.map { dictInts[Int($0)] })
            case .float: values = .doubles(idx.map { dictDoubles[Int($0)] })
            case .string: values = .strings(idx.map { dictStrings[Int($0)] })
            }
        } else {
            values = try decode(&b, count: present, encoding: encoding)
        }
        // Scatter: present values into rows whose definition level is 1.
        let base = missing.count
        missing.append(contentsOf: repeatElement(false, count: count))
        if let defs, present < count { for (i, d) in defs.enumerated() where d == 0 { missing[base + i] = true } }
        func scatter<T>(_ v: [T], _ fill: T, _ out: inout [T]) {
            if present == count { out += v; return }
            var k = 0
            out.reserveCapacity(out.count + count)
            for d in defs! { if d == 1 { out.append(v[k]); k += 1 } else { out.append(fill) } }
        }
        switch values {
        case .ints(let v): scatter(v, 0, &ints)
        case .doubles(let v): scatter(v, .nan, &doubles)
        case .strings(let v): scatter(v, "", &strings)
        }
    }

    /// `count` values in `encoding`, converted to the target type.
    func decode(_ b: inout ParquetBytes, count: Int, encoding: Int) throws -> Values {
        let phys = leaf.physical
        switch encoding {
        case 0, 2:   // PLAIN (PLAIN_DICTIONARY in a dictionary page means plain)
            switch phys {
            case .boolean:
                var raw: [UInt64] = []
                try b.unpack(count, width: 1, into: &raw)
                return .ints(raw.map { Int($0) })
            case .int32:
                try b.need(count * 4, "\(count) INT32 values")
                let p = b.p, s = b.pos
                b.pos += count * 4
                return try ints((0..<count).map { Int64(Int32(bitPattern: p.loadUnaligned(fromByteOffset: s + 4 * $0, as: UInt32.self).littleEndian)) })
            case .int64:
                try b.need(count * 8, "\(count) INT64 values")
                let p = b.p, s = b.pos
                b.pos += count * 8
                if case .none = leaf.logical {
                    // Plain int64: the values straight into the output (no Int64 array between).
                    return .ints([Int](unsafeUninitializedCapacity: count) { out, n in
                        for i in 0..<count { out[i] = Int(Int64(littleEndian: p.loadUnaligned(fromByteOffset: s + 8 * i, as: Int64.self))) }
                        n = count
                    })
                }
                return try ints((0..<count).map { Int64(bitPattern: p.loadUnaligned(fromByteOffset: s + 8 * $0, as: UInt64.self).littleEndian) })
            case .float:
                try b.need(count * 4, "\(count) FLOAT values")
                let p = b.p, s = b.pos
                b.pos += count * 4
                return .doubles((0..<count).map { Double(Float(bitPattern: p.loadUnaligned(fromByteOffset: s + 4 * $0, as: UInt32.self).littleEndian)) })
            case .double:
                try b.need(count * 8, "\(count) DOUBLE values")
                let p = b.p, s = b.pos
                b.pos += count * 8
                return .doubles((0..<count).map { Double(bitPattern: p.loadUnaligned(fromByteOffset: s + 8 * $0, as: UInt64.self).littleEndian) })
            case .byteArray: return try bytesOut(try b.plainByteArrays(count))
            case .fixedLenByteArray: return try bytesOut(try b.fixedByteArrays(count, width: leaf.typeLength))
            case .int96: throw ThriftError("INT96 is not supported")
            }
        case 3:   // RLE: booleans (v2 pages), 4-byte length then the hybrid
            guard phys == .boolean else { throw ThriftError("RLE values for \(phys.name) (only BOOLEAN)") }
            let n = Int(try b.le32())
            try b.need(n, "RLE booleans")
            var r = ParquetBytes(b.p, start: b.pos, end: b.pos + n)
            b.pos += n
            return .ints(try r.hybrid(count, width: 1).map { Int($0) })
        case 5:
            guard phys == .int32 || phys == .int64 else { throw ThriftError("DELTA_BINARY_PACKED for \(phys.name)") }
            let v = try b.deltaBinaryPacked(count)
            return try ints(phys == .int32 ? v.map { Int64(Int32(truncatingIfNeeded: $0)) } : v)
        case 6:
            guard phys == .byteArray else { throw ThriftError("DELTA_LENGTH_BYTE_ARRAY for \(phys.name)") }
            return try bytesOut(try b.deltaLengthByteArrays(count))
        case 7:
            guard phys == .byteArray || phys == .fixedLenByteArray else { throw ThriftError("DELTA_BYTE_ARRAY for \(phys.name)") }
            return try bytesOut(try b.deltaByteArrays(count))
        case 9:
            let width: Int
            switch phys {
            case .float, .int32: width = 4
            case .double, .int64: width = 8
            case .fixedLenByteArray: width = leaf.typeLength
            default: throw ThriftError("BYTE_STREAM_SPLIT for \(phys.name)")
            }
            let raw = try b.byteStreamSplit(count, width: width)
            return try raw.withUnsafeBytes { p -> Values in
                var rb = ParquetBytes(p)
                return try decode(&rb, count: count, encoding: 0)
            }
        default:
            throw ThriftError("encoding \(encoding) is not supported")
        }
    }

    /// Integers by logical type: plain ints, dates and timestamps as microseconds, decimals as floats.
    func ints(_ v: [Int64]) throws -> Values {
        switch leaf.logical {
        case .date: return .ints(v.map { Int($0).multipliedReportingOverflow(by: Int(Datetime.microsPerDay)).partialValue })
        case .timestamp(let perSecond):
            switch perSecond {
            case 1_000: return .ints(v.map { Int($0).multipliedReportingOverflow(by: 1000).partialValue })
            case 1_000_000: return .ints(v.map { Int($0) })
            default: return .ints(v.map { Int($0) >= 0 ? Int($0) / 1000 : (Int($0) - 999) / 1000 })
            }
        case .decimal(let scale, _):
            let f = pow(10.0, Double(scale))
            return .doubles(v.map { Double($0) / f })
        default: return .ints(v.map { Int($0) })
        }
    }

    /// Byte arrays as UTF-8 strings, or decimals (big-endian two's complement) as floats.
    func bytesOut(_ v: ParquetBytes.ByteValues) throws -> Values {
        if case .decimal(let scale, _) = leaf.logical {
            let f = pow(10.0, Double(scale))
            return .doubles((0..<v.count).map { i in
                var x = 0.0
                let s = v.offsets[i], e = v.offsets[i + 1]
                guard e > s else { return 0 }
                let negative = v.data[s] & 0x80 != 0
                for k in s..<e { x = x * 256 + Double(negative ? ~v.data[k] : v.data[k]) }
                return (negative ? -(x + 1) : x) / f
            })
        }
        var out: [String] = []
        out.reserveCapacity(v.count)
        for i in 0..<v.count {
            guard let s = String(validating: v.data[v.offsets[i]..<v.offsets[i + 1]], as: UTF8.self) else {
                throw ThriftError("value \(i) of the page is not valid UTF-8")
            }
            out.append(s)
        }
        return .strings(out)
    }

    func finish() -> Column {
        switch target {
        case .float: return Column(name: leaf.name, data: .float(doubles), missing: missing)
        case .string: return Column(name: leaf.name, data: .string(strings), missing: missing)
        case .int:
            switch leaf.logical {
            case .date, .timestamp: return .datetime(name: leaf.name, micros: ints, missing: missing)
            default: return Column(name: leaf.name, data: .int(ints), missing: missing)
            }
        }
    }
}
