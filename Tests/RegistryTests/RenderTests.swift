import Foundation
import XCTest
@testable import Registry

final class RenderTests: XCTestCase {
    func testTextTableAlignsColumns() {
        let text = TextTable(["name", "version", "note"], [["iris", "3", "best"], ["digits-long", "12", ""]]).render()
        XCTAssertEqual(text, """
            name         version  note
            -----------  -------  ----
            iris               3  best
            digits-long       12

            """)
    }

    func testNumberFormatting() {
        XCTAssertEqual(TextTable.format(3.0), "3")
        XCTAssertEqual(TextTable.format(0.123456789), "0.123457")
        XCTAssertEqual(TextTable.format(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00:00")
    }

    func testRenderingsOfRealData() throws {
        let registry = try makeRegistry()
        let a = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["epochs": 20], seed: 42)
        let b = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["epochs": 30], seed: 42)
        try registry.logMetric(run: a, key: "acc", value: 0.5)
        try registry.logMetric(run: b, key: "acc", value: 0.75)
        try registry.recordDataset(run: a, hash: "d1", source: "digits.csv", rows: 10)
        let art = try registry.storeArtifact(bytes: Data("m".utf8), run: a)
        _ = try registry.register(art, name: "digits", run: a, metrics: ["acc": 0.5], alias: "staging")
        try registry.finishRun(a)

        let models = RegistryText.models(try registry.models())
        XCTAssertTrue(models.hasPrefix("name    latest  versions  aliases    updated\n"), models)
        XCTAssertTrue(models.contains("digits       1         1  staging=1"), models)

        let versions = RegistryText.versions(try registry.versions("digits"), aliases: try registry.aliases("digits"))
        XCTAssertTrue(versions.contains("staging"), versions)
        XCTAssertTrue(versions.contains(String(art.sha256.prefix(12))), versions)
        XCTAssertTrue(versions.contains("acc=0.5"), versions)

        let runs = RegistryText.runs(try registry.runs())
        XCTAssertEqual(runs.split(separator: "\n").count, 4, runs)
        XCTAssertTrue(runs.contains("epochs=30"), runs)

        let details = RegistryText.runDetails(try registry.runDetails(a))
        for needle in ["status", "finished", "digits.csv", "acc", "digits", "epochs"] {
            XCTAssertTrue(details.contains(needle), "missing \(needle) in\n\(details)")
        }

        let diff = RegistryText.runDiff(try registry.compareRuns(a, b))
        XCTAssertTrue(diff.contains("*  epochs            20            30"), diff)
        XCTAssertTrue(diff.contains("*  status         finished      running"), diff)
        XCTAssertTrue(diff.contains("0.25"), diff)

        let history = RegistryText.aliasHistory(try registry.aliasHistory("digits"))
        XCTAssertTrue(history.contains("staging     -   1  set"), history)
        XCTAssertEqual(RegistryText.models([]), "no models registered\n")
    }

    func testJSONEncodingsRoundTrip() throws {
        let registry = try makeRegistry()
        let a = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash, params: ["lr": 0.01, "opt": "adam"])
        let art = try registry.storeArtifact(bytes: Data("m".utf8), run: a)
        let version = try registry.register(art, name: "digits", run: a, metrics: ["acc": 0.5])
        let json = try RegistryJSON.string(version)
        XCTAssertTrue(json.contains(#""model_name" : "digits""#), json)
        XCTAssertTrue(json.contains(#""artifact_path" : ""#), json)
        let decoded = try RegistryJSON.decoder().decode(ModelVersion.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.reference, "digits:1")
        XCTAssertEqual(decoded.metrics, ["acc": 0.5])

        let runs = try RegistryJSON.string(try registry.runs(), pretty: false)
        XCTAssertTrue(runs.contains(#""params":{"lr":0.01,"opt":"adam"}"#), runs)
        let diff = try RegistryJSON.string(try registry.compareRuns(a, a), pretty: false)
        XCTAssertTrue(diff.contains(#""changed":false"#), diff)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(try RegistryJSON.string(try registry.runDetails(a)).utf8)))
    }
}
