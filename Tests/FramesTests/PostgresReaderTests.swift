import Foundation
import FramesPostgres
import XCTest
@testable import Frames

/// read_sql against the real PostgreSQL 15 of Scripts/services/postgres.sh (MLW_TEST_POSTGRES):
/// types mapped, parameters bound, clear errors. Skipped without the server.
final class PostgresReaderTests: XCTestCase {
    func url() throws -> String {
        guard let u = ProcessInfo.processInfo.environment["MLW_TEST_POSTGRES"] else { throw XCTSkip("MLW_TEST_POSTGRES not set") }
        return u
    }

    func testTypesParametersAndErrors() throws {
        let u = try url()
        let table = "frames_io_\(UInt32.random(in: 0..<UInt32.max))"
        _ = try readPostgres(u, "CREATE TABLE \(table) (id bigint, small int2, name text, code varchar(4), score float8, price numeric(10,2), ok boolean, born date, seen timestamptz, local timestamp)")
        defer { _ = try? readPostgres(u, "DROP TABLE \(table)") }
        _ = try readPostgres(u, "INSERT INTO \(table) VALUES ($1, 7, $2, 'FR', 1.5, 12.34, true, '1990-01-02', '2024-06-01T12:30:00+02:00', '2024-06-01 00:00:00.25')",
                             params: [.int(1), .string("Ann's")])
        _ = try readPostgres(u, "INSERT INTO \(table) VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
        let ds = try readPostgres(u, "SELECT * FROM \(table) ORDER BY id")
        XCTAssertEqual(ds.columnNames, ["id", "small", "name", "code", "score", "price", "ok", "born", "seen", "local"])
        XCTAssertEqual(ds.columns.map(\.type), [.int, .int, .string, .string, .float, .float, .int, .datetime, .datetime, .datetime])
        XCTAssertEqual(ds["name"]!.value(at: 0), .string("Ann's"))
        XCTAssertEqual(ds["price"]!.value(at: 0), .double(12.34))
        XCTAssertEqual(ds["born"]!.value(at: 0), .int(Datetime.parse("1990-01-02")!))
        XCTAssertEqual(ds["seen"]!.value(at: 0), .int(Datetime.parse("2024-06-01T10:30:00Z")!))
        XCTAssertEqual(ds["local"]!.value(at: 0), .int(Datetime.parse("2024-06-01T00:00:00.25Z")!))
        XCTAssertEqual(ds.columns.map { $0.missing[1] }, [false] + Array(repeating: true, count: 9))
        let one = try readPostgres(u, "SELECT id FROM \(table) WHERE name = $1 OR id = $2", params: [.string("x' OR '1'='1"), .int(2)])
        XCTAssertEqual(one.rowCount, 1)
        XCTAssertEqual(one["id"]!.value(at: 0), .int(2))
        // No rows: the query's columns, typed from the row description.
        let none = try readPostgres(u, "SELECT id, name, score, seen, ok FROM \(table) WHERE id < 0")
        XCTAssertEqual(none.rowCount, 0)
        XCTAssertEqual(none.columnNames, ["id", "name", "score", "seen", "ok"])
        XCTAssertEqual(none.columns.map(\.type), [.int, .string, .float, .datetime, .int])
        let e = dataError { _ = try readPostgres(u, "SELECT * FROM no_such_table_here") }
        XCTAssertTrue(e?.description.contains("no_such_table_here") ?? false, e?.description ?? "")
        XCTAssertNotNil(dataError { _ = try readPostgres(u, "SELECT point(1,2) AS p") })
        XCTAssertNotNil(dataError { _ = try readPostgres("postgres://", "SELECT 1") })
    }
}
