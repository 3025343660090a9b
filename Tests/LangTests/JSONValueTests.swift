import JSON
@testable import Lang
import XCTest

/// MLW values to JSON and back through the `JSON` target: ints stay ints, record order is
/// kept, and both directions stop at `JSONParser.maxDepth` with an error (issue 23: a deep
/// record used to overflow the stack, and encoding was quadratic).
final class JSONValueTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String? {
        do { _ = try body(); return nil } catch { return (error as? NativeError)?.message ?? "\(error)" }
    }

    func testIntsFloatsAndOrder() throws {
        let v = try Value.parseJSON(#"{"z": 1, "a": 1.0, "m": -0, "big": 1e300, "huge": 123456789012345678901}"#)
        XCTAssertEqual(v.repr, "{z: 1, a: 1.0, m: 0, big: 1e+300, huge: 1.2345678901234568e+20}")
        XCTAssertEqual(try v.json(), #"{"z":1,"a":1.0,"m":0,"big":1e+300,"huge":1.2345678901234568e+20}"#)
    }

    func testDuplicateKeysKeepFirstPlaceLastValue() throws {
        XCTAssertEqual(try Value.parseJSON(#"{"a": 1, "b": 2, "a": 3}"#).repr, "{a: 3, b: 2}")
        // Many keys, each repeated: linear (a dictionary), same answer.
        let n = 20_000
        let text = "{" + (0..<n).map { "\"k\($0)\": \($0)" }.joined(separator: ",") + ","
            + (0..<n).map { "\"k\($0)\": \(-$0)" }.joined(separator: ",") + "}"
        guard case .record(let r) = try Value.parseJSON(text) else { return XCTFail() }
        XCTAssertEqual(r.keys.count, n)
        XCTAssertEqual(r.keys[n - 1], "k\(n - 1)")
        XCTAssertEqual(r["k7"]?.repr, "-7")
    }

    func testPretty() throws {
        let v = Value.record([("a", .list([.int(1), .float(2)])), ("b", .record([])), ("c", .list([]))])
        XCTAssertEqual(try v.json(pretty: true), "{\n  \"a\": [\n    1,\n    2.0\n  ],\n  \"b\": {},\n  \"c\": []\n}")
    }

    func testEncodeDepthLimit() throws {
        var ok = Value.int(1)
        for _ in 0..<JSONParser.maxDepth { ok = .list([ok]) }
        let text = try ok.json()
        XCTAssertEqual(text.utf8.count, 2 * JSONParser.maxDepth + 1)
        XCTAssertTrue(try Value.parseJSON(text).equals(ok))
        XCTAssertEqual(message { try Value.list([ok]).json() }, "cannot encode JSON nested deeper than 512 levels")
        // A record nested far deeper than the limit fails at once instead of recursing.
        var deep = Value.record([])
        for _ in 0..<10_000 { deep = .record([("a", deep)]) }
        XCTAssertEqual(message { try deep.json(pretty: true) }, "cannot encode JSON nested deeper than 512 levels")
        XCTAssertEqual(message { try Value.list([.float(.infinity)]).json() }, "cannot encode inf as JSON")
    }

    func testDecodeDepthLimit() {
        XCTAssertEqual(message { try Value.parseJSON(String(repeating: "[", count: 1_000_000)) },
                       "invalid JSON at line 1, column 513: nested deeper than 512 levels")
        // A JSONValue built in code is held to the same limit when it becomes an MLW value.
        var doc = JSONValue.null
        for _ in 0..<1000 { doc = .array([doc]) }
        XCTAssertEqual(message { try Value(json: doc) }, "cannot decode JSON nested deeper than 512 levels")
    }
}
