import XCTest
@testable import Frames

final class ValidateDescribeTests: XCTestCase {
    let schema = Schema([
        "id": ColumnRule(type: .int, unique: true),
        "color": ColumnRule(type: .category, allowed: [.string("red"), .string("green")], nullable: false),
    ])

    func testFailModeReportsEveryViolationWithLines() throws {
        let ds = try readCSV(tempFile("id,color,score\n1,red,0.5\n2,purple,2\n2,,1\n3,blue,-1\n"))
        let s = Schema(schema.columns.merging(["score": ColumnRule(type: .float, min: 0, max: 1)]) { a, _ in a })
        let e = dataError { _ = try validate(ds, schema: s) }
        XCTAssertEqual(e?.kind, .validation)
        let v = e!.report!.violations
        XCTAssertEqual(v.map(\.line), [3, 3, 4, 4, 5, 5])
        XCTAssertEqual(v.map(\.rule), [.allowed, .max, .nullable, .unique, .allowed, .min], "\(v)")
        XCTAssertEqual(v.map(\.column), ["color", "score", "color", "id", "color", "score"])
        XCTAssertEqual(e!.report!.badRows, 3)
        XCTAssertTrue(e!.description.contains("line 5: column 'score': value -1 below min 0"), e!.description)
    }

    func testDropModeCountsAndLineage() throws {
        let ds = try readCSV(fixture("bad_category.csv"))
        let r = try validate(ds, schema: schema, mode: .drop)
        XCTAssertEqual(r.report.violations.count, 1)
        XCTAssertEqual(r.report.violations[0].line, 4)
        XCTAssertEqual(r.report.violations[0].column, "color")
        XCTAssertEqual(r.report.droppedRows, 1)
        XCTAssertEqual(r.dataset.rowCount, 3)
        XCTAssertEqual(r.dataset.sourceLines, [2, 3, 5])
        XCTAssertTrue(r.dataset.lineage.steps.last!.params.contains("dropped=1"))
        XCTAssertNotEqual(r.dataset.lineage.hash, ds.lineage.hash)
    }

    func testMissingColumnAlwaysThrows() throws {
        let ds = try readCSV(fixture("bad_category.csv"))
        let e = dataError { _ = try validate(ds, schema: Schema(["nope": ColumnRule()]), mode: .drop) }
        XCTAssertEqual(e?.report?.violations.first?.rule, .missingColumn)
    }

    func testDigitsAsCategoryRangeLikeNorthStar() throws {
        let ds = try readCSV(repoRoot + "/Scripts/data/digits.csv", options: CSVOptions(label: "digit"))
        let r = try validate(ds, schema: Schema(["digit": ColumnRule(type: .category, allowed: (0..<10).map { .int($0) })]))
        XCTAssertTrue(r.report.ok)
    }

    func testDescribe() throws {
        let ds = try readCSV(repoRoot + "/Scripts/data/iris.csv", options: CSVOptions(label: "species"))
        let d = describe(ds)
        XCTAssertEqual(d.rows, 150)
        let sl = d.columns[0]
        XCTAssertEqual(sl.type, .float)
        XCTAssertEqual(sl.min, 4.3); XCTAssertEqual(sl.max, 7.9)
        XCTAssertEqual(sl.mean!, 5.8433, accuracy: 1e-4)
        XCTAssertEqual(sl.role, "feature")
        let sp = d.columns[4]
        XCTAssertEqual(sp.type, .category); XCTAssertEqual(sp.role, "label"); XCTAssertEqual(sp.distinct, 3)
        XCTAssertEqual(sp.top.first?.count, 50)
        let text = d.description
        XCTAssertTrue(text.contains("150 rows x 5 columns"), text)
        XCTAssertTrue(text.contains("species"))
        let m = try readCSV(fixture("nan_values.csv"))
        XCTAssertEqual(describe(m).columns.map(\.missing), [1, 2])
    }
}

final class SchemaJSONTests: XCTestCase {
    func testSchemaFromJSONAcceptsValuesAlias() throws {
        let s = try Schema(json: Data(#"{"digit": {"type": "category", "values": [0, 1, 2]}, "x": {"min": 0, "nullable": false}}"#.utf8))
        XCTAssertEqual(s.columns["digit"], ColumnRule(type: .category, allowed: [.int(0), .int(1), .int(2)]))
        XCTAssertEqual(s.columns["x"], ColumnRule(min: 0, nullable: false))
        let back = try JSONDecoder().decode(Schema.self, from: JSONEncoder().encode(s))
        XCTAssertEqual(back, s)
        XCTAssertEqual(ImputeStrategy(name: "mean"), .mean)
        XCTAssertEqual(ImputeStrategy(name: "constant", value: .int(0)), .constant(.int(0)))
        XCTAssertNil(ImputeStrategy(name: "constant"))
        XCTAssertNil(ImputeStrategy(name: "avg"))
    }
}
