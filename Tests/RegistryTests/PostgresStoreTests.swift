import Foundation
import XCTest
@testable import Registry

/// What only the PostgreSQL store has: its migrations table, artifacts in the database,
/// many writers at once, and the copy from SQLite. Skipped without MLW_TEST_POSTGRES.
final class PostgresStoreTests: XCTestCase {
    func testMigrationsAreRecordedAndReopeningAppliesNothing() throws {
        let location = try postgresTestLocation()
        let folder = try temporaryDirectory()
        let registry = try Registry(postgres: location, artifacts: .folder(folder))
        let applied = try registry.postgres!.transaction(write: false) { tx in
            try tx.rows("SELECT id FROM mlw_migration ORDER BY id").map { try $0.get("id", String.self) }
        }
        XCTAssertEqual(applied, PostgresSchema.migrationIdentifiers)
        let id = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash)
        let again = try Registry(postgres: location, artifacts: .folder(folder))
        XCTAssertEqual(try again.run(id).script, "a.mlw")
        // A migration this build does not know is refused, not ignored.
        try registry.postgres!.transaction(write: true) { try $0.execute("INSERT INTO mlw_migration (id) VALUES ('pg99-future')") }
        XCTAssertThrowsError(try Registry(postgres: location, artifacts: .folder(folder))) { error in
            XCTAssertEqual(error as? RegistryError, .newerSchema(path: location.description, unknownMigrations: ["pg99-future"]))
        }
    }

    func testConstraintsLiveInTheSchema() throws {
        let registry = try makePostgresRegistry()
        for sql in ["INSERT INTO model (name, created_at) VALUES ('9bad', now())",
                    "INSERT INTO run (id, script, script_sha256, params, started_at, status, host, mlw_version) "
                        + "VALUES ('zzzzzzzzzzzz', 's', '\(fakeScriptHash)', '{}', now(), 'running', 'h', 'v')",
                    "INSERT INTO artifact (sha256, size, stored_at) VALUES ('\(fakeScriptHash)', -1, now())"] {
            XCTAssertThrowsError(try rawSQL(registry, sql), sql)
        }
    }

    func testArtifactsInTheDatabaseRoundTrip() throws {
        let registry = try makePostgresRegistry(inDatabase: true)
        let bytes = Data((0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) })   // four chunks
        let artifact = try registry.storeArtifact(bytes: bytes)
        let v = try registry.register(artifact, name: "big", alias: "prod")
        // A reader with an empty cache gets the bytes from the chunks.
        try FileManager.default.removeItem(atPath: try XCTUnwrap(v.artifactPath))
        let resolved = try registry.resolve("big@prod")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(resolved.artifactPath))), bytes)
        let chunks = try registry.postgres!.transaction(write: false) { tx in
            try tx.row("SELECT COUNT(*) AS n FROM artifact_chunk WHERE sha256 = $1", [.text(artifact.sha256)])!.get("n", Int.self)
        }
        XCTAssertEqual(chunks, 4)
        XCTAssertEqual(try registry.health().problems, [])
    }

    /// 8 writers (each its own connection, as 8 processes would have) log runs, metrics,
    /// registrations and alias moves on the same model at once: nothing is lost, versions
    /// are 1...N without a gap, and every alias move is in the history.
    func testEightConcurrentWritersLoseNothing() throws {
        let location = try postgresTestLocation()
        let folder = try temporaryDirectory()
        let setup = try Registry(postgres: location, artifacts: .folder(folder))
        let perWriter = 6
        let errors = NSLock()
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { w in
            do {
                let registry = try Registry(postgres: location, artifacts: .folder(folder))
                for i in 0..<perWriter {
                    let run = try registry.startRun(script: "w\(w).mlw", scriptHash: fakeScriptHash, params: ["i": .int(i)])
                    try registry.logMetrics(run: run, [("loss", Double(i), nil), ("acc", 0.5, nil)])
                    try registry.logMetric(run: run, key: "loss", value: 0)   // auto step: 1
                    let v = try registry.register(try registry.storeArtifact(bytes: Data("w\(w)-\(i)".utf8), run: run),
                                                  name: "shared", run: run)
                    try registry.setAlias("shared", alias: "prod", version: v.version)
                    try registry.finishRun(run)
                }
            } catch {
                errors.lock(); failures.append("writer \(w): \(error)"); errors.unlock()
            }
        }
        XCTAssertEqual(failures, [])
        let runs = try setup.runs(limit: 1000)
        XCTAssertEqual(runs.count, 8 * perWriter)
        XCTAssertTrue(runs.allSatisfy { $0.status == .finished })
        for run in runs { XCTAssertEqual(try setup.metrics(run: run.id).count, 3, run.id) }
        XCTAssertEqual(try setup.versions("shared").map(\.version), Array(1...(8 * perWriter)))
        XCTAssertEqual(try setup.aliasHistory("shared", alias: "prod").count, 8 * perWriter)
    }

    func testMigrateToCopiesASQLiteRegistryVerifiedByHashes() throws {
        let source = try Registry.open(root: try temporaryDirectory().appendingPathComponent(".mlw"))
        let parent = try source.startRun(script: "search.mlw", scriptHash: fakeScriptHash, params: ["lr": 0.5, "opt": "adam"], seed: 3)
        let child = try source.startRun(script: "search.mlw", scriptHash: fakeScriptHash, parentRun: parent)
        try source.logMetrics(run: child, [("loss", 0.25, 0), ("loss", 0.125, 1)])
        try source.recordDataset(run: child, hash: "abc", source: "data.csv", rows: 3, schemaJSON: "{\"a\":1}")
        let v1 = try source.register(try source.storeArtifact(bytes: Data("one".utf8), run: child, label: "model"), name: "iris",
                                     run: child, metrics: ["acc": 0.9], alias: "prod", kind: .model)
        _ = try source.register(try source.storeArtifact(bytes: Data("two".utf8)), name: "iris", alias: "prod")
        try source.rollback("iris", alias: "prod")
        try source.finishRun(child, status: .failed, error: "boom")
        try source.finishRun(parent)

        let target = try makePostgresRegistry()
        let report = try source.copy(to: target)
        XCTAssertEqual(report.runs, 2)
        XCTAssertEqual(report.metricPoints, 2)
        XCTAssertEqual(report.versions, 2)
        XCTAssertEqual(report.aliasEvents, 3)
        XCTAssertEqual(report.artifacts, 2)
        XCTAssertEqual(report.digest, try source.contentDigest())
        XCTAssertEqual(try target.resolve("iris@prod").version, v1.version)
        XCTAssertEqual(try target.run(child).parentRun, parent)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(target.resolve("iris:2").artifactPath))), Data("two".utf8))
        // A second copy into the same (now full) registry is refused.
        XCTAssertThrowsError(try source.copy(to: target))
    }
}
