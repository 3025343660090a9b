@testable import Serve
import XCTest

/// The V2 decoder's fast path (`decodeCommon`, no JSON tree) must read exactly what the
/// general path reads, and leave everything else to it: on well-formed common bodies both
/// give the same request; on any body where the fast path answers, the general one agrees.
final class CommonRequestTests: XCTestCase {
    let spec = TensorSpec(name: "x", shape: [-1, 3])
    let outputs = [TensorSpec(name: "y", shape: [-1, 2])]

    func fast(_ body: String) -> InferRequest? {
        Array(body.utf8).withUnsafeBytes { InferenceCodec.decodeCommon($0, spec: spec) }
    }

    func general(_ body: String) -> InferRequest? {
        try? InferenceCodec.decodeGeneral(Array(body.utf8), headerLength: nil, input: spec, outputs: outputs)
    }

    func assertSame(_ a: InferRequest?, _ b: InferRequest?, _ body: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a?.id, b?.id, body, file: file, line: line)
        XCTAssertEqual(a?.rows, b?.rows, body, file: file, line: line)
        XCTAssertEqual(a?.data.map(\.bitPattern), b?.data.map(\.bitPattern), body, file: file, line: line)
        XCTAssertEqual(a?.requestedOutputs, b?.requestedOutputs, body, file: file, line: line)
        XCTAssertEqual(a?.binaryOutputs, b?.binaryOutputs, body, file: file, line: line)
    }

    func testCommonBodiesDecodeAsTheGeneralPathDoes() {
        let bodies = [
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2.5,-3]}]}"#,
            #"{"id":"r-7","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6e0]]}]}"#,
            #" { "inputs" : [ { "data" : [ 0.1 , 1e-3 , -2.5E+2 ] , "datatype" : "FP32" , "name" : "x" , "shape" : [ 1 , 3 ] } ] , "id" : null } "#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[0.30000000000000004,123456789012345678901234,1.17549435e-38]}],"id":"\u00e9\n"}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[[[1],[2],[3]]]}]}"#,
        ]
        for b in bodies {
            let f = fast(b)
            XCTAssertNotNil(f, b)
            assertSame(f, general(b), b)
        }
    }

    func testOtherFormsAndErrorsAreLeftToTheGeneralPath() {
        let bodies = [
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}],"outputs":[{"name":"y"}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3],"parameters":{}}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,NaN,3]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,1e39,3]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2]}]}"#,
            #"{"inputs":[{"name":"z","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"INT8","data":[1,2,3]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,"3"]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]} x"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]},{"name":"x"}]}"#,
            #"{"inputs":[{"name":"x","name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
            #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[[[[[[[[[1,2,3]]]]]]]]]}]}"#,
            #"{"inputs":[{"name":"\u0078","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
            #"{}"#, "", "[]",
        ]
        for b in bodies { XCTAssertNil(fast(b), b) }
    }

    /// Byte flips, cuts and insertions of common bodies: whenever the fast path answers, the
    /// general path answers the same.
    func testMutatedBodiesNeverDisagree() {
        let seeds = [
            #"{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2.5,-3],[4e1,0.5,6]]}]}"#,
            #"{"inputs":[{"data":[1,2,3],"datatype":"FP32","name":"x","shape":[1,3]}]}"#,
        ]
        let alphabet = Array(#"{}[],:"0123456789.-+eE xnulNaIfity\"#.utf8)
        var rng = SystemRandomNumberGenerator()
        var answered = 0
        for _ in 0..<4000 {
            var b = Array(seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let k = Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[k] = alphabet.randomElement(using: &rng)!
                case 1: b.remove(at: k)
                default: b.insert(alphabet.randomElement(using: &rng)!, at: k)
                }
                if b.isEmpty { break }
            }
            let text = String(decoding: b, as: UTF8.self)
            guard let f = fast(text) else { continue }
            answered += 1
            assertSame(f, general(text), text)
        }
        XCTAssertGreaterThan(answered, 0)
    }
}
