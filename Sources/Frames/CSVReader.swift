import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a CSV file (RFC 4180: quoted fields with embedded delimiters, doubled quotes
/// and newlines; CRLF or LF; optional UTF-8 BOM) into a typed `Dataset`.
///
///     let ds = try readCSV("Scripts/data/iris.csv", options: CSVOptions(label: "species"))
///
/// The file is read in chunks and parsed as bytes straight into typed columns, so the
/// text is never held whole. Errors name the file, the 1-based line where the record
/// starts (embedded newlines counted) and the column.
public func readCSV(_ path: String, options: CSVOptions = CSVOptions()) throws -> Dataset {
    var forced = Set<Int>()
    // At most two passes: a column that turns out to hold text after numbers is re-read
    // as text, so every cell keeps its exact original spelling.
    while true {
        var reader = try CSVReader(path: path, options: options, forceText: forced)
        let result = try reader.run()
        if result.needsText.isEmpty { return result.dataset }
        forced.formUnion(result.needsText)
    }
}

struct CSVReader {
    let path: String
    let options: CSVOptions
    let forceText: Set<Int>
    let delim: UInt8
    /// Column builders in a raw buffer (one per column), so the per-cell loop has no
    /// array uniqueness checks; allocated at the header, freed by `run`.
    var builders = UnsafeMutableBufferPointer<ColumnBuilder>(start: nil, count: 0)
    var names: [String] = []
    var lines: [Int] = []
    var line = 1
    var fields = FieldList()
    var missingFirst = ByteSet()
    var missingTokens: [[UInt8]] = []
    var recordsSeen = 0
    var reserved = false
    /// Columns this reader fills; the rest belong to a second reader on the other core
    /// (see `ParallelChunk`). The primary reader (owning column 0) also keeps the lines.
    var owned = 0..<Int.max

    init(path: String, options: CSVOptions, forceText: Set<Int>) throws {
        self.path = path
        self.options = options
        self.forceText = forceText
        guard let d = options.delimiter.asciiValue, d != 0x22, d != 0x0A, d != 0x0D else {
            throw DataError(.badArgument, "delimiter must be one ASCII character other than quote or newline")
        }
        delim = d
        for t in options.missingValues where !t.isEmpty {
            let b = Array(t.utf8)
            missingTokens.append(b)
            missingFirst.insert(b[0])
        }
    }

    struct Result { var dataset: Dataset; var needsText: Set<Int> }

    mutating func run() throws -> Result {
        // Regular files only: /dev/zero or a FIFO would be read (and hashed) without end.
        let (fd, wholeSize) = try InputFile.openRegular(path)
        defer { close(fd) }
        let plan = try options.shard.map { try CSVShardPlan.make(fd: fd, size: wholeSize, hasHeader: options.hasHeader, shard: $0, path: path) }
        var source = CSVByteSource(fd: fd, size: wholeSize, plan: plan)
        let fileSize = source.total
        // The content hash runs on the other core while this one parses: same bytes
        // (read again through the page cache), a 1 MB buffer, no second copy of the text.
        let hashJob = HashJob()
        let group = DispatchGroup()
        if options.hashContent {
            let p = path, cache = options.fileHashCache
            DispatchQueue.global().async(group: group) {
                hashJob.result = try? (cache.map { try $0.hash(ofFile: p) } ?? SHA256.hexOfFile(p))
            }
        }
        defer { group.wait() }
        var cap = max(options.chunkSize, 1 << 12)
        var buf = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        defer {
            buf.deallocate(); fields.deallocate()
            if let b = builders.baseAddress { b.deinitialize(count: builders.count); b.deallocate() }
        }
        // Big files without quotes parse half of the columns on each core.
        let useTwoCores = fileSize >= options.twoCoreMinBytes && ProcessInfo.processInfo.activeProcessorCount >= 2
        var helper: CSVReader?
        defer { helper?.fields.deallocate() }
        var filled = 0          // bytes in buf
        var first = true
        var total = 0
        var consumedTotal = 0
        while true {
            if filled == cap {  // one record longer than the buffer: grow it, up to the record limit
                if filled >= options.maxRecordBytes {
                    throw DataError(.tooLarge, "record longer than the limit of \(options.maxRecordBytes) bytes (record starts on line \(line))",
                                    file: path, line: line)
                }
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: cap * 2)
                bigger.update(from: buf, count: filled)
                buf.deallocate(); buf = bigger; cap *= 2
            }
            var newSegment = false
            let n = source.read(buf + filled, cap - filled, newSegment: &newSegment)
            if n < 0 { throw DataError(.io, "read failed: \(String(cString: strerror(errno)))", file: path) }
            // A shard's records start on a later line of the file than its header.
            if newSegment, let plan, filled == 0 { line = plan.bodyLine }
            total += n
            let isLast = n == 0
            var start = 0
            filled += n
            if first && filled >= 3 || isLast && first {
                first = false
                if filled >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { start = 3 }
            }
            let used: Int
            if useTwoCores && !builders.isEmpty && builders.count >= 2
                && memchr(buf + start, 0x22, filled - start) == nil {
                used = try parseOnTwoCores(buf + start, filled - start, isLast: isLast, helper: &helper) + start
            } else {
                owned = 0..<Int.max
                used = try parse(buf + start, filled - start, isLast: isLast) + start
            }
            consumedTotal += used
            if !reserved, names.count > 0, recordsSeen > 100, fileSize > 0, consumedTotal > 0 {
                // Reserve once from the observed bytes per record so columns never regrow.
                reserved = true
                let estimate = Int(Double(recordsSeen) * Double(fileSize) / Double(consumedTotal) * 1.02) + 16
                try CSVReader.checkColumnMemory(rows: estimate, columns: builders.count, path: path)
                for i in builders.indices { builders[i].reserve(estimate) }
                lines.reserveHuge(estimate)
            }
            if isLast { break }
            let rest = filled - used
            if rest > 0 && used > 0 { buf.update(from: buf + used, count: rest) }
            filled = rest
        }
        if total == 0 || (names.isEmpty && builders.isEmpty) {
            throw DataError(.emptyFile, "file is empty", file: path)
        }
        let columns = builders.map { $0.finish(maxCategoryLevels: options.maxCategoryLevels) }
        var needs = Set<Int>()
        for (i, b) in builders.enumerated() where b.kind == .needsText { needs.insert(i) }
        group.wait()
        guard let hash = options.hashContent ? hashJob.result : "unhashed:\(path)" else {
            throw DataError(.io, "cannot read file for hashing", file: path)
        }
        let lineage = Lineage(source: "read_csv", contentHash: hash, params: options.lineageParams)
        let names = columns.map(\.name)
        for role in [options.label].compactMap({ $0 }) + (options.features ?? []) where !names.contains(role) {
            throw DataError(.unknownColumn, "no column named '\(role)'", file: path)
        }
        let ds = Dataset(columns: columns, label: options.label, features: options.features,
                         sourceLines: lines, lineage: lineage)
        return Result(dataset: ds, needsText: needs)
    }

    /// Parses every complete record in `base[0..<count]`; returns the bytes consumed.
    /// A record cut by the chunk end is left for the next call unless `isLast`.
    mutating func parse(_ base: UnsafeMutablePointer<UInt8>, _ count: Int, isLast: Bool) throws -> Int {
        var pos = 0
        let delim = self.delim
        let delim8 = UInt64(delim) &* 0x0101_0101_0101_0101
        let maxField = options.maxFieldBytes, maxRecord = options.maxRecordBytes
        while pos < count {
            let recStart = pos
            let recLine = line
            var newlines = 0
            fields.count = 0
            // Blank lines are skipped (they still count as lines).
            if base[pos] == 0x0A { line += 1; pos += 1; continue }
            if base[pos] == 0x0D {
                if pos + 1 < count { pos += base[pos + 1] == 0x0A ? 2 : 1; line += 1; continue }
                if isLast { pos += 1; continue }
                return recStart
            }
            var complete = false
            record: while true {
                if pos < count && base[pos] == 0x22 {
                    var q = pos + 1
                    var escaped = false
                    scan: while true {
                        if q >= count {
                            if isLast {
                                // The file's last line (a final newline ends it, it starts no new one).
                                let seen = Swift.max(recLine, recLine + newlines - (count > 0 && base[count - 1] == 0x0A ? 1 : 0))
                                throw DataError(.unterminatedQuote,
                                                "unterminated quoted field: no closing quote before the end of the file"
                                                + CSVReader.place(recLine, seen), file: path,
                                                line: recLine, column: columnName(fields.count))
                            }
                            return recStart
                        }
                        if base[q] != 0x22 {
                            // Jump to the next quote (memchr), counting the line feeds passed:
                            // a long quoted cell costs a scan, not a branch per byte.
                            let raw = UnsafeMutableRawPointer(base)
                            let next = memchr(base + q, 0x22, count - q).map { raw.distance(to: $0) } ?? count
                            newlines += CSVReader.countLineFeeds(base + q, next - q)
                            q = next
                            continue scan
                        }
                        if q + 1 < count {
                            if base[q + 1] == 0x22 { escaped = true; q += 2; continue scan }
                            break scan
                        }
                        if isLast { break scan }
                        return recStart
                    }
                    if q - pos - 1 > maxField { throw fieldTooLong(recLine, recLine + newlines) }
                    fields.append(Field(start: pos + 1, end: q, escaped: escaped))
                    pos = q + 1
                    if pos >= count {
                        if isLast { complete = true; break record }
                        return recStart
                    }
                    let b = base[pos]
                    if b == delim { pos += 1; continue record }
                    if b == 0x0A { pos += 1; newlines += 1; complete = true; break record }
                    if b == 0x0D {
                        if pos + 1 < count { pos += base[pos + 1] == 0x0A ? 2 : 1 }
                        else if isLast { pos += 1 } else { return recStart }
                        newlines += 1; complete = true; break record
                    }
                    // Usually an earlier quote left open, or a quote inside a field not doubled.
                    throw DataError(.unterminatedQuote,
                                    "unexpected character \(CSVReader.shown(b)) after a closing quote"
                                    + CSVReader.place(recLine, recLine + newlines, "an unterminated or undoubled quote?"), file: path,
                                    line: recLine, column: columnName(fields.count - 1))
                } else {
                    // Numeric columns: parse the number while finding the field's end (one
                    // pass over the bytes). Anything unusual falls back to the plain scan.
                    var q = pos
                    var field = Field(start: pos, end: pos, escaped: false)
                    let col = fields.count
                    // A cell that may be a missing token (e.g. "-999" when configured) is never fast-parsed.
                    if owned.contains(col), col < builders.count, pos < count, !missingFirst.contains(base[pos]) {
                        let kind = builders[col].kind
                        if kind == .float, let (v, len) = NumberParsing.scanDouble(base + pos, count - pos) {
                            q = pos + len
                            field.parsed = 1; field.value = v.bitPattern
                        } else if kind == .int, let (v, len) = NumberParsing.scanInt(base + pos, count - pos) {
                            q = pos + len
                            field.parsed = 2; field.value = UInt64(bitPattern: Int64(v))
                        }
                        if field.parsed != 0 {
                            let b: UInt8 = q < count ? base[q] : 0
                            if q >= count || !(b == delim || b == 0x0A || b == 0x0D) { field.parsed = 0; q = pos }
                        }
                    }
                    if field.parsed == 0 {
                        q = CSVReader.findSpecial(base, pos, count, delim8)
                        while q < count {
                            let b = base[q]
                            if b == delim || b == 0x0A || b == 0x0D { break }
                            q += 1
                        }
                    }
                    field.end = q
                    if q - pos > maxField { throw fieldTooLong(recLine, recLine + newlines) }
                    fields.append(field)
                    if q >= count {
                        if isLast { pos = q; complete = true; break record }
                        return recStart
                    }
                    let b = base[q]
                    if b == delim { pos = q + 1; continue record }
                    if b == 0x0A { pos = q + 1; newlines += 1; complete = true; break record }
                    // CR: need the next byte to know whether it is CRLF.
                    if q + 1 < count { pos = q + (base[q + 1] == 0x0A ? 2 : 1) }
                    else if isLast { pos = q + 1 } else { return recStart }
                    newlines += 1; complete = true; break record
                }
            }
            precondition(complete)
            if pos - recStart > maxRecord {
                throw DataError(.tooLarge, "record longer than the limit of \(maxRecord) bytes (record starts on line \(recLine))",
                                file: path, line: recLine)
            }
            line += newlines
            try emit(base, recLine)
        }
        return pos
    }

    /// Parses one chunk with this reader taking the first half of the columns and a helper
    /// (same scanner, own field list, shared builder buffer) taking the second half on
    /// another thread. Only used for chunks without quote bytes: quoted fields are
    /// unescaped in place, which the other thread could see half-done. Both scan the same
    /// records, so they consume the same bytes; on errors the earlier line wins.
    mutating func parseOnTwoCores(_ base: UnsafeMutablePointer<UInt8>, _ count: Int, isLast: Bool,
                                  helper: inout CSVReader?) throws -> Int {
        let half = builders.count / 2
        if helper == nil {
            var h = self
            h.fields = FieldList()
            h.lines = []
            helper = h
        }
        owned = 0..<half
        helper!.owned = half..<builders.count
        helper!.line = line
        let job = ParallelChunk(reader: helper!, base: base, count: count, isLast: isLast)
        helper = nil  // the job holds the only copy while it runs
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { job.run() }
        var mine: Swift.Result<Int, Error>
        do { mine = .success(try parse(base, count, isLast: isLast)) } catch { mine = .failure(error) }
        group.wait()
        helper = job.reader
        switch (mine, job.result!) {
        case (.success(let a), .success): return a
        case (.failure(let e), .success), (.success, .failure(let e)): throw e
        case (.failure(let a), .failure(let b)):
            let la = (a as? DataError)?.line ?? Int.max, lb = (b as? DataError)?.line ?? Int.max
            throw lb < la ? b : a
        }
    }

    /// Skips ahead 8 bytes at a time (SWAR) to the first delimiter, LF or CR at or after
    /// `from`; returns where the byte loop should resume (exact when a match was found in
    /// a word, or the last whole word's end).
    @inline(__always)
    static func findSpecial(_ base: UnsafeMutablePointer<UInt8>, _ from: Int, _ count: Int, _ delim8: UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let lf8: UInt64 = 0x0A0A_0A0A_0A0A_0A0A, cr8: UInt64 = 0x0D0D_0D0D_0D0D_0D0D
        var q = from
        while q + 8 <= count {
            let w = UInt64(littleEndian: UnsafeRawPointer(base + q).loadUnaligned(as: UInt64.self))
            let a = w ^ delim8, b = w ^ lf8, c = w ^ cr8
            // A byte is zero in a/b/c exactly where w holds that character; the lowest
            // flagged byte is always a true match (borrows only flag bytes above it).
            let m = ((a &- ones) & ~a | (b &- ones) & ~b | (c &- ones) & ~c) & highs
            if m != 0 { return q + m.trailingZeroBitCount >> 3 }
            q += 8
        }
        return q
    }

    /// Number of LF bytes in `p[0..<n]`.
    @inline(__always)
    static func countLineFeeds(_ p: UnsafeMutablePointer<UInt8>, _ n: Int) -> Int {
        var found = 0, i = 0
        let raw = UnsafeMutableRawPointer(p)
        while i < n, let hit = memchr(p + i, 0x0A, n - i) {
            found += 1
            i = raw.distance(to: hit) + 1
        }
        return found
    }

    /// Refuses a file whose columns would not fit in physical memory (8 bytes per cell and
    /// per row for its line number), before reserving them: the allocation would otherwise
    /// abort the process. `rows` is estimated from the bytes per record seen so far.
    static func checkColumnMemory(rows: Int, columns: Int, path: String) throws {
        let (perRow, o1) = Swift.min(columns, Int.max / 16).addingReportingOverflow(1).partialValue.multipliedReportingOverflow(by: 8)
        let (bytes, o2) = rows.multipliedReportingOverflow(by: perRow)
        let limit = physicalMemoryBytes
        if o1 || o2 || bytes > limit {
            throw DataError(.tooLarge, "the file's \(columns) columns need about \(rows) rows x \(perRow) bytes, "
                            + "more than this machine's \(limit) bytes of memory", file: path)
        }
    }

    /// " (record starts on line 2, seen at line 3)": where a multi-line record began and
    /// where the problem showed, so a quote left open is found from either end.
    static func place(_ start: Int, _ seen: Int, _ hint: String? = nil) -> String {
        " (record starts on line \(start), seen at line \(seen)" + (hint.map { "; " + $0 } ?? "") + ")"
    }

    /// A byte for a message: 'q' when printable ASCII, else its hex value.
    static func shown(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : String(format: "0x%02X", b)
    }

    private func fieldTooLong(_ start: Int, _ seen: Int) -> DataError {
        DataError(.tooLarge, "field longer than the limit of \(options.maxFieldBytes) bytes" + CSVReader.place(start, seen),
                  file: path, line: start, column: columnName(fields.count))
    }

    private func columnName(_ i: Int) -> String? {
        i >= 0 && i < names.count ? names[i] : (names.isEmpty ? nil : "#\(i + 1)")
    }

    /// Hands one complete record to the column builders (or takes it as the header).
    private mutating func emit(_ base: UnsafeMutablePointer<UInt8>, _ recLine: Int) throws {
        if builders.isEmpty {
            if options.hasHeader {
                let file = path
                names = try (0..<fields.count).map { i in
                    let f = fields.base[i]
                    let bytes = CSVReader.cell(base, f)
                    guard let s = String(validating: UnsafeBufferPointer(start: bytes.0, count: bytes.1), as: UTF8.self) else {
                        throw DataError(.invalidUTF8, "invalid UTF-8 bytes in header (field \(i + 1))", file: file, line: recLine)
                    }
                    return s
                }
                var seen: [String: Int] = [:]
                for (i, n) in names.enumerated() {
                    if let j = seen[n] {
                        throw DataError(.badArgument, "duplicate column name '\(n)' (fields \(j + 1) and \(i + 1))",
                                        file: file, line: recLine, column: n)
                    }
                    seen[n] = i
                }
                makeBuilders()
                return
            }
            names = (0..<fields.count).map { "c\($0)" }
            makeBuilders()
        }
        if fields.count != builders.count {
            throw DataError(.raggedRow, "expected \(builders.count) fields, found \(fields.count)", file: path, line: recLine,
                            column: fields.count > builders.count ? "#\(builders.count + 1)" : columnName(fields.count))
        }
        recordsSeen += 1
        if owned.lowerBound == 0 { lines.append(recLine) }
        let nf = fields.count
        do {
            let f = fields.base, first = missingFirst, b = builders.baseAddress!
            for i in max(0, owned.lowerBound)..<min(nf, owned.upperBound) {
                switch f[i].parsed {
                case 1: b[i].appendParsed(double: Double(bitPattern: f[i].value)); continue
                case 2: b[i].appendParsed(int: Int(Int64(bitPattern: f[i].value))); continue
                default: break
                }
                let (p, n) = CSVReader.cell(base, f[i])
                if n == 0 || first.contains(p[0]) && CSVReader.isMissing(p, n, missingTokens) {
                    b[i].appendMissing(); continue
                }
                try b[i].append(p, n, line: recLine)
            }
        } catch var e as DataError {
            e.file = path
            throw e
        }
    }

    private mutating func makeBuilders() {
        let made = names.enumerated().map { i, name in
            ColumnBuilder(name: name, declared: options.types[name], forceText: forceText.contains(i))
        }
        builders = .allocate(capacity: made.count)
        _ = builders.initialize(from: made)
    }

    /// The bytes of one field, with doubled quotes collapsed (in place) if needed.
    @inline(__always)
    private static func cell(_ base: UnsafeMutablePointer<UInt8>, _ f: Field) -> (UnsafePointer<UInt8>, Int) {
        if !f.escaped { return (UnsafePointer(base + f.start), f.end - f.start) }
        var w = f.start
        var r = f.start
        // Unescape in place: the chunk buffer is ours and this field is read only once.
        while r < f.end {
            base[w] = base[r]
            if base[r] == 0x22 { r += 2 } else { r += 1 }
            w += 1
        }
        return (UnsafePointer(base + f.start), w - f.start)
    }

    @inline(__always)
    private static func isMissing(_ p: UnsafePointer<UInt8>, _ n: Int, _ tokens: [[UInt8]]) -> Bool {
        for t in tokens where t.count == n {
            var same = true
            for k in 0..<n where t[k] != p[k] { same = false; break }
            if same { return true }
        }
        return false
    }
}

