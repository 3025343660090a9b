import XCTest
import Foundation
@testable import Frames
#if canImport(Glibc)
import Glibc
#endif

/// Issue 23's CSV reproducers: where a broken multi-line record is reported, files that
/// are not regular, and the field and record size limits.
final class CSVHardeningTests: XCTestCase {
    func testQuoteProblemNamesTheRecordStartAndWhereItWasSeen() {
        // The quote opened on line 2 swallows the newline; the parser notices on line 3.
        let path = tempFile("a,b\n1,\"unterminated\n2,\"q2\"", name: "data.csv")
        for chunk in [3, 7, 4096] {
            var o = CSVOptions(); o.chunkSize = chunk
            let e = dataError { _ = try readCSV(path, options: o) }
            XCTAssertEqual(e?.kind, .unterminatedQuote)
            XCTAssertEqual(e?.line, 2, "chunk \(chunk)")
            XCTAssertEqual(e?.column, "b")
            XCTAssertEqual(e?.description,
                           "\(path):2: column 'b': unexpected character 'q' after a closing quote "
                           + "(record starts on line 2, seen at line 3; an unterminated or undoubled quote?)")
        }
    }

    func testQuoteLeftOpenToTheEndOfTheFile() {
        let path = tempFile("a,b\n1,\"never closed\n2,x\n3,y\n", name: "data.csv")
        for chunk in [2, 5, 4096] {
            var o = CSVOptions(); o.chunkSize = chunk
            let e = dataError { _ = try readCSV(path, options: o) }
            XCTAssertEqual(e?.kind, .unterminatedQuote)
            XCTAssertEqual(e?.line, 2)
            XCTAssertEqual(e?.description,
                           "\(path):2: column 'b': unterminated quoted field: no closing quote before the end of the file "
                           + "(record starts on line 2, seen at line 4)")
        }
        // Without a final newline the last line is the same.
        let e = dataError { _ = try readCSV(tempFile("a,b\n1,\"never closed\n2,x\n3,y")) }
        XCTAssertTrue(e!.description.hasSuffix("(record starts on line 2, seen at line 4)"), e!.description)
    }

    func testNonRegularFilesAreRefused() throws {
        for dev in ["/dev/zero", "/dev/urandom", "/dev/null"] {
            let e = dataError { _ = try readCSV(dev) }
            XCTAssertEqual(e?.kind, .notRegularFile, dev)
            XCTAssertEqual(e?.description, "\(dev): not a regular file (a character device): only regular files can be read")
        }
        let dir = (tempFile("x") as NSString).deletingLastPathComponent
        XCTAssertEqual(dataError { _ = try readCSV(dir) }?.description,
                       "\(dir): not a regular file (a directory): only regular files can be read")
        // A FIFO with no writer: refused at once (a blocking open would wait forever).
        let fifo = dir + "/pipe.csv"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(dataError { _ = try readCSV(fifo) }?.kind, .notRegularFile)
        XCTAssertEqual(dataError { try InputFile.requireRegular(fifo) }?.description,
                       "\(fifo): not a regular file (a FIFO): only regular files can be read")
        // A symlink to a regular file is read through.
        let real = tempFile("a\n1\n")
        let link = dir + "/link.csv"
        XCTAssertEqual(symlink(real, link), 0)
        XCTAssertEqual(try readCSV(link).rowCount, 1)
    }

    func testFieldLongerThanTheLimitNamesItsLine() {
        let long = String(repeating: "x", count: 40)
        for (text, column) in [("a,b\n1,2\n3,\(long)\n", "b"), ("a,b\n1,2\n\"\(long)\",4\n", "a")] {
            for chunk in [8, 4096] {
                var o = CSVOptions(); o.chunkSize = chunk; o.maxFieldBytes = 32
                let e = dataError { _ = try readCSV(tempFile(text), options: o) }
                XCTAssertEqual(e?.kind, .tooLarge)
                XCTAssertEqual(e?.line, 3)
                XCTAssertEqual(e?.column, column)
                XCTAssertTrue(e!.description.contains("field longer than the limit of 32 bytes (record starts on line 3, seen at line 3)"), e!.description)
            }
            var o = CSVOptions(); o.maxFieldBytes = 40
            XCTAssertNoThrow(try readCSV(tempFile(text), options: o))  // exactly at the limit
        }
    }

