import XCTest
@testable import Tensor

final class SafetensorsTests: XCTestCase {
    func sample() throws -> [(String, Tensor)] {
        [
            ("w", randomTensor([3, 4], seed: 1)),
            ("b64", try Tensor([1.5, -2], dtype: .float64)),
            ("i32", try Tensor([1, -2, 3], dtype: .int32)),
            ("i8", try Tensor([-128, 127], dtype: .int8)),
            ("u8", try Tensor([0, 255], shape: [1, 2], dtype: .uint8)),
            ("mask", try Tensor([true, false, true])),
            ("scalar", Tensor(scalar: 7)),
            ("empty", try Tensor.zeros([0, 3])),
            ("view", try Tensor.arange(0, 6).reshape([2, 3]).T),
        ]
    }

    func testRoundTrip() throws {
        let tensors = try sample()
        let meta = ["format": "pt", "note": "quote \" and \\ and\nnewline ü"]
        let path = NSTemporaryDirectory() + "mlw-tensor-test-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saveSafetensors(path, tensors, metadata: meta)
        let (back, m) = try loadSafetensors(path)
        XCTAssertEqual(m, meta)
        XCTAssertEqual(back.map(\.0), tensors.map(\.0), "order is preserved")
        for ((_, a), (_, b)) in zip(tensors, back) {
            XCTAssertEqual(a.shape, b.shape)
            XCTAssertEqual(a.dtype, b.dtype)
            XCTAssertEqual(a.toDoubles(), b.toDoubles())
        }
        let bytes = try Safetensors.encode(tensors)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.contains("\"w\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}"), header)
    }

    func testMalformedFilesThrow() throws {
        let good = try Safetensors.encode([("a", try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]))], metadata: ["k": "v"])
        func withHeader(_ json: String, data: [UInt8] = [UInt8](repeating: 0, count: 16)) -> [UInt8] {
            var h = Array(json.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var out = (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) }
            out += h
            return out + data
        }
        let bad: [(String, [UInt8], String)] = [
            ("empty", [], "too short"),
            ("truncated length", Array(good.prefix(5)), "too short"),
            ("truncated data", Array(good.dropLast(3)), "out of range"),
            ("truncated header", Array(good.prefix(20)), "header length"),
            ("huge header length", [255, 255, 255, 255, 255, 255, 255, 127] + Array(good.dropFirst(8)), "header length"),
            ("bad JSON", withHeader("{\"a\": {\"dtype\": \"F32\", "), "bad JSON"),
            ("not an object", withHeader("[1, 2]"), "not a JSON object"),
            ("unknown dtype", withHeader(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#), "unknown dtype 'F16'"),
            ("offsets out of range", withHeader(#"{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#), "out of range"),
            ("negative offset", withHeader(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#), "out of range"),
            ("size mismatch", withHeader(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#), "needs 12 bytes"),
            ("overlap", withHeader(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#), "overlap"),
            ("bad shape", withHeader(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#), "bad shape"),
            ("huge shape", withHeader(#"{"a":{"dtype":"F32","shape":[100000000000000,100000000000000],"data_offsets":[0,4]}}"#), "safetensors"),
            ("metadata not strings", withHeader(#"{"__metadata__":{"a":1}}"#), "__metadata__"),
            ("bad bool", withHeader(#"{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 7]), "BOOL"),
            ("deep nesting", withHeader(String(repeating: "[", count: 1000)), "bad JSON"),
            ("bad utf8", withHeader("{\"\u{00}\":1}"), "bad JSON"),
        ]
        for (name, bytes, msg) in bad {
            do {
                _ = try Safetensors.decode(bytes)
                XCTFail("\(name): expected an error")
            } catch let e as TensorError {
                XCTAssertTrue(e.description.hasPrefix("safetensors"), "\(name): \(e)")
                XCTAssertTrue(e.description.contains(msg), "\(name): '\(e)' lacks '\(msg)'")
            }
        }
        // every truncation of a good file fails cleanly
        for cut in 0..<good.count { XCTAssertThrowsError(try Safetensors.decode(Array(good.prefix(cut)))) }
        XCTAssertThrowsError(try loadSafetensors("/nonexistent/x.safetensors"))
        XCTAssertThrowsError(try Safetensors.encode([("a", Tensor(scalar: 1)), ("a", Tensor(scalar: 2))]))
    }
}