/// Carries the background hash back to the reader (written once, read after `wait`).
private final class HashJob: @unchecked Sendable {
    var result: String?
}

/// One field of the current record: byte range in the chunk, and whether it holds
/// doubled quotes to collapse.
struct Field {
    var start: Int
    var end: Int
    var escaped: Bool
    /// 1: `value` holds a Double's bits, 2: an Int's; 0: not parsed yet.
    var parsed: UInt8 = 0
    var value: UInt64 = 0
}

/// The fields of the current record in a reused raw buffer (no copy-on-write checks in
/// the per-field loop). Freed by the reader when it finishes.
struct FieldList {
    var base = UnsafeMutablePointer<Field>.allocate(capacity: 64)
    var count = 0
    var capacity = 64

    @inline(__always) mutating func append(_ f: Field) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<Field>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: base, count: count)
            base.deallocate(); base = bigger; capacity *= 2
        }
        (base + count).initialize(to: f)
        count += 1
    }

    func deallocate() { base.deallocate() }
}

/// A set of bytes as a 256-bit mask: a branch-cheap "could this cell be a missing token?".
struct ByteSet {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 { case 0: w0 |= bit; case 1: w1 |= bit; case 2: w2 |= bit; default: w3 |= bit }
    }

    @inline(__always) func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 { case 0: return w0 & bit != 0; case 1: return w1 & bit != 0; case 2: return w2 & bit != 0; default: return w3 & bit != 0 }
    }
}

/// The second reader's share of a chunk, run on another thread. The buffer and the
/// builders it touches (its own columns) are not touched by the first reader meanwhile.
private final class ParallelChunk: @unchecked Sendable {
    var reader: CSVReader
    let base: UnsafeMutablePointer<UInt8>
    let count: Int
    let isLast: Bool
    var result: Swift.Result<Int, Error>?

    init(reader: CSVReader, base: UnsafeMutablePointer<UInt8>, count: Int, isLast: Bool) {
        self.reader = reader; self.base = base; self.count = count; self.isLast = isLast
    }

    func run() {
        do { result = .success(try reader.parse(base, count, isLast: isLast)) } catch { result = .failure(error) }
    }
}
