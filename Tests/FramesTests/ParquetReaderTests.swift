import Foundation
import XCTest
@testable import Frames

/// read_parquet against files pyarrow wrote with every encoding, codec and page version
/// (the committed fixtures, and fresh ones when Python is there), projection, globs,
/// lineage, and clear errors for nested schemas and missing files.
final class ParquetReaderTests: XCTestCase {
    func testCommittedFixturesReadAsPyarrowReadsThem() throws {
        XCTAssertEqual(try ParquetTestSupport.checkAll(in: ParquetTestSupport.fixtures), 7)
    }

    func testFreshPyarrowFilesOfEveryEncodingAndCodec() throws {
        let dir = ParquetTestSupport.tempDir()
        try ParquetTestSupport.runPython([ParquetTestSupport.script, dir, "3000"])
        XCTAssertEqual(try ParquetTestSupport.checkAll(in: dir), 7)
    }

    func testTypesProjectionGlobAndLineage() throws {
        let path = ParquetTestSupport.fixtures + "/dict_snappy_v1.parquet"
        let ds = try readParquet(path)
        XCTAssertEqual(ds.columns.map(\.type), [.int, .int, .float, .float, .int, .string, .string,
                                                .datetime, .datetime, .datetime, .datetime, .float])
        let some = try readParquet(path, columns: ["ts_us", "i32"])
        XCTAssertEqual(some.columnNames, ["ts_us", "i32"])
        XCTAssertEqual(some.columns[0], ds["ts_us"])
        XCTAssertEqual(some.columns[1], ds["i32"])
        XCTAssertEqual(ds.lineage.sources, [try SHA256.hexOfFile(path)])
        XCTAssertNotEqual(some.lineage.hash, ds.lineage.hash)
        let e = dataError { _ = try readParquet(path, columns: ["nope"]) }
        XCTAssertEqual(e?.kind, .unknownColumn)
        XCTAssertTrue(ds.preview().contains("T"), ds.preview())
        // A glob reads matching files in name order, rows end to end.
        let both = try readParquet(ParquetTestSupport.fixtures + "/d*_snappy_v1.parquet", columns: ["i64"])
        let a = try readParquet(ParquetTestSupport.fixtures + "/delta_snappy_v1.parquet", columns: ["i64"])
        let b = try readParquet(ParquetTestSupport.fixtures + "/dict_snappy_v1.parquet", columns: ["i64"])
        XCTAssertEqual(both.rowCount, a.rowCount + b.rowCount)
        XCTAssertEqual(both.columns[0].value(at: a.rowCount), b.columns[0].value(at: 0))
        XCTAssertNotNil(dataError { _ = try readParquet("/nonexistent/*.parquet") })
    }

    func testNestedSchemaIsRefusedByName() throws {
        let dir = ParquetTestSupport.tempDir()
        try ParquetTestSupport.runPython(["-c", """
        import pyarrow as pa, pyarrow.parquet as pq
        pq.write_table(pa.table({"a": [1, 2], "l": [[1], [2, 3]]}), "\(dir)/nested.parquet")
        """])
        let e = dataError { _ = try readParquet(dir + "/nested.parquet") }
        XCTAssertTrue(e?.description.contains("nested") ?? false, e?.description ?? "")
        XCTAssertTrue(e?.description.contains("nested.parquet") ?? false)
    }
}
