import Foundation
import Registry
import XCTest

/// The example scripts register distinct model names, so running them in any order never
/// changes what another one registered (`mlw serve iris@staging` keeps serving iris.mlw's model).
final class ExampleNamesTests: XCTestCase {
    static let examples = DocsTests.root.appendingPathComponent("Scripts/examples")

    /// Model names a script registers: `name: "X"` in register calls, and a `param name`
    /// default when the call passes `name: name`.
    func registeredNames(_ text: String) -> Set<String> {
        var names = Set<String>()
        for line in text.split(separator: "\n") where line.contains("register(") {
            if let r = line.range(of: #"name: "([A-Za-z][A-Za-z0-9_.-]*)""#, options: .regularExpression) {
                names.insert(String(line[r].dropFirst(7).dropLast()))
            } else if line.contains("name: name"), let p = text.range(of: #"param name = "[^"]*""#, options: .regularExpression) {
                names.insert(String(text[p].dropFirst(14).dropLast()))
            }
        }
        return names
    }

    func testEveryExampleRegistersItsOwnNames() throws {
        var owner: [String: String] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0.hasSuffix(".mlw") }.sorted()
        for file in files {
            let text = try String(contentsOf: Self.examples.appendingPathComponent(file), encoding: .utf8)
            for name in registeredNames(text) {
                XCTAssertNil(owner[name], "\(file) and \(owner[name] ?? "") both register '\(name)'")
                owner[name] = file
            }
        }
        XCTAssertEqual(owner["iris"], "iris.mlw")
        XCTAssertEqual(owner["digits"], "digits.mlw")
        XCTAssertEqual(owner["notes"], "register.mlw")
    }

    func testRegisterExampleAfterIrisLeavesIrisStagingServable() throws {
        let dir = NSTemporaryDirectory() + "mlw-names-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/Scripts",
                                                   withDestinationPath: DocsTests.root.appendingPathComponent("Scripts").path)
        let env = ["MLW_HOME": dir + "/home"]
        for script in ["register.mlw", "iris.mlw", "register.mlw"] {
            let (_, err, code) = try ReplTests.mlw(["run", "Scripts/examples/" + script], env: env, in: dir)
            XCTAssertEqual(code, 0, "\(script): \(err)")
        }
        let registry = try Registry.open(root: URL(fileURLWithPath: dir + "/home"))
        let staging = try registry.resolve("iris@staging")
        XCTAssertEqual(staging.kind, .model, "iris@staging is still the trained model")
        XCTAssertEqual(try registry.versions("iris").count, 1)
        XCTAssertEqual(try registry.versions("notes").count, 2)
    }
}
