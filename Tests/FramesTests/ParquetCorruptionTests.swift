import Foundation
import XCTest
@testable import Frames

/// Truncated, garbled and lying Parquet files give a clear error naming the file (and,
/// past the footer, the row group, page and column) and never crash or hang.
final class ParquetCorruptionTests: XCTestCase {
    func readBytes(_ bytes: [UInt8], dir: String, _ name: String) -> Error? {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do { _ = try readParquet(path); return nil } catch { return error }
    }

    func testTruncationsAndByteFlips() throws {
        let dir = ParquetTestSupport.tempDir()
        for fixture in ["dict_snappy_v1", "delta_zstd_v2", "plain_none_v1", "dict_gzip_v2"] {
            let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ParquetTestSupport.fixtures + "/\(fixture).parquet")))
            // Truncations: every length near the ends, and a spread through the middle.
            let cuts = Array(0..<40) + Array(stride(from: 64, to: good.count, by: max(good.count / 40, 1))) + Array((good.count - 40)..<good.count)
            for n in cuts {
                let e = readBytes(Array(good[0..<n]), dir: dir, "cut.parquet")
                XCTAssertNotNil(e, "\(fixture) cut to \(n) bytes read without error")
                if let e { XCTAssertTrue("\(e)".contains("cut.parquet"), "\(e)") }
            }
            // Byte flips: each must either read (a flipped value) or fail with the file named.
            var rng = SystemRandomNumberGenerator()
            var failures = 0
            for k in 0..<160 {
                var bad = good
                let at = k < 80 ? good.count - 8 - Int.random(in: 1...min(600, good.count - 12), using: &rng) : Int.random(in: 4..<(good.count - 8), using: &rng)
                bad[at] ^= UInt8.random(in: 1...255, using: &rng)
                if let e = readBytes(bad, dir: dir, "flip.parquet") {
                    failures += 1
                    XCTAssertTrue("\(e)".contains("flip.parquet"), "\(e)")
                }
            }
            XCTAssertGreaterThan(failures, 0)
        }
    }

    func testLyingSizesAndPlaces() throws {
        let dir = ParquetTestSupport.tempDir()
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ParquetTestSupport.fixtures + "/plain_none_v1.parquet")))
        // A footer length larger than the file.
        var bad = good
        bad[bad.count - 5] = 0x7F
        XCTAssertTrue("\(readBytes(bad, dir: dir, "len.parquet")!)".contains("footer length"))
        // Data pages overwritten with 0xFF: an error naming row group, page and column.
        bad = good
        for i in 4..<200 { bad[i] = 0xFF }
        let e = "\(readBytes(bad, dir: dir, "pages.parquet")!)"
        XCTAssertTrue(e.contains("pages.parquet") && e.contains("row group 0") && e.contains("page 0") && e.contains("column 'i32'"), e)
        XCTAssertTrue("\(readBytes(Array("PAR1PAR1PAR1".utf8), dir: dir, "tiny.parquet")!)".contains("footer length"))
        XCTAssertTrue("\(readBytes(Array("hello world, not parquet".utf8), dir: dir, "text.parquet")!)".contains("PAR1"))
    }
}
