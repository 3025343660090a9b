import Foundation
import XCTest
@testable import Registry

/// The run columns and helpers `mlw reproduce` and the lazy run recorder rely on.
class ReproduceLinkTests: XCTestCase {
    func testReproduceRunNamesItsOriginal() throws {
        let registry = try makeRegistry()
        let original = try registry.startRun(script: "train.mlw", scriptHash: fakeScriptHash)
        try registry.finishRun(original)
        // A prefix is resolved to the full id; an unknown run is refused.
        let copy = try registry.startRun(script: "train.mlw", scriptHash: fakeScriptHash, reproduces: String(original.prefix(6)))
        XCTAssertEqual(try registry.run(copy).reproduces, original)
        XCTAssertNil(try registry.run(original).reproduces)
        assertThrows(.unknownRun("ffffffffffff")) {
            _ = try registry.startRun(script: "x.mlw", scriptHash: fakeScriptHash, reproduces: "ffffffffffff")
        }
        let details = try registry.runDetails(original)
        XCTAssertEqual(details.reproducedBy, [copy])

        // Its register calls are links labelled reproduce:NAME:K, shown as such.
        try registry.storeArtifact(bytes: Data("w".utf8), run: copy, label: ReproduceLabel(model: "iris", index: 1).label)
        let copyDetails = try registry.runDetails(copy)
        XCTAssertEqual(copyDetails.links.compactMap { ReproduceLabel.parse($0.label) }, [ReproduceLabel(model: "iris", index: 1)])
        let text = RegistryText.runDetails(copyDetails)
        XCTAssertTrue(text.contains("reproduces     \(original)"), text)
        XCTAssertTrue(text.contains("register (not versioned)"), text)
        XCTAssertTrue(RegistryText.runDetails(details).contains("reproduced_by  \(copy)"))
        let runs = RegistryText.runs(try registry.runs())
        XCTAssertTrue(runs.split(separator: "\n")[0].contains("reproduces"), runs)
        XCTAssertFalse(RegistryText.runs([try registry.run(original)]).contains("reproduces"), "no column without a reproduction")
    }

    func testReproduceLabels() {
        XCTAssertEqual(ReproduceLabel(model: "iris", index: 2).label, "reproduce:iris:2")
        XCTAssertEqual(ReproduceLabel.parse("reproduce:iris-v2.x:12"), ReproduceLabel(model: "iris-v2.x", index: 12))
        for bad in ["model", "script", "reproduce:iris", "reproduce::1", "reproduce:iris:0", "reproduce:iris:x", "reproduce:a:1:2"] {
            XCTAssertNil(ReproduceLabel.parse(bad), bad)
        }
    }

    func testTimestampsMatchWhatGRDBReads() throws {
        let date = Date(timeIntervalSince1970: 1_796_300_385.1239)
        XCTAssertEqual(Registry.timestamp(date), "2026-12-03 12:19:45.123")
        XCTAssertEqual(Registry.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00:00.000")
        let back = try XCTUnwrap(Registry.date(timestamp: "2026-12-03 12:19:45.123"))
        XCTAssertEqual(back.timeIntervalSince1970, 1_796_300_385.123, accuracy: 1e-6)
        XCTAssertNil(Registry.date(timestamp: "2026-12-03T12:59:45Z"))
        XCTAssertNil(Registry.date(timestamp: "2026-12-03 12:59:4x.123"))

        // A run written with plain SQL reads back through the records with the same times.
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["lr": 0.5, "n": 30, "on": true],
                                       startedAt: date)
        try registry.finishRun(id, status: .finished, params: ["lr": 0.25, "name": "x"], seed: 7, endedAt: date.addingTimeInterval(2))
        let run = try registry.run(id)
        XCTAssertEqual(run.startedAt.timeIntervalSince1970, 1_796_300_385.123, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(run.endedAt).timeIntervalSince1970, 1_796_300_387.123, accuracy: 1e-6)
        XCTAssertEqual(run.params, ["lr": 0.25, "name": "x"])
        XCTAssertEqual(run.seed, 7)
        XCTAssertEqual(run.pid, Int(getpid()))
        let stored = try registry.storeArtifact(bytes: Data("abc".utf8), run: id, label: "script")
        let fetched = try registry.artifact(sha256: stored.sha256)
        XCTAssertEqual(stored.size, fetched.size)
        XCTAssertEqual(stored.path, fetched.path)
        XCTAssertEqual(stored.storedAt.timeIntervalSince1970, fetched.storedAt.timeIntervalSince1970, accuracy: 1e-6)
    }

    func testFinishRunByPrefixAndItsErrors() throws {
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash)
        try registry.finishRun(String(id.prefix(5)), status: .finished, params: ["a": 1], seed: nil)
        XCTAssertEqual(try registry.run(id).status, .finished)
        XCTAssertEqual(try registry.run(id).params, ["a": 1])
        assertThrows(.runAlreadyFinished(id)) { try registry.finishRun(id) }
        assertThrows(.unknownRun("abcdef123456")) { try registry.finishRun("abcdef123456") }
    }
}

/// The same tests against the PostgreSQL store (skipped without MLW_TEST_POSTGRES).
/// Linux test discovery lists only methods declared in a class, so each test is restated.
final class ReproduceLinkTestsOnPostgres: ReproduceLinkTests, PostgresStoreTest {
    override func testReproduceRunNamesItsOriginal() throws { try super.testReproduceRunNamesItsOriginal() }
    override func testTimestampsMatchWhatGRDBReads() throws { try super.testTimestampsMatchWhatGRDBReads() }
    override func testFinishRunByPrefixAndItsErrors() throws { try super.testFinishRunByPrefixAndItsErrors() }
}
