import Foundation
import XCTest

/// The example scripts run end to end through the `mlw` binary (train, evaluate, save,
/// register), and a recorded run reproduces bit for bit.
final class ExampleScriptTests: XCTestCase {
    /// A scratch project folder whose `Scripts` points at the repository's, with its own MLW_HOME.
    func project() throws -> (dir: String, env: [String: String]) {
        let dir = NSTemporaryDirectory() + "mlw-examples-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/Scripts", withDestinationPath: DocsTests.root.appendingPathComponent("Scripts").path)
        return (dir, ["MLW_HOME": dir + "/home"])
    }

    func mlw(_ args: [String], in dir: String, env: [String: String]) throws -> (String, String, Int32) {
        try ReplTests.mlw(args, env: env, in: dir)
    }

    /// The model a script trained and registered is served with one command, and takes
    /// raw records at /predict (the fitted transforms travel with it).
    func testServeTheRegisteredIrisModel() throws {
        let (dir, env) = try project()
        XCTAssertEqual(try mlw(["run", "Scripts/examples/iris.mlw"], in: dir, env: env).2, 0)
        let server = try ServedMLW.start("iris@staging", in: dir, env: env)
        let p = server.process, port = server.port
        guard port > 0 else { p.terminate(); return XCTFail("server did not start: \(server.log)") }
        defer { if p.isRunning { p.terminate() } }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-X", "POST", "http://127.0.0.1:\(port)/predict", "-d",
                          #"{"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.4, "petal_width": 2.1}"#]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let body = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        XCTAssertTrue(body.contains(#""model_name":"iris""#) && body.contains(#""label":"virginica""#), body)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testDigitsReachesTheAccuracyTarget() throws {
        let (dir, env) = try project()
        // The script asserts test accuracy >= 0.97 itself.
        let run = try mlw(["run", "Scripts/examples/digits.mlw"], in: dir, env: env)
        XCTAssertEqual(run.2, 0, run.1)
        XCTAssertTrue(run.0.contains("digits:1"), run.0)
    }

    func testCompressDigitsRuns() throws {
        let (dir, env) = try project()
        // The script asserts the compressed models keep their accuracy; compare() prints the table.
        let run = try mlw(["run", "Scripts/examples/compress_digits.mlw"], in: dir, env: env)
        XCTAssertEqual(run.2, 0, run.1)
        XCTAssertTrue(run.0.contains("distill+prune+int8"), run.0)
    }

    func testHelloRuns() throws {
        let (dir, env) = try project()
        let run = try mlw(["run", "--no-record", "Scripts/examples/hello.mlw", "--set", "name=tests"], in: dir, env: env)
        XCTAssertEqual(run.2, 0, run.1)
        XCTAssertTrue(run.0.hasPrefix("hello, tests!"), run.0)
    }
}
