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
        let p = Process()
        p.executableURL = ReplTests.binary
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self), p.terminationStatus)
    }

    func testIrisTrainsRegistersAndReproduces() throws {
        let (dir, env) = try project()
        let run = try mlw(["run", "Scripts/examples/iris.mlw"], in: dir, env: env)
        XCTAssertEqual(run.2, 0, run.1)
        XCTAssertTrue(run.0.contains("registered iris:1 (alias staging)"), run.0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/iris.mlwm"))
        let runs = try mlw(["registry", "runs", "--json"], in: dir, env: env)
        guard let id = runs.0.range(of: #""id"\s*:\s*"([0-9a-f]+)""#, options: .regularExpression).map({ String(runs.0[$0]) })?
            .split(separator: "\"").dropFirst(2).first.map(String.init) else { return XCTFail("no run id in \(runs.0)") }
        let again = try mlw(["reproduce", id], in: dir, env: env)
        XCTAssertEqual(again.2, 0, again.0 + again.1)
        XCTAssertTrue((again.0 + again.1).contains("reproduced bit for bit"), again.0 + again.1)
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
