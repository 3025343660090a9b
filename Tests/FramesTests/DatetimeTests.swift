import Foundation
import XCTest
@testable import Frames

/// The `datetime` column type: ISO-8601 parsing (dates, timestamps, zones, fractions),
/// inference in read_csv/read_jsonl, declared types, previews and writers.
final class DatetimeTests: XCTestCase {
    func testParseAndFormat() {
        XCTAssertEqual(Datetime.parse("1970-01-01"), 0)
        XCTAssertEqual(Datetime.parse("2024-06-01"), 1_717_200_000_000_000)
        XCTAssertEqual(Datetime.parse("2024-06-01T12:30:00Z"), 1_717_245_000_000_000)
        XCTAssertEqual(Datetime.parse("2024-06-01 12:30:00"), 1_717_245_000_000_000)
        XCTAssertEqual(Datetime.parse("2024-06-01T12:30:00+02:00"), 1_717_245_000_000_000 - 7_200_000_000)
        XCTAssertEqual(Datetime.parse("2024-06-01T12:30:00-0130"), 1_717_245_000_000_000 + 5_400_000_000)
        XCTAssertEqual(Datetime.parse("2024-06-01T12:30:00.25Z"), 1_717_245_000_250_000)
        XCTAssertEqual(Datetime.parse("2024-06-01T12:30:00.123456789Z"), 1_717_245_000_123_456)
        XCTAssertEqual(Datetime.parse("1969-12-31T23:59:59Z"), -1_000_000)
        XCTAssertEqual(Datetime.parse("2000-02-29"), 951_782_400_000_000)
        for bad in ["2023-02-29", "2024-13-01", "2024-06-01T24:00:00", "2024-6-1", "2024-06-01T", "2024-06-01Tx",
                    "2024-06-01T12:30:00+2", "20240601", "2024-06-01T12:30:00.Z", "hello world"] {
            XCTAssertNil(Datetime.parse(bad), bad)
        }
        XCTAssertEqual(Datetime.format(1_717_200_000_000_000), "2024-06-01")
        XCTAssertEqual(Datetime.format(1_717_245_000_250_000), "2024-06-01T12:30:00.250Z")
        XCTAssertEqual(Datetime.format(1_717_245_000_123_456), "2024-06-01T12:30:00.123456Z")
        XCTAssertEqual(Datetime.format(-1_000_000), "1969-12-31T23:59:59Z")
        // Round trip over a spread of days, both sides of the epoch.
        for d in stride(from: -800_000, through: 800_000, by: 997) {
            let c = Datetime.civil(days: d)
            XCTAssertEqual(Datetime.days(year: c.year, month: c.month, day: c.day), d)
        }
    }

    func testCSVInfersAndDeclares() throws {
        let path = tempFile("id,ts,when\n1,2024-06-01,2024-06-01T12:30:00Z\n2,,2024-06-02T00:00:00+02:00\n3,2024-06-03,2024-06-03T01:02:03.5Z\n")
        let ds = try readCSV(path)
        let ts = try ds.column("ts")
        XCTAssertEqual(ts.type, .datetime)
        XCTAssertEqual(ts.missing, [false, true, false])
        XCTAssertEqual(ts.value(at: 2), .int(Datetime.parse("2024-06-03")!))
        XCTAssertEqual(try ds.column("when").type, .datetime)
        XCTAssertEqual(try ds.column("when").value(at: 1), .int(Datetime.parse("2024-06-01T22:00:00Z")!))
        XCTAssertTrue(ds.preview().contains("2024-06-03T01:02:03.500Z"), ds.preview())
        // Declared: a bad cell is an error with line and column.
        let bad = tempFile("ts\n2024-06-01\nnot a date\n")
        let e = dataError { _ = try readCSV(bad, options: CSVOptions(types: ["ts": .datetime])) }
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, "ts")
        XCTAssertEqual(try readCSV(tempFile("ts\n2024-06-01\n"), options: CSVOptions(types: ["ts": .datetime])).columns[0].type, .datetime)
        // A column with one non-date stays text.
        XCTAssertNotEqual(try readCSV(tempFile("ts\n2024-06-01\nsoon\n2024-06-01\n")).columns[0].type, .datetime)
    }

    func testJSONLInfersAndWritersRoundTrip() throws {
        let path = tempFile("{\"t\": \"2024-06-01T12:30:00Z\", \"x\": 1}\n{\"t\": null, \"x\": 2}\n", name: "t.jsonl")
        let ds = try readJSONL(path)
        XCTAssertEqual(try ds.column("t").type, .datetime)
        XCTAssertEqual(try ds.column("t").missing, [false, true])
        let gathered = ds.gather([1, 0])
        XCTAssertEqual(gathered.columns[0].type, .datetime)
        let dir = NSTemporaryDirectory() + "mlw-dt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ds.writeCSV(to: dir + "/a.csv")
        XCTAssertEqual(try String(contentsOfFile: dir + "/a.csv", encoding: .utf8), "t,x\n2024-06-01T12:30:00Z,1\n,2\n")
        XCTAssertEqual(try readCSV(dir + "/a.csv").columns[0], ds.columns[0])
        try ds.writeJSONL(to: dir + "/a.jsonl")
        XCTAssertEqual(try readJSONL(dir + "/a.jsonl").columns[0], ds.columns[0])
    }
}
