import Foundation
import XCTest
@testable import Frames

/// `shard:` on readCSV and readParquet: shards 0..<n are disjoint and, concatenated in rank
/// order, equal the whole file (values, order, source lines); row-group push-down skips
/// exactly the groups whose statistics rule a filter out and keeps the filter's rows.
final class ShardTests: XCTestCase {
    /// Rows as comparable text (value descriptions), plus their source lines.
    private func rows(_ ds: Dataset) -> [String] {
        (0..<ds.rowCount).map { r in ds.columns.map { "\($0.value(at: r))" }.joined(separator: "|") }
    }

    /// A CSV of `n` rows; every third text cell holds a quoted newline, commas or doubled quotes.
    private func csv(rows n: Int, seed: UInt64, crlf: Bool) -> String {
        var g = SplitMix(seed)
        let eol = crlf ? "\r\n" : "\n"
        var s = "id,x,note" + eol
        for i in 0..<n {
            let x = Double(g.next() % 10_000) / 8
            let note: String
            switch g.next() % 4 {
            case 0: note = "\"line one\nline two \(i)\""
            case 1: note = "\"a, \"\"quoted\"\" \(i)\""
            case 2: note = ""
            default: note = "plain\(i)"
            }
            s += "\(i),\(x),\(note)" + eol
            if g.next() % 17 == 0 { s += eol }   // a blank line now and then
        }
        return s
    }

    func testCSVShardsConcatenateToTheWholeFile() throws {
        let types: [String: ColumnType] = ["id": .int, "x": .float, "note": .string]
        for n in [0, 1, 2, 7, 50, 333] {
            for crlf in [false, true] {
                let path = tempFile(csv(rows: n, seed: UInt64(n + 1), crlf: crlf))
                let whole = try readCSV(path, options: CSVOptions(types: types))
                XCTAssertEqual(whole.rowCount, n)
                for size in 1...5 {
                    var got: [String] = [], lines: [Int] = []
                    for rank in 0..<size {
                        var o = CSVOptions(types: types)
                        o.shard = try Shard(rank: rank, size: size)
                        let part = try readCSV(path, options: o)
                        XCTAssertEqual(part.columnNames, ["id", "x", "note"])
                        got += rows(part); lines += part.sourceLines
                        if n >= 50 { XCTAssertGreaterThan(part.rowCount, n / size / 3, "shards share the rows") }
                    }
                    XCTAssertEqual(got, rows(whole), "rows \(n) crlf \(crlf) shards \(size)")
                    XCTAssertEqual(lines, whole.sourceLines, "source lines, rows \(n) crlf \(crlf) shards \(size)")
                }
            }
        }
    }

    func testCSVShardsOnTheTwoCorePath() throws {
        // Quote-free chunks of big files parse half of the columns on a second core.
        var text = "a,b,c,d\n"
        for i in 0..<3000 { text += "\(i),\(i * 7 % 13),x\(i % 50),\(Double(i) / 4)\n" }
        let path = tempFile(text)
        var whole = CSVOptions(); whole.twoCoreMinBytes = 1; whole.chunkSize = 1 << 12
        let all = try readCSV(path, options: whole)
        XCTAssertEqual(all.rowCount, 3000)
        for size in [2, 5] {
            var got: [String] = []
            for rank in 0..<size {
                var o = whole
                o.shard = try Shard(rank: rank, size: size)
                got += rows(try readCSV(path, options: o))
            }
            XCTAssertEqual(got, rows(all), "shards \(size)")
        }
    }

    func testCSVShardWithoutHeaderAndBadArguments() throws {
        let path = tempFile("1,a\n2,b\n3,\"c\nd\"\n4,e\n")
        var all: [String] = []
        for rank in 0..<3 {
            var o = CSVOptions(hasHeader: false, types: ["c0": .int, "c1": .string])
            o.shard = try Shard(rank: rank, size: 3)
            all += rows(try readCSV(path, options: o))
        }
        let whole = try readCSV(path, options: CSVOptions(hasHeader: false, types: ["c0": .int, "c1": .string]))
        XCTAssertEqual(whole.rowCount, 4)
        XCTAssertEqual(all, rows(whole))
        XCTAssertNotNil(dataError { _ = try Shard(rank: 3, size: 3) })
        XCTAssertNotNil(dataError { _ = try Shard(rank: 0, size: 0) })
        XCTAssertNotNil(dataError { _ = try Shard(rank: -1, size: 2) })
    }

