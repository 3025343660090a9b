import Foundation
import XCTest
@testable import Registry

/// Test classes whose tests run against the PostgreSQL store adopt this (see `makeRegistry`).
protocol PostgresStoreTest {}

extension XCTestCase {
    /// A fresh temporary folder removed after the test.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlw-registry-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A fresh registry: SQLite in a temporary folder, or for a `PostgresStoreTest` class a
    /// PostgreSQL registry in a fresh schema of MLW_TEST_POSTGRES (the test is skipped
    /// without it).
    func makeRegistry() throws -> Registry {
        if self is PostgresStoreTest { return try makePostgresRegistry() }
        return try Registry.open(root: try temporaryDirectory().appendingPathComponent(".mlw"))
    }

    /// MLW_TEST_POSTGRES in a new schema dropped after the test; skips the test without it.
    func postgresTestLocation() throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["MLW_TEST_POSTGRES"], !url.isEmpty else {
            throw XCTSkip("MLW_TEST_POSTGRES is not set (Scripts/services/postgres.sh starts a server)")
        }
        var location = try PostgresLocation.parse(url)
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var admin = location
        admin.schema = nil
        addTeardownBlock {
            _ = try? PostgresSession(admin).withConnection { try $0.script("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE") }
        }
        location.schema = schema
        return location
    }

    /// A PostgreSQL registry in a fresh schema, artifacts in a temporary folder (or in the database).
    func makePostgresRegistry(inDatabase: Bool = false) throws -> Registry {
        let location = try postgresTestLocation()
        let folder = try temporaryDirectory().appendingPathComponent("artifacts")
        return try Registry(postgres: location, artifacts: inDatabase ? .database(cache: folder) : .folder(folder))
    }

    /// Runs SQL on either store, past the API (to test the schema's constraints).
    func rawSQL(_ registry: Registry, _ sql: String) throws {
        if let postgres = registry.postgres {
            try postgres.transaction(write: true) { try $0.execute(sql) }
        } else {
            try registry.dbQueue.write { try $0.execute(sql: sql) }
        }
    }

    /// Asserts that `body` throws exactly `expected`.
    func assertThrows<T>(_ expected: RegistryError, file: StaticString = #filePath, line: UInt = #line,
                         _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected error: \(expected)", file: file, line: line)
        } catch let error as RegistryError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }
}

let fakeScriptHash = SHA256.hex(Data("script".utf8))
