import Foundation
import JSON
import XCTest
@testable import Frames

/// write_parquet: MLW reads its own files back to the same cells with every codec, and
/// pyarrow and DuckDB (through MLW_PYTHON) read the same values and statistics.
final class ParquetWriterTests: XCTestCase {
    func sample() -> Dataset {
        let n = 1000
        let ints = (0..<n).map { $0 * 7919 % 1000 - 500 }
        let floats = (0..<n).map { Double($0) * 0.25 - 3 }
        let words = ["alpha", "beta", "x,y \"q\"", "日本", ""]
        let strings = (0..<n).map { "s\($0 % 37)-" + words[$0 % words.count] }
        let ts = (0..<n).map { 1_717_200_000_000_000 + $0 * 3_600_000_123 }
        return Dataset(columns: [
            Column(name: "i", data: .int(ints), missing: (0..<n).map { $0 % 11 == 0 }),
            Column(name: "f", data: .float(floats.enumerated().map { $0.offset % 13 == 0 ? .nan : $0.element }),
                   missing: (0..<n).map { $0 % 13 == 0 }),
            Column(name: "s", data: .string(strings), missing: (0..<n).map { $0 % 17 == 0 }),
            Column(name: "c", data: .category(codes: (0..<n).map { $0 % 5 == 4 ? -1 : Int32($0 % 3) }, levels: ["lo", "mid", "hi"])),
            Column.datetime(name: "ts", micros: ts, missing: (0..<n).map { $0 % 19 == 0 }),
        ])
    }

    /// The dataset as pyarrow should see it: strings for categories, missing as nil.
    func expected(_ ds: Dataset) -> [String: [DataValue]] {
        var out: [String: [DataValue]] = [:]
        for c in ds.columns { out[c.name] = (0..<c.count).map { c.value(at: $0) } }
        return out
    }

    func testRoundTripEveryCodec() throws {
        let ds = sample()
        let dir = ParquetTestSupport.tempDir()
        for codec in ["zstd", "snappy", "gzip", "none"] {
            let path = dir + "/out-\(codec).parquet"
            try ds.writeParquet(to: path, compression: codec, rowGroupSize: 300)
            let back = try readParquet(path)
            XCTAssertEqual(back.columnNames, ds.columnNames)
            XCTAssertEqual(back.columns.map(\.type), [.int, .float, .string, .string, .datetime])
            for c in ds.columns {
                let got = back[c.name]!
                XCTAssertEqual(got.missing, c.missing, "\(codec) \(c.name)")
                XCTAssertTrue((0..<c.count).allSatisfy { got.value(at: $0) == c.value(at: $0) }, "\(codec) \(c.name)")
            }
        }
        XCTAssertNotNil(dataError { try ds.writeParquet(to: dir + "/x.parquet", compression: "lz4") })
        // Empty and all-missing columns still make a valid file.
        let empty = Dataset(columns: [Column(name: "s", data: .string(["", ""]), missing: [true, true])])
        try empty.writeParquet(to: dir + "/empty.parquet")
        XCTAssertEqual(try readParquet(dir + "/empty.parquet").columns[0].missing, [true, true])
    }

    func testPyarrowAndDuckDBReadMLWFiles() throws {
        let ds = sample()
        let dir = ParquetTestSupport.tempDir()
        for codec in ["zstd", "snappy", "gzip", "none"] { try ds.writeParquet(to: dir + "/\(codec).parquet", compression: codec, rowGroupSize: 400) }
        let out = try ParquetTestSupport.runPython(["-c", """
        import json, glob, datetime as dt
        import pyarrow.parquet as pq, duckdb
        res = {}
        for path in sorted(glob.glob("\(dir)/*.parquet")):
            t = pq.read_table(path)
            cols = {}
            for f in t.schema:
                vals = t.column(f.name).to_pylist()
                if str(f.type).startswith("timestamp"):
                    vals = [None if v is None else int((v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).total_seconds()) * 1000000 + v.microsecond for v in vals]
                cols[f.name] = vals
            md = pq.ParquetFile(path).metadata
            st = md.row_group(0).column(0).statistics
            d = duckdb.sql(f"select count(*), count(i), sum(i), count(s), min(ts)::varchar, max(f) from '{path}'").fetchall()[0]
            res[path.split("/")[-1]] = {"cols": cols, "stats": [st.min, st.max, st.null_count], "duck": [str(x) for x in d],
                                        "types": [str(f.type) for f in t.schema]}
        print(json.dumps(res))
        """])
        guard case .object(let files) = try JSONParser.parse(out) else { return XCTFail(out) }
        XCTAssertEqual(files.count, 4)
        let want = expected(ds)
        let first400 = (0..<400).filter { !ds["i"]!.missing[$0] }.map { ds["i"]!.value(at: $0) }
        for (name, v) in files {
            guard case .object(let f) = v, case .object(let cols)? = f.first(where: { $0.key == "cols" })?.value else { return XCTFail(name) }
            for (col, list) in cols {
                guard case .array(let items) = list else { return XCTFail(col) }
                let mine = want[col]!
                XCTAssertEqual(items.count, mine.count, "\(name) \(col)")
                for (k, item) in items.enumerated() where DataValue(json: item) != mine[k] {
                    XCTFail("\(name) \(col) row \(k): pyarrow \(item), MLW \(mine[k])"); break
                }
            }
            let stats = f.first { $0.key == "stats" }!.value
            XCTAssertEqual(stats.text(), "[\(first400.map { $0.number! }.min().map { Int($0) }!),\(first400.map { $0.number! }.max().map { Int($0) }!),\(ds["i"]!.missing[0..<400].filter { $0 }.count)]", name)
            let ints = (0..<ds.rowCount).filter { !ds["i"]!.missing[$0] }.map { ds["i"]!.value(at: $0).number! }
            let floats = (0..<ds.rowCount).filter { !ds["f"]!.missing[$0] }.map { ds["f"]!.value(at: $0).number! }
            let duck = f.first { $0.key == "duck" }!.value.text()
            XCTAssertEqual(duck, "[\"1000\",\"\(ints.count)\",\"\(Int(ints.reduce(0, +)))\",\"\(ds["s"]!.missing.filter { !$0 }.count)\",\"2024-06-01 01:00:00.000123+00\",\"\(floats.max()!)\"]", name)
        }
    }
}
