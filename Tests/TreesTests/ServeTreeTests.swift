import Foundation
import XCTest

/// A gradient-boosted model fitted, registered and served by the real `mlw` binary:
/// `/predict` on a raw record answers the class the script's own predict_class gives.
final class ServeTreeTests: XCTestCase {
    func testRegisteredTreeModelServes() throws {
        let root = TreeFixtures.root
        let mlw = root.appendingPathComponent(".build/debug/mlw").path
        guard FileManager.default.isExecutableFile(atPath: mlw) else { throw XCTSkip("no mlw binary at \(mlw)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let dir = NSTemporaryDirectory() + "mlw-trees-serve-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        let ds = read_csv("\(root.path)/Scripts/data/iris.csv", label: "species")
        let prep = fit_transforms(ds, [standardize()])
        let m = gradient_boosting(prep(ds), trees: 20, seed: 1)
        register(m, name: "iris-trees", transforms: prep, alias: "staging")
        print(predict_class(m, prep(ds))[120])
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
        XCTAssertEqual(printed, "virginica")
        let (server, _, serr) = try run(["serve", "iris-trees@staging", "--port", "0"], wait: false)
        defer { if server.isRunning { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() } }
        let port = try servedPort(serr)
        let c = Process(); c.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        c.arguments = ["-s", "-X", "POST", "http://127.0.0.1:\(port)/predict", "-d",
                       #"{"sepal_length": 7.7, "sepal_width": 2.8, "petal_length": 6.7, "petal_width": 2.0}"#]
        let cout = Pipe(); c.standardOutput = cout
        try c.run()
        let body = String(decoding: cout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        c.waitUntilExit()
        XCTAssertTrue(body.contains("\"multiclass\""), body)
        XCTAssertTrue(body.contains("virginica"), body)
    }
}