    func testCSVShardLineageNamesTheShard() throws {
        let path = tempFile(csv(rows: 20, seed: 3, crlf: false))
        var o = CSVOptions(); o.shard = try Shard(rank: 1, size: 2)
        let a = try readCSV(path, options: o), b = try readCSV(path)
        XCTAssertNotEqual(a.lineage.hash, b.lineage.hash)
        XCTAssertTrue(a.lineage.steps[0].params.contains("shard=1/2"))
    }

    /// A Parquet file of `n` rows in groups of `group` rows (MLW's writer: statistics on).
    private func parquet(rows n: Int, group: Int) throws -> (String, Dataset) {
        var g = SplitMix(UInt64(n * 31 + group))
        let ids = Array(0..<n)
        let x = (0..<n).map { _ in Double(g.next() % 1000) / 4 }
        let names = (0..<n).map { "n\($0 % 13)" }
        let missing = (0..<n).map { $0 % 9 == 4 }
        let ts = (0..<n).map { 1_700_000_000_000_000 + $0 * 3_600_000_000 }
        let ds = Dataset(columns: [
            Column(name: "id", data: .int(ids)),
            Column(name: "x", data: .float(x.enumerated().map { missing[$0.offset] ? .nan : $0.element }), missing: missing),
            Column(name: "name", data: .string(names)),
            Column.datetime(name: "ts", micros: ts, missing: [Bool](repeating: false, count: n)),
        ])
        let path = tempFile(bytes: [], name: "t.parquet")
        try ds.writeParquet(to: path, compression: "zstd", rowGroupSize: group)
        return (path, try readParquet(path))
    }

    func testParquetShardsConcatenateToTheWholeFile() throws {
        for (n, group) in [(0, 4), (1, 4), (10, 3), (100, 7), (257, 64)] {
            let (path, whole) = try parquet(rows: n, group: group)
            XCTAssertEqual(whole.rowCount, n)
            for size in 1...5 {
                var got: [String] = []
                var shardsWithRows = 0
                for rank in 0..<size {
                    let part = try readParquet(path, shard: try Shard(rank: rank, size: size))
                    XCTAssertEqual(part.columnNames, whole.columnNames)
                    XCTAssertEqual(part.columns.map(\.type), whole.columns.map(\.type))
                    got += rows(part)
                    if part.rowCount > 0 { shardsWithRows += 1 }
                }
                XCTAssertEqual(got, rows(whole), "rows \(n) group \(group) shards \(size)")
                let groups = (n + group - 1) / group
                XCTAssertEqual(shardsWithRows, min(groups, size), "every shard gets groups when there are enough")
            }
        }
    }

    func testParquetShardsOfAGlobSpanFiles() throws {
        let (a, whole1) = try parquet(rows: 40, group: 10)
        let dir = (a as NSString).deletingLastPathComponent
        let (b0, whole2) = try parquet(rows: 25, group: 10)
        try FileManager.default.moveItem(atPath: a, toPath: dir + "/part-0.parquet")
        try FileManager.default.moveItem(atPath: b0, toPath: dir + "/part-1.parquet")
        var got: [String] = []
        for rank in 0..<3 { got += rows(try readParquet(dir + "/part-*.parquet", shard: try Shard(rank: rank, size: 3))) }
        XCTAssertEqual(got, rows(whole1) + rows(whole2))
    }

