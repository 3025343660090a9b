import Foundation
import XCTest

/// Issue 17: classical models fitted in a script on transformed data, registered with their
/// fitted transforms and served by `mlw serve` (the same path as nets): `/predict` on a raw
/// record and V2 on named inputs answer what the script's own predict gives.
final class ServeClassicalTests: XCTestCase {
    func testClassicalModelsServeWithTheirTransforms() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let dir = NSTemporaryDirectory() + "mlw-classical-serve-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var csv = "size,color,tenure,label\n"
        let colors = ["red", "green", "blue"]
        for i in 0..<60 {
            let size = 1 + Double(i % 9) * 0.5, c = i % 3, tenure = (i * 7) % 24
            csv += "\(size),\(colors[c]),\(tenure),\(size + (c == 0 ? 1 : 0) - 0.1 * Double(tenure) > 1.8 ? "yes" : "no")\n"
        }
        let script = """
        let ds = read_csv("churn.csv", label: "label")
        let prep = fit_transforms(ds, [standardize(), one_hot_encode(), label_encode()])
        let lr = logistic_regression(prep(ds), l2: 0.1)
        let nn = knn(prep(ds), k: 5, weights: "distance")
        let km = kmeans(prep(ds), k: 3, seed: 2)
        register(lr, name: "churn-logistic", transforms: prep, alias: "staging")
        register(nn, name: "churn-knn", transforms: prep, alias: "staging")
        register(km, name: "churn-segments", transforms: prep, alias: "staging")
        let row = prep(ds)
        print(predict(lr, row)[4][0], predict_class(nn, row)[4], softmax(predict(nn, row)[4])[1], predict(km, row)[4][0])
        """
        try csv.write(toFile: dir + "/churn.csv", atomically: true, encoding: .utf8)
        try script.write(toFile: dir + "/script.mlw", atomically: true, encoding: .utf8)
        let env = ["MLW_HOME": dir + "/home"]
        let run = try ReplTests.mlw(["run", "script.mlw"], env: env, in: dir)
        XCTAssertEqual(run.2, 0, run.1)
        let printed = run.0.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        XCTAssertEqual(printed.count, 4, run.0)
        guard printed.count == 4, let logit = Double(printed[0]), let knnYes = Double(printed[2]), let cluster = Double(printed[3]) else { return }
        // CSV row 5 (index 4): size 3, green, tenure 4.
        let record = #"{"size": 3.0, "color": "green", "tenure": 4}"#

        func served(_ model: String, _ check: (_ curl: (String...) throws -> [String: Any]) throws -> Void) throws {
            let server = try ServedMLW.start("\(model)@staging", in: dir, env: env)
            defer { server.stop() }
            guard server.port > 0 else { throw XCTSkip("server did not start: \(server.log)") }
            try check { args in
                let c = Process()
                c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                c.arguments = ["-s"] + args.map { $0.replacingOccurrences(of: "PORT", with: String(server.port)) }
                let out = Pipe()
                c.standardOutput = out
                try c.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                c.waitUntilExit()
                return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            }
        }

        let p = 1 / (1 + exp(-logit))
        try served("churn-logistic") { curl in
            let r = try curl("-X", "POST", "http://127.0.0.1:PORT/predict", "-d", record)
            XCTAssertEqual(r["task"] as? String, "binary", "\(r)")
            let a = try XCTUnwrap((r["predictions"] as? [[String: Any]])?.first, "\(r)")
            XCTAssertEqual(try XCTUnwrap((a["probability"] as? NSNumber)?.doubleValue), p, accuracy: 1e-5)
            XCTAssertEqual(a["label"] as? String, p >= 0.5 ? "yes" : "no")
            let v2 = try curl("-X", "POST", "http://127.0.0.1:PORT/v2/models/churn-logistic/infer", "-d",
                              #"{"inputs": [{"name": "size", "shape": [1], "datatype": "FP32", "data": [3.0]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["green"]}, {"name": "tenure", "shape": [1], "datatype": "FP32", "data": [4]}]}"#)
            let out = try XCTUnwrap((v2["outputs"] as? [[String: Any]])?.first, "\(v2)")
            XCTAssertEqual(out["name"] as? String, "probabilities")
            XCTAssertEqual(out["shape"] as? [Int], [1, 2])
            let data = (out["data"] as? [NSNumber] ?? []).map(\.doubleValue)
            XCTAssertEqual(data.count, 2)
            if data.count == 2 { XCTAssertEqual(data[1], p, accuracy: 1e-5) }
        }
        try served("churn-knn") { curl in
            let r = try curl("-X", "POST", "http://127.0.0.1:PORT/predict", "-d", record)
            let a = try XCTUnwrap((r["predictions"] as? [[String: Any]])?.first, "\(r)")
            XCTAssertEqual(a["label"] as? String, printed[1], "\(r)")
            XCTAssertEqual(try XCTUnwrap((a["probability"] as? NSNumber)?.doubleValue), knnYes, accuracy: 1e-5)
        }
        try served("churn-segments") { curl in
            let v2 = try curl("-X", "POST", "http://127.0.0.1:PORT/v2/models/churn-segments/infer", "-d",
                              #"{"inputs": [{"name": "size", "shape": [1], "datatype": "FP32", "data": [3.0]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["green"]}, {"name": "tenure", "shape": [1], "datatype": "FP32", "data": [4]}]}"#)
            let out = try XCTUnwrap((v2["outputs"] as? [[String: Any]])?.first, "\(v2)")
            XCTAssertEqual((out["data"] as? [NSNumber])?.map(\.doubleValue), [cluster], "\(v2)")
        }
    }
}
