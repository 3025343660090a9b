import CSQLite
import Foundation
import XCTest
@testable import Frames

/// read_sql on SQLite: declared types map to column types, parameters are bound (a quote
/// in a parameter is data, not SQL), errors name the database, and lineage holds the query.
final class SQLReaderTests: XCTestCase {
    func makeDB() throws -> String {
        let path = ParquetTestSupport.tempDir() + "/shop.db"
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        let sql = """
        CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT, country VARCHAR(2), score REAL, signup_ts TIMESTAMP, born DATE);
        INSERT INTO users VALUES (1, 'Ann', 'FR', 1.5, '2024-06-01T12:30:00Z', '1990-01-02');
        INSERT INTO users VALUES (2, 'Bob''s', 'DE', NULL, '2024-06-02 08:00:00+02:00', NULL);
        INSERT INTO users VALUES (3, NULL, 'FR', 3, NULL, '2001-12-31');
        """
        XCTAssertEqual(sqlite3_exec(db, sql, nil, nil, nil), SQLITE_OK)
        return path
    }

    func testTypesAndParameters() throws {
        let path = try makeDB()
        let ds = try readSQLite(path, "SELECT * FROM users ORDER BY user_id")
        XCTAssertEqual(ds.columnNames, ["user_id", "name", "country", "score", "signup_ts", "born"])
        XCTAssertEqual(ds.columns.map(\.type), [.int, .string, .string, .float, .datetime, .datetime])
        XCTAssertEqual(ds["score"]!.value(at: 2), .double(3))
        XCTAssertEqual(ds["score"]!.missing, [false, true, false])
        XCTAssertEqual(ds["signup_ts"]!.value(at: 1), .int(Datetime.parse("2024-06-02T06:00:00Z")!))
        XCTAssertEqual(ds["name"]!.value(at: 1), .string("Bob's"))
        let fr = try readSQLite(path, "SELECT user_id, score * 2 AS s2 FROM users WHERE country = ? AND user_id >= ?", params: [.string("FR"), .int(1)])
        XCTAssertEqual(fr.rowCount, 2)
        XCTAssertEqual(fr["s2"]!.value(at: 1), .double(6))
        // A parameter is a value: an injection attempt matches nothing and drops nothing.
        let none = try readSQLite(path, "SELECT * FROM users WHERE name = ?", params: [.string("x'; DROP TABLE users; --")])
        XCTAssertEqual(none.rowCount, 0)
        XCTAssertEqual(none.columnNames.count, 6)
        XCTAssertEqual(try readSQLite(path, "SELECT count(*) AS n FROM users")["n"]!.value(at: 0), .int(3))
        XCTAssertTrue(ds.lineage.steps[0].params.contains("SELECT * FROM users"))
        XCTAssertNotEqual(fr.lineage.hash, try readSQLite(path, "SELECT user_id, score * 2 AS s2 FROM users WHERE country = ? AND user_id >= ?",
                                                          params: [.string("DE"), .int(1)]).lineage.hash)
        XCTAssertEqual(try readSQLite(":memory:", "SELECT 1 AS a, ? AS b", params: [.string("x")]).columnNames, ["a", "b"])
    }

    func testErrors() throws {
        let path = try makeDB()
        let e1 = dataError { _ = try readSQLite(path, "SELECT * FROM nope") }
        XCTAssertTrue(e1?.description.contains("no such table: nope") ?? false, e1?.description ?? "")
        XCTAssertEqual(e1?.file, path)
        let e2 = dataError { _ = try readSQLite(path, "SELECT * FROM users WHERE user_id = ?") }
        XCTAssertEqual(e2?.description, "\(path): the query has 1 parameter, 0 given")
        XCTAssertNotNil(dataError { _ = try readSQLite(path + ".missing", "SELECT 1") })
        // Read-only: a write is refused.
        XCTAssertNotNil(dataError { _ = try readSQLite(path, "DELETE FROM users") })
        XCTAssertEqual(try readSQLite(path, "SELECT count(*) AS n FROM users")["n"]!.value(at: 0), .int(3))
        XCTAssertEqual(dataError { _ = try readSQLite(path, "SELECT 1, 1") }?.kind, .badArgument)
        XCTAssertEqual(dataError { _ = try readSQLite(path, "SELECT * FROM users", maxCells: 10) }?.kind, .tooLarge)
    }
}
