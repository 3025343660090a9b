import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Part `rank` of `size` of a file, for data-parallel readers (one process per rank):
/// the shards of ranks 0..<size are disjoint and, concatenated in rank order, give the
/// whole file in order.
///
///     var o = CSVOptions(); o.shard = try Shard(rank: 1, size: 4)
///     let part = try readCSV("big.csv", options: o)              // rows whose first byte is in the 2nd quarter
///     let rg = try readParquet("big.parquet", shard: Shard(rank: 1, size: 4))   // row groups by first row
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let rank: Int
    public let size: Int
    /// Shard counts above this are refused (an MPI world is far smaller).
    public static let maxSize = 1 << 20

    public init(rank: Int, size: Int) throws {
        guard size >= 1, size <= Shard.maxSize else {
            throw DataError(.badArgument, "shard size must be 1...\(Shard.maxSize), got \(size)")
        }
        guard rank >= 0, rank < size else {
            throw DataError(.badArgument, "shard rank must be 0...\(size - 1) for size \(size), got \(rank)")
        }
        self.rank = rank; self.size = size
    }

    public var description: String { "\(rank)/\(size)" }

    /// Whether the unit starting at `start` of `total` (a byte or a row) is this shard's:
    /// the one whose nominal range [total*rank/size, total*(rank+1)/size) holds it.
    func owns(_ start: Int, of total: Int) -> Bool {
        total <= 0 ? rank == 0 : owner(start, total) == rank
    }

    func owner(_ start: Int, _ total: Int) -> Int {
        // The largest r with total*r/size <= start (128-bit safe: both are Ints below 2^63).
        let (hi, lo) = size.multipliedFullWidth(by: start)
        let q = total.dividingFullWidth((hi, lo)).quotient
        var r = min(q, size - 1)
        while r + 1 < size && bound(r + 1, total) <= start { r += 1 }
        while r > 0 && bound(r, total) > start { r -= 1 }
        return r
    }

    /// The nominal start of shard `r` in `total` units.
    func bound(_ r: Int, _ total: Int) -> Int {
        let (hi, lo) = total.multipliedFullWidth(by: r)
        return size.dividingFullWidth((hi, lo)).quotient
    }
}

/// The byte ranges a CSV shard reads: the header record (read by every shard) and the
/// records whose first byte lies in the shard's nominal share of the data bytes. Record
/// starts are found by scanning for a line feed outside quotes: the quote parity at the
/// share's start comes from counting quote bytes since the header (a doubled quote inside
/// a quoted field toggles twice), so quoted newlines never split a record.
/// Line feeds are the record ends looked for (a file with bare CR line ends is one shard).
struct CSVShardPlan {
    /// Header bytes [0, header) and the shard's records [body.lowerBound, body.upperBound).
    var header: Int
    var body: Range<Int>
    /// 1-based line of the file on which `body` starts (line feeds before it, plus one).
    var bodyLine: Int

    static func make(fd: Int32, size: Int, hasHeader: Bool, shard: Shard, path: String) throws -> CSVShardPlan {
        var scanner = Scanner(fd: fd, size: size, path: path)
        // End of the header record: just past its first line feed outside quotes.
        let header = hasHeader ? try scanner.recordStart(atOrAfter: 1, from: 0, parity: 0).start : 0
        let dataBytes = size - header
        let lo = header + shard.bound(shard.rank, dataBytes)
        let hi = shard.rank + 1 == shard.size ? size : header + shard.bound(shard.rank + 1, dataBytes)
        // Quote parity and line feeds from the header's end up to the share's start.
        let start = try scanner.recordStart(atOrAfter: lo, from: header, parity: 0)
        let end = hi >= size ? size : try scanner.recordStart(atOrAfter: max(hi, start.start), from: start.start, parity: 0).start
        let linesBefore = try scanner.lineFeeds(before: start.start)
        return CSVShardPlan(header: header, body: start.start..<max(end, start.start), bodyLine: linesBefore + 1)
    }

    /// Reads the file through a 1 MB buffer with `pread`, counting quote bytes and line feeds.
    struct Scanner {
        let fd: Int32, size: Int, path: String

        /// The first record start at or after `target` (a position just past a line feed
        /// outside quotes, or `size`), scanning from `from` (a record start, parity 0).
        mutating func recordStart(atOrAfter target: Int, from: Int, parity: Int) throws -> (start: Int, parity: Int) {
            if target <= from { return (from, parity) }
            var inQuotes = parity & 1 == 1
            var pos = from
            // Parity only up to target - 1; then the first unquoted line feed at or after it.
            let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)
            defer { buf.deallocate() }
            while pos < size {
                let n = try read(buf, at: pos, count: min(1 << 20, size - pos))
                for i in 0..<n {
                    let b = buf[i]
                    if b == 0x22 { inQuotes.toggle() }
                    else if b == 0x0A && !inQuotes && pos + i >= target - 1 { return (pos + i + 1, 0) }
                }
                pos += n
            }
            return (size, 0)
        }

        func lineFeeds(before end: Int) throws -> Int {
            let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)
            defer { buf.deallocate() }
            var pos = 0, count = 0
            while pos < end {
                let n = try read(buf, at: pos, count: min(1 << 20, end - pos))
                for i in 0..<n where buf[i] == 0x0A { count += 1 }
                pos += n
            }
            return count
        }

        func read(_ buf: UnsafeMutablePointer<UInt8>, at offset: Int, count: Int) throws -> Int {
            while true {
                let n = pread(fd, buf, count, off_t(offset))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw DataError(.io, "read failed at byte \(offset) (file shrank?)", file: path) }
                return n
            }
        }
    }
}

/// The bytes a CSV reader sees: the whole file, or a shard's header then its records.
/// A read never spans the two, so the header is parsed on its own and the line counter
/// can jump to the records' first line (`switchedTo` tells the reader when).
struct CSVByteSource {
    let fd: Int32
    var segments: [Range<Int>]
    var index = 0
    var pos: Int

    init(fd: Int32, size: Int, plan: CSVShardPlan?) {
        self.fd = fd
        if let plan {
            segments = [0..<plan.header, plan.body]
        } else {
            segments = [0..<size]
        }
        pos = segments[0].lowerBound
    }

    /// Bytes of all segments (the reader's size estimate).
    var total: Int { segments.reduce(0) { $0 + $1.count } }

    /// Reads up to `count` bytes into `buf`; 0 at the end. `newSegment` is set when these
    /// bytes are the first of a segment after the first.
    mutating func read(_ buf: UnsafeMutablePointer<UInt8>, _ count: Int, newSegment: inout Bool) -> Int {
        newSegment = false
        while index < segments.count && pos >= segments[index].upperBound {
            index += 1
            if index < segments.count { pos = segments[index].lowerBound; newSegment = true }
        }
        guard index < segments.count, count > 0 else { return 0 }
        let want = min(count, segments[index].upperBound - pos)
        while true {
            let n = pread(fd, buf, want, off_t(pos))
            if n < 0 && errno == EINTR { continue }
            if n > 0 { pos += n }
            return n
        }
    }
}
