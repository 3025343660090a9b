import Foundation
import Frames
import XCTest

/// `readJSONL` over the `JSON` target: ints stay ints, a repeated key takes its last value,
/// nested values are kept as their JSON text, and errors name file, line and column.
final class JSONLReaderTests: XCTestCase {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-jsonl-\(UUID().uuidString).jsonl").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testValues() throws {
        let ds = try readJSONL(try file(#"{"n": 1, "tag": [1, {"a": "b"}], "n": 2}"# + "\n" + #"{"n": 3, "tag": "x"}"# + "\n"))
        XCTAssertEqual(ds.columnNames, ["n", "tag"])
        XCTAssertEqual(try ds.column("n").data, .int([2, 3]))
        XCTAssertEqual(try ds.column("tag").data, .string([#"[1,{"a":"b"}]"#, "x"]))
    }

    func testErrorsNameFileLineAndColumn() throws {
        let path = try file("{\"x\": 1}\n{\"x\": NaN}\n")
        XCTAssertThrowsError(try readJSONL(path)) { e in
            XCTAssertEqual("\(e)", "\(path):2: invalid JSON at column 7: unexpected character")
        }
        let deep = try file(String(repeating: "[", count: 600) + "\n")
        XCTAssertThrowsError(try readJSONL(deep)) { e in
            XCTAssertEqual("\(e)", "\(deep):1: invalid JSON at column 513: nested deeper than 512 levels")
        }
    }
}
