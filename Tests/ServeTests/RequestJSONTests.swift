@testable import Serve
import XCTest

/// The V2 request codec over the `JSON` target's parser: integers and floats both become
/// FP32 data, non-finite tokens are parsed so the error names the element, and malformed
/// bodies report line and column.
final class RequestJSONTests: XCTestCase {
    let spec = TensorSpec(name: "input", shape: [-1, 3])
    let outputs = [TensorSpec(name: "output", shape: [-1, 2])]

    func decode(_ body: String) throws -> InferRequest {
        try InferenceCodec.decodeRequest(Array(body.utf8), headerLength: nil, input: spec, outputs: outputs)
    }

    func message(_ body: String) -> String? {
        do { _ = try decode(body); return nil } catch { return (error as? ServeError)?.message ?? "\(error)" }
    }

    func testIntegersAndFloatsBecomeFloats() throws {
        let r = try decode(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2.5,-3]}]}"#)
        XCTAssertEqual(r.data, [1, 2.5, -3])
        let nested = try decode(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[2.0,3],"data":[[1,2,3],[4,5,6e0]]}]}"#)
        XCTAssertEqual(nested.rows, 2)
        XCTAssertEqual(nested.data, [1, 2, 3, 4, 5, 6])
    }

    func testErrorsNameTheFieldAndPlace() {
        XCTAssertEqual(message(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,NaN,3]}]}"#),
                       "'inputs[0].data[1]' is NaN (only finite numbers are allowed)")
        XCTAssertEqual(message(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,-Infinity,3]}]}"#),
                       "'inputs[0].data[1]' is infinite (only finite numbers are allowed)")
        XCTAssertEqual(message("{\n  \"inputs\": [01]\n}"), "malformed JSON at line 2, column 14: leading zero in number")
        XCTAssertEqual(message(String(repeating: "[", count: 65)), "JSON nested deeper than 64 levels")
        XCTAssertEqual(message(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,-3],"data":[]}]}"#),
                       "'inputs[0].shape' must be a list of non-negative integers")
    }
}