    func testRecordLimitBoundsTheBufferForAFileWithoutNewlines() {
        // Far more bytes than the record limit and not one newline: an error naming the
        // line where the record starts, not a buffer that doubles until memory runs out.
        let text = "a,b\n1,2\n\n" + String(repeating: "y,", count: 5000)
        var o = CSVOptions(); o.chunkSize = 16; o.maxRecordBytes = 1024; o.maxFieldBytes = 1024
        let e = dataError { _ = try readCSV(tempFile(text), options: o) }
        XCTAssertEqual(e?.kind, .tooLarge)
        XCTAssertEqual(e?.line, 4)
        XCTAssertTrue(e!.description.contains("record longer than the limit of 1024 bytes (record starts on line 4)"), e!.description)
        // A whole record inside one big chunk is checked too.
        var o2 = CSVOptions(); o2.maxRecordBytes = 100
        let e2 = dataError { _ = try readCSV(tempFile("a,b\n" + String(repeating: "1", count: 80) + "," + String(repeating: "2", count: 80) + "\n"), options: o2) }
        XCTAssertEqual(e2?.kind, .tooLarge)
        XCTAssertEqual(e2?.line, 2)
        XCTAssertTrue(e2!.description.hasSuffix("record longer than the limit of 100 bytes (record starts on line 2)"), e2!.description)
    }

    func testDefaultLimits() {
        XCTAssertEqual(CSVOptions().maxFieldBytes, 128 << 20)
        XCTAssertEqual(CSVOptions().maxRecordBytes, 256 << 20)
    }

    func testColumnMemoryIsCheckedBeforeReserving() throws {
        XCTAssertNoThrow(try CSVReader.checkColumnMemory(rows: 1000, columns: 2, path: "x.csv"))
        let e = dataError { try CSVReader.checkColumnMemory(rows: Int.max / 64, columns: 2, path: "x.csv") }
        XCTAssertEqual(e?.kind, .tooLarge)
        XCTAssertTrue(e!.description.hasPrefix("x.csv: the file's 2 columns need about"), e!.description)
        XCTAssertTrue(e!.description.contains("more than this machine's"), e!.description)
        XCTAssertEqual(dataError { try CSVReader.checkColumnMemory(rows: Int.max, columns: Int.max, path: "x.csv") }?.kind, .tooLarge)
    }

    func testReadAllRefusesLargeAndSpecialFiles() throws {
        let p = tempFile("0123456789")
        XCTAssertEqual(try InputFile.readAll(p, maxBytes: 10), Array("0123456789".utf8))
        XCTAssertEqual(dataError { _ = try InputFile.readAll(p, maxBytes: 9) }?.kind, .tooLarge)
        XCTAssertEqual(dataError { _ = try InputFile.readAll("/dev/zero", maxBytes: 1 << 20) }?.kind, .notRegularFile)
        XCTAssertEqual(try InputFile.readAll(tempFile(""), maxBytes: 0), [])
    }
}

/// read_jsonl opens its file through the same check.
final class JSONLInputFileTests: XCTestCase {
    func testJSONLRefusesDevicesAndFIFOs() throws {
        XCTAssertEqual(dataError { _ = try readJSONL("/dev/zero") }?.description,
                       "/dev/zero: not a regular file (a character device): only regular files can be read")
        let fifo = (tempFile("") as NSString).deletingLastPathComponent + "/pipe.jsonl"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(dataError { _ = try readJSONL(fifo) }?.kind, .notRegularFile)
        XCTAssertEqual(dataError { _ = try readJSONL("/nonexistent/x.jsonl") }?.kind, .io)
        XCTAssertEqual(try readJSONL(tempFile("{\"a\": 1}\n{\"a\": 2}\n", name: "t.jsonl")).rowCount, 2)
        XCTAssertGreaterThan(maxJSONLFileBytes, 0)
    }
}
