import Foundation
import XCTest

/// `/predict?explain=true` through the real `mlw serve`: tree models answer with TreeSHAP
/// contributions that add up to the score they predict (binary: the logit of the served
/// probability; isolation forest: log2 of the anomaly score), named by the fitted
/// transforms' feature names; other models are refused with their kind.
final class ServeExplainTests: XCTestCase {
    func testExplainThroughMlwServe() throws {
        let root = TreeFixtures.root
        let mlw = root.appendingPathComponent(".build/debug/mlw").path
        guard FileManager.default.isExecutableFile(atPath: mlw) else { throw XCTSkip("no mlw binary at \(mlw)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let dir = NSTemporaryDirectory() + "mlw-trees-explain-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A binary table (the fixtures' nonlinear rule with noise) under transaction-like names.
        let d = TreeFixtures.classification(rows: 400, features: 4, seed: 11)
        var csv = "amount,hour,age,tenure,fraud\n"
        for i in 0..<d.rows { csv += (0..<4).map { "\(d.x[4 * i + $0])" }.joined(separator: ",") + ",\(Int(d.y[i]))\n" }
        try csv.write(toFile: dir + "/tx.csv", atomically: true, encoding: .utf8)
        let script = """
        let ds = read_csv("tx.csv", label: "fraud")
        let prep = fit_transforms(ds, [standardize()])
        let m = gradient_boosting(prep(ds), trees: 15, min_child_samples: 5, seed: 1)
        register(m, name: "fraud-trees", transforms: prep, alias: "prod")
        let iris = read_csv("\(root.path)/Scripts/data/iris.csv", label: "species")
        register(gradient_boosting(iris, trees: 10, seed: 1), name: "iris-trees", alias: "prod")
        let iso = isolation_forest(iris, trees: 20, seed: 3)
        register(iso, name: "iso", alias: "prod")
        register(linear_regression({x: tensor([[0.0], [1.0], [2.0]]), y: tensor([1.0, 3.0, 5.0])}), name: "line", alias: "prod")
        print(score(iso, tensor([[7.9, 2.2, 6.9, 0.1]]))[0])
        """
        try script.write(toFile: dir + "/script.mlw", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = dir + "/home"
        func run(_ args: [String], wait: Bool = true) throws -> (Process, Pipe, Pipe) {
            let p = Process(); p.executableURL = URL(fileURLWithPath: mlw); p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir); p.environment = env
            let out = Pipe(), err = Pipe(); p.standardOutput = out; p.standardError = err
            try p.run()
            if wait { p.waitUntilExit() }
            return (p, out, err)
        }
        let (r, out, err) = try run(["run", "script.mlw"])
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(r.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        let isoScore = try XCTUnwrap(Double(printed), printed)
        let (server, _, serr) = try run(["serve", "fraud-trees@prod", "iris-trees@prod", "iso@prod", "line@prod", "--port", "0"], wait: false)
        defer { if server.isRunning { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() } }
        let port = try servedPort(serr)
        func post(_ query: String, _ body: String) throws -> (Int, [String: Any]) {
            let c = Process(); c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            c.arguments = ["-s", "-w", "\n%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)/predict?\(query)", "-d", body]
            let cout = Pipe(); c.standardOutput = cout
            try c.run()
            let text = String(decoding: cout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            c.waitUntilExit()
            let lines = text.split(separator: "\n")
            let status = Int(lines.last ?? "") ?? 0
            let json = try JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8)) as? [String: Any] ?? [:]
            return (status, json)
        }
        func explanation(_ j: [String: Any], _ i: Int = 0) throws -> (answer: [String: Any], e: [String: Any], values: [String: Double]) {
            let p = try XCTUnwrap((j["predictions"] as? [[String: Any]])?[i], "\(j)")
            let e = try XCTUnwrap(p["explanation"] as? [String: Any], "\(p)")
            let list = try XCTUnwrap(e["contributions"] as? [[String: Any]])
            var v: [String: Double] = [:]
            for c in list { v[c["feature"] as! String] = (c["value"] as! NSNumber).doubleValue }
            return (p, e, v)
        }

        // Binary boosted model with transforms: the contributions and bias add up to the
        // logit of the served probability, and carry the raw fields' names.
        let record = #"{"amount": 1.5, "hour": -0.3, "age": 0.8, "tenure": 0.4}"#
        var (status, j) = try post("model=fraud-trees&explain=true", "[\(record), {\"amount\": -1, \"hour\": 2, \"age\": 0, \"tenure\": -2}]")
        XCTAssertEqual(status, 200, "\(j)")
        for i in 0..<2 {
            let (a, e, v) = try explanation(j, i)
            XCTAssertEqual(e["units"] as? String, "logit")
            XCTAssertEqual(Set(v.keys), ["amount", "hour", "age", "tenure"])
            let bias = (e["bias"] as! NSNumber).doubleValue, score = (e["score"] as! NSNumber).doubleValue
            XCTAssertEqual(v.values.reduce(bias, +), score, accuracy: 1e-9)
            let p = (a["probability"] as! NSNumber).doubleValue
            XCTAssertEqual(1 / (1 + exp(-score)), p, accuracy: 1e-5)
        }
        // The plain answer is unchanged by explain; top=1 keeps the largest contribution.
        let (_, plain) = try post("model=fraud-trees", record)
        let plainAnswer = try XCTUnwrap((plain["predictions"] as? [[String: Any]])?[0])
        XCTAssertNil(plainAnswer["explanation"])
        let (a0, _, all) = try explanation(j)
        XCTAssertEqual((plainAnswer["probability"] as! NSNumber).doubleValue, (a0["probability"] as! NSNumber).doubleValue)
        (status, j) = try post("model=fraud-trees&explain=true&top=1", record)
        let (_, _, one) = try explanation(j)
        XCTAssertEqual(one.count, 1)
        XCTAssertEqual(abs(one.values.first!), all.values.map(abs).max()!, accuracy: 1e-12)

        // Multiclass: the predicted class is the one explained.
        (status, j) = try post("model=iris-trees&explain=true", #"{"features": [7.7, 2.8, 6.7, 2.0]}"#)
        XCTAssertEqual(status, 200, "\(j)")
        let (ia, ie, iv) = try explanation(j)
        XCTAssertEqual(ie["class"] as? Int, ia["class"] as? Int)
        XCTAssertEqual(ie["label"] as? String, "virginica")
        XCTAssertEqual(Set(iv.keys), ["sepal_length", "sepal_width", "petal_length", "petal_width"])

        // Isolation forest: log2 of the anomaly score the script computed.
        (status, j) = try post("model=iso&explain=true", #"{"features": [7.9, 2.2, 6.9, 0.1]}"#)
        XCTAssertEqual(status, 200, "\(j)")
        let (_, se, sv) = try explanation(j)
        XCTAssertEqual(se["units"] as? String, "log2_anomaly_score")
        XCTAssertEqual(sv.values.reduce((se["bias"] as! NSNumber).doubleValue, +), log2(isoScore), accuracy: 1e-5)

        // Refusals: a model that is not a tree model, and a bad flag.
        (status, j) = try post("model=line&explain=true", #"{"features": [1.0]}"#)
        XCTAssertEqual(status, 400)
        XCTAssertTrue("\(j)".contains("not supported for graph ("), "\(j)")
        (status, j) = try post("model=fraud-trees&explain=yes", record)
        XCTAssertEqual(status, 400)
        XCTAssertTrue("\(j)".contains("must be true or false"), "\(j)")
        (status, _) = try post("model=fraud-trees&explain=true&top=0", record)
        XCTAssertEqual(status, 400)
    }
}