    func testParquetFilterSkipsRowGroupsByStatistics() throws {
        // ids 0..<100 in groups of 10: group k holds ids 10k..10k+9, x and ts grow with id too.
        let (path, whole) = try parquet(rows: 100, group: 10)
        func check(_ e: ColumnExpr, skipped: Int, file: StaticString = #filePath, line: UInt = #line) throws {
            let stats = ParquetScanStats()
            let got = try readParquet(path, filter: e, stats: stats)
            XCTAssertEqual(stats.rowGroups, 10, file: file, line: line)
            XCTAssertEqual(stats.skippedByFilter, skipped, "\(e)", file: file, line: line)
            XCTAssertEqual(rows(got), rows(try whole.filter(e)), "\(e)", file: file, line: line)
        }
        let id = ColumnExpr.column("id")
        try check(.binary(">=", id, .literal(.int(75))), skipped: 7)
        try check(.binary("<", id, .literal(.int(20))), skipped: 8)
        try check(.binary("==", id, .literal(.int(42))), skipped: 9)
        try check(.binary("==", id, .literal(.double(42.5))), skipped: 9)
        try check(.binary(">", .literal(.int(15)), id), skipped: 8)            // 15 > id
        try check(.binary("and", .binary(">=", id, .literal(.int(30))), .binary("<", id, .literal(.int(50)))), skipped: 8)
        try check(.binary("or", .binary("<", id, .literal(.int(10))), .binary(">=", id, .literal(.int(90)))), skipped: 8)
        try check(.binary("!=", id, .literal(.int(42))), skipped: 0)
        try check(.binary(">", .binary("*", id, .literal(.int(2))), .literal(.int(150))), skipped: 0)   // not col vs literal
        // Timestamps: row k is 1_700_000_000 s + k hours; from row 60's time on, groups 0-5 cannot match.
        let t60 = 1_700_000_000_000_000 + 60 * 3_600_000_000
        try check(.binary(">=", .column("ts"), .literal(.string(Datetime.format(t60)))), skipped: 6)
        // Strings: only < and > decide; names n0..n12 are in every group.
        try check(.binary("<", .column("name"), .literal(.string("n0"))), skipped: 10)
        try check(.binary("==", .column("name"), .literal(.string("zz"))), skipped: 0)
        // Projection: the filter's column is read for the filter and then dropped.
        let stats = ParquetScanStats()
        let xOnly = try readParquet(path, columns: ["x"], filter: .binary("<", id, .literal(.int(5))), stats: stats)
        XCTAssertEqual(xOnly.columnNames, ["x"])
        XCTAssertEqual(xOnly.rowCount, 5)
        XCTAssertEqual(stats.skippedByFilter, 9)
    }

    /// pyarrow's statistics (min_value/max_value, dictionary pages, int32 dates, timestamps
    /// in millis) decide the same skips; the kept rows equal pyarrow's own filter.
    func testPushdownOnAPyarrowFile() throws {
        let dir = ParquetTestSupport.tempDir()
        let path = dir + "/pa.parquet"
        let out = try ParquetTestSupport.runPython(["-c", """
            import sys, datetime, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
            n = 100
            t = pa.table({
                "id": pa.array(range(n), pa.int64()),
                "small": pa.array([i // 10 for i in range(n)], pa.int32()),
                "x": pa.array([i * 0.5 if i % 7 else None for i in range(n)], pa.float64()),
                "s": pa.array([f"k{i:03d}" for i in range(n)]),
                "day": pa.array([datetime.date(2024, 1, 1) + datetime.timedelta(days=i) for i in range(n)], pa.date32()),
                "ts": pa.array([1_700_000_000_000 + i * 3_600_000 for i in range(n)], pa.timestamp("ms")),
            })
            pq.write_table(t, sys.argv[1], row_group_size=10, compression="snappy")
            kept = t.filter(pc.greater_equal(t["x"], 40.0))
            print(kept.num_rows)
            """, path])
        let expected = Int(out.trimmingCharacters(in: .whitespacesAndNewlines))
        func check(_ e: ColumnExpr, skipped: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Dataset {
            let stats = ParquetScanStats()
            let got = try readParquet(path, filter: e, stats: stats)
            XCTAssertEqual(stats.rowGroups, 10, file: file, line: line)
            XCTAssertEqual(stats.skippedByFilter, skipped, "\(e)", file: file, line: line)
            XCTAssertEqual(rows(got), rows(try readParquet(path).filter(e)), "\(e)", file: file, line: line)
            return got
        }
        let x = try check(.binary(">=", .column("x"), .literal(.double(40))), skipped: 8)
        XCTAssertEqual(x.rowCount, expected)
        _ = try check(.binary("<", .column("id"), .literal(.int(30))), skipped: 7)
        _ = try check(.binary("==", .column("small"), .literal(.int(4))), skipped: 9)
        _ = try check(.binary(">", .column("s"), .literal(.string("k089"))), skipped: 9)
        _ = try check(.binary(">=", .column("day"), .literal(.string("2024-03-21"))), skipped: 8)   // day 80 on
        let t90 = Datetime.format((1_700_000_000_000 + 90 * 3_600_000) * 1000)
        _ = try check(.binary(">=", .column("ts"), .literal(.string(t90))), skipped: 9)
    }
}

/// A small seeded generator (SplitMix64) for test data.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
