import Foundation
import XCTest

/// Scripts/examples/fraud.mlw end to end on 100k generated transactions: the isolation
/// forest finds fraud without labels, boosting does much better, a threshold reaches 90%
/// validation precision, and the registered model explains a flagged transaction at
/// /predict?explain=true through `mlw serve`.
final class FraudExampleTests: XCTestCase {
    func testFraudExampleRunsRegistersAndExplains() throws {
        let root = TreeFixtures.root
        let mlw = root.appendingPathComponent(".build/debug/mlw").path
        guard FileManager.default.isExecutableFile(atPath: mlw) else { throw XCTSkip("no mlw binary at \(mlw)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            throw XCTSkip("needs python3 (the data generator) and curl")
        }
        let dir = NSTemporaryDirectory() + "mlw-fraud-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = dir + "/home"
        func run(_ exe: String, _ args: [String], wait: Bool = true, stdout: String? = nil) throws -> (Process, Pipe, Pipe) {
            let p = Process(); p.executableURL = URL(fileURLWithPath: exe); p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: root.path); p.environment = env
            let out = Pipe(), err = Pipe(); p.standardError = err
            if let stdout { FileManager.default.createFile(atPath: stdout, contents: nil); p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout)) } else { p.standardOutput = out }
            try p.run()
            if wait { p.waitUntilExit() }
            return (p, out, err)
        }
        let csv = dir + "/fraud.csv"
        let (gen, _, _) = try run("/usr/bin/python3", ["Scripts/examples/fraud_data.py", "100000"], stdout: csv)
        XCTAssertEqual(gen.terminationStatus, 0)
        let (r, out, err) = try run(mlw, ["run", "Scripts/examples/fraud.mlw", "--set", "data=\(csv)"])
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(r.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        let lines = text.split(separator: "\n").map(String.init)
        func numbers(_ prefix: String) -> [Double] {
            guard let l = lines.first(where: { $0.hasPrefix(prefix) }) else { XCTFail("no line '\(prefix)' in:\n\(text)"); return [] }
            return l.dropFirst(prefix.count).split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        }
        XCTAssertEqual(lines.first, "transactions: 100000 (train 60000, val 20000, test 20000)")
        let iso = numbers("isolation forest:"), gb = numbers("gradient boosting:")
        XCTAssertEqual(iso.count, 2, text); XCTAssertEqual(gb.count, 3, text)
        XCTAssertGreaterThan(iso.first ?? 0, 0.8, "the isolation forest finds fraud without labels")
        XCTAssertGreaterThan(gb.dropFirst().first ?? 0, 0.95, "boosting's test ROC-AUC")
        XCTAssertGreaterThan(gb.last ?? 0, 2 * (iso.last ?? 1), "boosting's PR-AUC well above the unsupervised baseline")
        let t = numbers("threshold for 90% validation precision:").last ?? 0
        XCTAssertTrue(t > 0.5 && t < 1, text)
        XCTAssertTrue(lines.contains("registered fraud:1 (alias staging)"), text)

        let (server, _, serr) = try run(mlw, ["serve", "fraud@staging", "--port", "0"], wait: false)
        defer { if server.isRunning { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() } }
        let port = try servedPort(serr)
        let c = Process(); c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        c.arguments = ["-s", "-X", "POST", "http://127.0.0.1:\(port)/predict?explain=true&top=3", "-d", """
            [{"amount": 2400, "hour": 3, "merchant": "jewelry", "user_avg_amount": 40, "tx_last_24h": 14, "km_from_home": 300},
             {"amount": 35, "hour": 14, "merchant": "grocery", "user_avg_amount": 40, "tx_last_24h": 1, "km_from_home": 2}]
            """]
        let cout = Pipe(); c.standardOutput = cout
        try c.run()
        let body = cout.fileHandleForReading.readDataToEndOfFile()
        c.waitUntilExit()
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: body) as? [String: Any], String(decoding: body, as: UTF8.self))
        let answers = try XCTUnwrap(json["predictions"] as? [[String: Any]], "\(json)")
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[0]["class"] as? Int, 1, "the jewelry burst at 3am is flagged: \(answers[0])")
        XCTAssertEqual(answers[1]["class"] as? Int, 0, "the afternoon grocery purchase is not: \(answers[1])")
        let e = try XCTUnwrap(answers[0]["explanation"] as? [String: Any])
        let top = try XCTUnwrap(e["contributions"] as? [[String: Any]])
        XCTAssertEqual(top.count, 3)
        XCTAssertGreaterThan((top[0]["value"] as! NSNumber).doubleValue, 0, "the top feature pushes towards fraud: \(top)")
        let p = (answers[0]["probability"] as! NSNumber).doubleValue, score = (e["score"] as! NSNumber).doubleValue
        XCTAssertEqual(1 / (1 + exp(-score)), p, accuracy: 1e-5)
    }
}
