import Foundation
import XCTest
import Yams
@testable import Deploy

/// The alerting rules `mlw deploy prometheus` writes: parsed field by field, then checked by
/// Prometheus itself (`promtool check rules`, `promtool test rules` on the written tests:
/// each alert fires on its bad series and stays quiet on the healthy ones). The promtool
/// part is skipped when promtool is not installed (Debian package prometheus).
final class PrometheusRulesTests: XCTestCase {
    func testRulesHaveEveryAlert() throws {
        let rules = try PrometheusRules(model: "digits")
        let doc = try XCTUnwrap(try Yams.load(yaml: rules.rules().text()) as? [String: Any])
        let group = try XCTUnwrap((doc["groups"] as? [[String: Any]])?.first)
        XCTAssertEqual(group["name"] as? String, "mlw-digits")
        let alerts = try XCTUnwrap(group["rules"] as? [[String: Any]])
        XCTAssertEqual(alerts.map { $0["alert"] as? String }, ["MLWHighErrorRate", "MLWHighP99Latency", "MLWModelLoadFailures",
                                                               "MLWFeatureDrift", "MLWNoTraffic"])
        let byName = Dictionary(uniqueKeysWithValues: alerts.map { ($0["alert"] as! String, $0) })
        XCTAssertEqual(byName["MLWFeatureDrift"]?["for"] as? String, "10m")
        XCTAssertTrue((byName["MLWFeatureDrift"]?["expr"] as? String)?.contains("mlw_input_drift_score{model=\"digits\"}") == true)
        XCTAssertTrue((byName["MLWHighP99Latency"]?["expr"] as? String)?.contains("histogram_quantile(0.99") == true)
        XCTAssertEqual((byName["MLWHighErrorRate"]?["labels"] as? [String: String])?["severity"], "critical")
        for a in alerts { XCTAssertEqual((a["labels"] as? [String: String])?["model"], "digits") }
    }

    func testPromtoolPassesTheWrittenTests() throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("promtool is not installed (Debian package prometheus)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = try PrometheusRules(model: "digits")
        for f in rules.files() { try Data(f.text.utf8).write(to: dir.appendingPathComponent(f.name)) }
        func runPromtool(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: promtool)
            p.arguments = args
            p.currentDirectoryURL = dir
            let pipe = Pipe()
            p.standardOutput = pipe; p.standardError = pipe
            try p.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, out)
        }
        let (checked, checkOut) = try runPromtool(["check", "rules", rules.fileName])
        XCTAssertEqual(checked, 0, checkOut)
        XCTAssertTrue(checkOut.contains("5 rules found"), checkOut)
        let (tested, testOut) = try runPromtool(["test", "rules", rules.testFileName])
        XCTAssertEqual(tested, 0, testOut)
        XCTAssertTrue(testOut.contains("SUCCESS"), testOut)

        // The tests do test: with a threshold no series reaches, the firing cases fail.
        var lax = rules
        lax.errorRate = 0.5
        try Data(lax.rules().text().utf8).write(to: dir.appendingPathComponent(rules.fileName))
        let (failed, failOut) = try runPromtool(["test", "rules", rules.testFileName])
        XCTAssertNotEqual(failed, 0, failOut)
        XCTAssertTrue(failOut.contains("MLWHighErrorRate"), failOut)
    }
}
