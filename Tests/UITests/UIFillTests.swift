import Foundation
import Registry
import XCTest

/// Fills a registry for Scripts/bench/ui/run: `MLW_UI_FILL=DIR MLW_UI_FILL_RUNS=10000 swift test
/// --filter UITests.UIFillTests`. Without MLW_UI_FILL it fills a small one and checks the count.
final class UIFillTests: XCTestCase {
    func testFillRegistry() throws {
        let env = ProcessInfo.processInfo.environment
        let root = env["MLW_UI_FILL"].map { URL(fileURLWithPath: $0) } ?? UIFixture.tempRoot()
        let count = env["MLW_UI_FILL"] == nil ? 30 : (Int(env["MLW_UI_FILL_RUNS"] ?? "") ?? 10_000)
        defer { if env["MLW_UI_FILL"] == nil { try? FileManager.default.removeItem(at: root) } }
        let registry = try Registry.open(root: root)
        try fill(registry, runs: count)
        XCTAssertEqual(try registry.runTable().count, count)
    }

    /// `count` runs of 4 scripts: 4 parameters, 10 epochs of loss / val_loss / accuracy, and a
    /// final test_accuracy each (31 metric points per run).
    func fill(_ registry: Registry, runs count: Int) throws {
        let scripts = ["train.mlw", "grid.mlw", "tune.mlw", "digits.mlw"]
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count {
            let lr = [0.1, 0.03, 0.01, 0.003, 0.001][i % 5]
            let id = try registry.startRun(script: scripts[i % 4], scriptHash: SHA256.hex("script \(i % 4)"),
                                           params: ["lr": .double(lr), "epochs": 10, "batch": .int([32, 64, 128][i % 3]), "opt": i % 2 == 0 ? "adam" : "sgd"],
                                           seed: i, startedAt: start.addingTimeInterval(Double(i) * 30))
            var values: [(key: String, value: Double, step: Int?)] = []
            let quality = Double.random(in: 0.7...0.99, using: &rng)
            for e in 0..<10 {
                let loss = (1 - quality) + 1.0 / Double(e + 2)
                values += [("loss", loss, e), ("val_loss", loss * 1.1, e), ("accuracy", quality - 0.2 / Double(e + 1), e)]
            }
            values.append(("test_accuracy", quality, 0))
            _ = try registry.logMetrics(run: id, values)
            try registry.finishRun(id, status: i % 50 == 7 ? .failed : .finished, error: i % 50 == 7 ? "1:1: example failure" : nil,
                                   endedAt: start.addingTimeInterval(Double(i) * 30 + Double(5 + i % 20)))
        }
    }
}
