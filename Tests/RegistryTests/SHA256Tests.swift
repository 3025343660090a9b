import Foundation
import XCTest
@testable import Registry

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let bytes = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let expected = SHA256.hex(bytes)
        for chunk in [1, 3, 63, 64, 65, 200] {
            var h = SHA256()
            var i = 0
            while i < bytes.count {
                h.update(bytes[i..<min(i + chunk, bytes.count)])
                i += chunk
            }
            XCTAssertEqual(h.finalizeHex(), expected, "chunk \(chunk)")
        }
    }

    func testPaddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges must all differ and be stable.
        var seen = Set<String>()
        for n in 54...66 { seen.insert(SHA256.hex(Data(repeating: 0x61, count: n))) }
        XCTAssertEqual(seen.count, 13)
        XCTAssertEqual(SHA256.hex(Data(repeating: 0x61, count: 64)),
                       "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    func testFileHash() throws {
        let url = try temporaryDirectory().appendingPathComponent("f")
        try Data("abc".utf8).write(to: url)
        XCTAssertEqual(try SHA256.hex(fileAt: url), SHA256.hex(Data("abc".utf8)))
    }

    func testMissingFileThrows() {
        XCTAssertThrowsError(try SHA256.hexOfFile("/nonexistent/mlw-sha-test"))
    }

    /// The SHA-NI path (when this CPU has it) and the portable rounds agree on every length
    /// around block edges and on multi-block inputs fed in odd pieces.
    func testHardwareAndPortableAgree() {
        var x: UInt64 = 0x9E3779B97F4A7C15
        let bytes = (0..<5000).map { _ -> UInt8 in x = x &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: x >> 33) }
        for n in [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 5000] {
            var fast = SHA256(), slow = SHA256(portable: true)
            var i = 0, step = 1
            while i < n {
                let piece = Array(bytes[i..<min(i + step, n)])
                fast.update(piece); slow.update(piece)
                i += step; step = step * 3 % 701 + 1
            }
            XCTAssertEqual(fast.finalizeHex(), slow.finalizeHex(), "length \(n)")
        }
    }
}
