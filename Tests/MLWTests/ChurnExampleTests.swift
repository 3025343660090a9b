import Foundation
import XCTest

/// Scripts/examples/churn.mlw end to end through `mlw`: logistic regression against the
/// MLP, k-means segments covering every training row, the best model registered with its
/// transforms and answering a raw customer record at /predict.
final class ChurnExampleTests: XCTestCase {
    func testChurnExampleRunsRegistersAndServes() throws {
        let dir = NSTemporaryDirectory() + "mlw-churn-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/Scripts", withDestinationPath: DocsTests.root.appendingPathComponent("Scripts").path)
        let env = ["MLW_HOME": dir + "/home"]
        let (out, err, status) = try ReplTests.mlw(["run", "Scripts/examples/churn.mlw"], env: env, in: dir)
        XCTAssertEqual(status, 0, err)
        let lines = out.split(separator: "\n").map(String.init)
        func numbers(_ prefix: String) -> [Double] {
            guard let l = lines.first(where: { $0.hasPrefix(prefix) }) else { XCTFail("no line '\(prefix)' in:\n\(out)"); return [] }
            return l.dropFirst(prefix.count).split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        }
        XCTAssertTrue(lines.contains("logistic regression (2 classes, L-BFGS, 17 iterations) on 600 rows"), out)
        let auc = numbers("test roc_auc:")
        XCTAssertEqual(auc.count, 2)
        XCTAssertGreaterThan(auc.first ?? 0, 0.75, "logistic regression's test ROC-AUC")
        XCTAssertGreaterThan(numbers("logistic 5-fold roc_auc").first ?? 0, 0.75)
        let sizes = lines.filter { $0.hasPrefix("segment ") }.compactMap { l in l.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } }
        XCTAssertEqual(sizes.count, 4, out)
        XCTAssertEqual(sizes.reduce(0, +), 600, "every training row in one segment")
        XCTAssertTrue(lines.last?.hasPrefix("registered ") == true && lines.last?.contains("churn:1 (alias staging)") == true, out)

        let server = try ServedMLW.start("churn@staging", in: dir, env: env)
        defer { server.stop() }
        guard server.port > 0 else { throw XCTSkip("server did not start: \(server.log)") }
        let c = Process()
        c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        c.arguments = ["-s", "-X", "POST", "http://127.0.0.1:\(server.port)/predict", "-d",
                       #"[{"tenure_months": 2, "monthly_charges": 105, "support_calls": 6, "data_gb": 3, "contract": "month", "payment": "check"}, {"tenure_months": 60, "monthly_charges": 25, "support_calls": 0, "data_gb": 9, "contract": "two_year", "payment": "card"}]"#]
        let pipe = Pipe()
        c.standardOutput = pipe
        try c.run()
        let body = pipe.fileHandleForReading.readDataToEndOfFile()
        c.waitUntilExit()
        let r = (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        XCTAssertEqual(r["task"] as? String, "binary", "\(r)")
        let answers = (r["predictions"] as? [[String: Any]]) ?? []
        XCTAssertEqual(answers.map { $0["label"] as? String }, ["yes", "no"], "\(r)")
    }
}
