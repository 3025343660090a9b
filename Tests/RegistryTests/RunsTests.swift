import Foundation
import XCTest
@testable import Registry

class RunsTests: XCTestCase {
    func testRunRoundTrip() throws {
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "train.mlw", scriptHash: fakeScriptHash.uppercased(),
                                       params: ["epochs": 20, "lr": 0.001, "opt": "adam", "shuffle": true],
                                       seed: 42, gitCommit: "abc123", host: "box", mlwVersion: "1.2.3")
        XCTAssertEqual(id.count, 12)
        var run = try registry.run(id)
        XCTAssertEqual(run.status, .running)
        XCTAssertEqual(run.scriptSha256, fakeScriptHash)
        XCTAssertEqual(run.params, ["epochs": .int(20), "lr": .double(0.001), "opt": .string("adam"), "shuffle": .bool(true)])
        XCTAssertEqual(run.seed, 42)
        XCTAssertEqual(run.gitCommit, "abc123")
        XCTAssertEqual(run.host, "box")
        XCTAssertEqual(run.mlwVersion, "1.2.3")
        XCTAssertNil(run.endedAt)

        try registry.finishRun(id, status: .failed, error: "loss is NaN")
        run = try registry.run(id)
        XCTAssertEqual(run.status, .failed)
        XCTAssertEqual(run.error, "loss is NaN")
        XCTAssertNotNil(run.endedAt)
        assertThrows(.runAlreadyFinished(id)) { try registry.finishRun(id) }
    }

    func testRunIdPrefixAndUnknownRuns() throws {
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash)
        XCTAssertEqual(try registry.run(String(id.prefix(6))).id, id)
        assertThrows(.unknownRun("ffffffffffff")) { try registry.run("ffffffffffff") }
        assertThrows(.unknownRun("nope")) { try registry.run("nope") }
        assertThrows(.unknownRun("zzzz")) { try registry.logMetric(run: "zzzz", key: "loss", value: 1) }
        XCTAssertEqual(RegistryError.unknownRun("nope").description, "unknown run 'nope'")
    }

    func testMetricsAutoStepReplaceAndFinalValues() throws {
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash)
        XCTAssertEqual(try registry.logMetric(run: id, key: "loss", value: 0.9), 0)
        XCTAssertEqual(try registry.logMetric(run: id, key: "loss", value: 0.5), 1)
        XCTAssertEqual(try registry.logMetric(run: id, key: "loss", value: 0.4, step: 10), 10)
        XCTAssertEqual(try registry.logMetric(run: id, key: "loss", value: 0.3, step: 10), 10) // replaces
        XCTAssertEqual(try registry.logMetrics(run: id, [("acc", 0.7, nil), ("acc", 0.8, nil)]), [0, 1])
        let points = try registry.metrics(run: id)
        XCTAssertEqual(points.map(\.key), ["acc", "acc", "loss", "loss", "loss"])
        XCTAssertEqual(points.map(\.step), [0, 1, 0, 1, 10])
        XCTAssertEqual(try registry.finalMetrics(run: id), ["acc": 0.8, "loss": 0.3])

        assertThrows(.invalidValue("metric 'loss' is NaN; NaN cannot be stored")) {
            try registry.logMetric(run: id, key: "loss", value: .nan)
        }
        assertThrows(.invalidName(kind: "metric", name: "bad key")) { try registry.logMetric(run: id, key: "bad key", value: 1) }
        assertThrows(.invalidValue("metric 'loss' has negative step -1")) {
            try registry.logMetric(run: id, key: "loss", value: 1, step: -1)
        }
    }

    func testDatasetsAndArtifactsLinkToRuns() throws {
        let registry = try makeRegistry()
        let a = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash)
        let b = try registry.startRun(script: "b.mlw", scriptHash: fakeScriptHash)
        try registry.recordDataset(run: a, hash: "d1", source: "data/digits.csv", rows: 1797, schemaJSON: #"{"digit":"category"}"#)
        try registry.recordDataset(run: a, hash: "d1", source: "data/digits.csv", rows: 1797) // idempotent
        try registry.recordDataset(run: b, hash: "d1", source: "other name ignored", rows: 1)
        let ds = try registry.datasets(run: b)
        XCTAssertEqual(ds.count, 1)
        XCTAssertEqual(ds[0].source, "data/digits.csv")
        XCTAssertEqual(ds[0].rows, 1797)
        XCTAssertEqual(ds[0].schemaJson, #"{"digit":"category"}"#)
        assertThrows(.invalidValue("dataset schema is not valid JSON")) {
            try registry.recordDataset(run: a, hash: "d2", source: "x", rows: 1, schemaJSON: "{nope")
        }

        let file = try temporaryDirectory().appendingPathComponent("weights.bin")
        try Data("weights".utf8).write(to: file)
        let art = try registry.storeArtifact(file: file, run: a, label: "weights")
        XCTAssertEqual(art.sha256, SHA256.hex(Data("weights".utf8)))
        XCTAssertEqual(art.size, 7)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: art.path!)), Data("weights".utf8))
        XCTAssertEqual(art.path, registry.artifactsDirectory.appendingPathComponent(art.sha256).path)
        let again = try registry.storeArtifact(bytes: Data("weights".utf8))
        XCTAssertEqual(again.sha256, art.sha256)
        XCTAssertEqual(try registry.artifacts(run: a).map(\.sha256), [art.sha256])
        XCTAssertEqual(try registry.artifacts(run: b), [])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: registry.artifactsDirectory.path)
        XCTAssertEqual(leftovers, [art.sha256], "no temporary files stay behind")
        XCTAssertEqual(try registry.check(), [])
    }

    func testRunsFilterAndOrder() throws {
        let registry = try makeRegistry()
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let r1 = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash, params: ["epochs": 10], startedAt: t0)
        let r2 = try registry.startRun(script: "a.mlw", scriptHash: fakeScriptHash, params: ["epochs": 30], startedAt: t0 + 10)
        let r3 = try registry.startRun(script: "b.mlw", scriptHash: fakeScriptHash, params: ["epochs": 30], startedAt: t0 + 20)
        try registry.finishRun(r2)
        XCTAssertEqual(try registry.runs().map(\.id), [r3, r2, r1])
        XCTAssertEqual(try registry.runs(limit: 2).map(\.id), [r3, r2])
        XCTAssertEqual(try registry.runs(filter: RunFilter(status: .finished)).map(\.id), [r2])
        XCTAssertEqual(try registry.runs(filter: RunFilter(script: "a.mlw")).map(\.id), [r2, r1])
        XCTAssertEqual(try registry.runs(filter: RunFilter(params: ["epochs": "30"])).map(\.id), [r3, r2])
        XCTAssertEqual(try registry.runs(filter: RunFilter(script: "a.mlw", params: ["epochs": "30"])).map(\.id), [r2])
        XCTAssertEqual(try registry.runs(filter: RunFilter(params: ["missing": "1"])), [])
    }

    func testCompareRuns() throws {
        let registry = try makeRegistry()
        let a = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["epochs": 20, "lr": 0.1], seed: 1)
        let b = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["epochs": 30, "batch": 64], seed: 1)
        try registry.logMetric(run: a, key: "acc", value: 0.5)
        try registry.logMetric(run: a, key: "acc", value: 0.75)
        try registry.logMetric(run: b, key: "acc", value: 1.0)
        try registry.logMetric(run: b, key: "loss", value: 0.2)
        let diff = try registry.compareRuns(a, b)
        XCTAssertEqual(diff.params, [
            .init(key: "batch", a: nil, b: "64"), .init(key: "epochs", a: "20", b: "30"), .init(key: "lr", a: "0.1", b: nil),
        ])
        XCTAssertEqual(diff.fields.filter(\.changed).map(\.key), [])
        XCTAssertEqual(diff.metrics, [.init(key: "acc", a: 0.75, b: 1.0), .init(key: "loss", a: nil, b: 0.2)])
        XCTAssertEqual(diff.metrics[0].delta, 0.25)
        XCTAssertFalse(diff.isIdentical)
        XCTAssertTrue(try registry.compareRuns(a, a).isIdentical)
    }
}

/// The same tests against the PostgreSQL store (skipped without MLW_TEST_POSTGRES).
/// Linux test discovery lists only methods declared in a class, so each test is restated.
final class RunsTestsOnPostgres: RunsTests, PostgresStoreTest {
    override func testRunRoundTrip() throws { try super.testRunRoundTrip() }
    override func testRunIdPrefixAndUnknownRuns() throws { try super.testRunIdPrefixAndUnknownRuns() }
    override func testMetricsAutoStepReplaceAndFinalValues() throws { try super.testMetricsAutoStepReplaceAndFinalValues() }
    override func testDatasetsAndArtifactsLinkToRuns() throws { try super.testDatasetsAndArtifactsLinkToRuns() }
    override func testRunsFilterAndOrder() throws { try super.testRunsFilterAndOrder() }
    override func testCompareRuns() throws { try super.testCompareRuns() }
}
