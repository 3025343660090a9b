import XCTest
@testable import Frames

final class TransformTests: XCTestCase {
    func iris() throws -> Dataset {
        try readCSV(repoRoot + "/Scripts/data/iris.csv", options: CSVOptions(label: "species"))
    }

    func testStandardizeUsesTrainStatistics() throws {
        let train = try readCSV(tempFile("x,y\n1,0\n3,1\n"), options: CSVOptions(label: "y"))
        let test = try readCSV(tempFile("x,y\n5,0\n"), options: CSVOptions(label: "y"))
        let p = try fitTransforms(train, [.standardize()])
        XCTAssertEqual(p.steps, [.standardize(column: "x", mean: 2, std: 1)])
        let out = try p.apply(to: test)
        XCTAssertEqual(try out.column("x").data, .float([3]))   // (5 - 2) / 1, not refitted on test
        XCTAssertEqual(p.stats.features.first?.mean, 0)
    }

    func testImputeMeanMedianConstant() throws {
        let ds = try readCSV(tempFile("a,b,c\n1,x,1\nNA,,2\n5,x,9\n6,y,NA\n"))
        let mean = try fitTransforms(ds, [.impute(.mean, columns: ["a"])]).apply(to: ds)
        XCTAssertEqual(try mean.column("a").data, .int([1, 4, 5, 6]))  // integral mean keeps ints
        let med = try fitTransforms(ds, [.impute(.median, columns: ["c"])]).apply(to: ds)
        XCTAssertEqual(try med.column("c").data, .int([1, 2, 9, 2]))
        let k = try fitTransforms(ds, [.impute(.constant(.string("zz")), columns: ["b"])]).apply(to: ds)
        XCTAssertEqual(try k.column("b").strings!, ["x", "zz", "x", "y"])
        let mf = try fitTransforms(ds, [.impute(.mostFrequent, columns: ["b"])]).apply(to: ds)
        XCTAssertEqual(try mf.column("b").strings!, ["x", "x", "x", "y"])
        XCTAssertEqual(try mf.column("b").missingCount, 0)
    }

    func testMinMaxOneHotLabelEncode() throws {
        let ds = try readCSV(tempFile("v,color,y\n0,red,b\n10,blue,a\n5,red,b\n"), options: CSVOptions(label: "y"))
        let p = try fitTransforms(ds, [.minMaxScale(), .oneHot(), .labelEncode()])
        let out = try p.apply(to: ds)
        XCTAssertEqual(out.featureNames, ["v", "color=blue", "color=red"])
        XCTAssertEqual(try out.column("v").data, .float([0, 1, 0.5]))
        XCTAssertEqual(try out.column("color=red").data, .float([1, 0, 1]))
        let m = try out.featureMatrix()
        XCTAssertEqual(m.shape, [3, 3])
        XCTAssertEqual(m.labels, [1, 0, 1])
        XCTAssertEqual(m.labelNames, ["a", "b"])
        // Unknown level in one-hot gives zeros; in the label encoder it is an error.
        XCTAssertEqual(try p.apply(toRecord: ["v": .int(20), "color": .string("green")]), [2, 0, 0])
    }

    func testPipelineJSONRoundTripAndRecord() throws {
        let ds = try iris()
        let parts = try split(ds, train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 42)
        let p = try fitTransforms(parts.train, [.impute(.mean), .standardize(), .labelEncode()])
        let json = try p.jsonData()
        let back = try FittedPipeline(json: json)
        XCTAssertEqual(back, p)
        XCTAssertEqual(try back.jsonData(), json)
        XCTAssertEqual(back.hash, p.hash)
        // Record replay matches dataset replay.
        let test = try p.apply(to: parts.test)
        let m = try test.featureMatrix()
        let rec = parts.test.record(at: 3)
        XCTAssertEqual(try back.apply(toRecord: rec), Array(m.features[(3 * 4)..<(4 * 4)]))
        // Strings that are numbers are accepted (JSON from forms); missing field is imputed.
        var r2 = rec; r2["sepal_length"] = .string("5.1"); r2["petal_width"] = nil
        XCTAssertEqual(try back.apply(toRecord: r2).count, 4)
        var r3 = rec; r3["petal_length"] = .string("long")
        let e = dataError { _ = try back.apply(toRecord: r3) }
        XCTAssertEqual(e?.column, "petal_length")
        XCTAssertTrue(e!.description.contains("petal_length"))
        let f = try back.apply(toJSONRecord: Data(#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#.utf8))
        XCTAssertEqual(f.count, 4)
        XCTAssertEqual(back.stats.features.map(\.name), ["sepal_length", "sepal_width", "petal_length", "petal_width"])
    }

    func testMissingFieldWithoutImputeNamesIt() throws {
        let ds = try readCSV(tempFile("a,b\n1,2\n3,4\n"))
        let p = try fitTransforms(ds, [.standardize()])
        let e = dataError { _ = try p.apply(toRecord: ["a": .int(1)]) }
        XCTAssertEqual(e?.kind, .missingField)
        XCTAssertEqual(e?.column, "b")
    }

    func testClosureStepsAreNotSerializable() throws {
        let ds = try readCSV(tempFile("a,b\n1,2\n3,4\n"))
        let p = try fitTransforms(ds, [.filter("a>1") { ($0["a"]?.number ?? 0) > 1 }, .map("b", name: "double") { .double(($0.number ?? 0) * 2) }])
        XCTAssertFalse(p.isSerializable)
        XCTAssertEqual(try p.apply(to: ds).rowCount, 1)
        XCTAssertEqual(try p.apply(to: ds).column("b").data, .float([8]))
        XCTAssertEqual(dataError { _ = try p.jsonData() }?.kind, .notSerializable)
    }

    func testDatasetOps() throws {
        let ds = try iris()
        let s = try ds.select(["petal_length", "species"])
        XCTAssertEqual(s.columnNames, ["petal_length", "species"])
        XCTAssertEqual(try ds.drop(["species"]).label, nil)
        let r = try ds.rename(["species": "y"])
        XCTAssertEqual(r.label, "y")
        XCTAssertEqual(ds.filter("setosa") { $0["species"] == .string("setosa") }.rowCount, 50)
        XCTAssertEqual(dataError { _ = try ds.select(["nope"]) }?.kind, .unknownColumn)
    }

    func testMatrixInAndBatches() throws {
        let ds = try Dataset(features: [1, 2, 3, 4, 5, 6], rows: 3, cols: 2, labels: [0, 1, 0])
        XCTAssertEqual(ds.featureNames, ["f0", "f1"])
        let m = try ds.featureMatrix()
        XCTAssertEqual(m.features, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(m.labels, [0, 1, 0])
        let b = try ds.batches(size: 2)
        XCTAssertEqual(b.map(\.rows), [2, 1])
        XCTAssertEqual(b[1].features, [5, 6])
        let shuffled = try ds.batches(size: 2, seed: 7)
        XCTAssertEqual(shuffled, try ds.batches(size: 2, seed: 7))
        XCTAssertEqual(Set(shuffled.flatMap(\.features)), Set(m.features))
        XCTAssertEqual(dataError { _ = try Dataset(features: [1, 2, 3], rows: 2, cols: 2) }?.kind, .badArgument)
    }

    func testIrisAndDigitsShapes() throws {
        let m = try iris().featureMatrix()
        XCTAssertEqual(m.shape, [150, 4])
        XCTAssertEqual(m.labelNames, ["setosa", "versicolor", "virginica"])
        let d = try readCSV(repoRoot + "/Scripts/data/digits.csv", options: CSVOptions(label: "digit"))
        XCTAssertEqual(d.columns.count, 65)
        XCTAssertTrue(d.columns.allSatisfy { $0.type == .int })
        let dm = try d.featureMatrix()
        XCTAssertEqual(dm.shape, [1797, 64])
        XCTAssertEqual(Set(dm.labels!).count, 10)
    }
}

final class PipelineRoundTripTests: XCTestCase {
    func testIntegralFillSurvivesJSON() throws {
        let ds = try readCSV(tempFile("a,b\n1,2\nNA,4\n3,6\n"))
        let p = try fitTransforms(ds, [.impute(.mean), .minMaxScale()])
        XCTAssertEqual(p.steps.first, .impute(column: "a", value: .double(2)))
        let back = try FittedPipeline(json: try p.jsonData())
        XCTAssertEqual(back, p)
        XCTAssertEqual(try back.apply(to: ds).featureMatrix(), try p.apply(to: ds).featureMatrix())
        XCTAssertEqual(try JSONDecoder().decode(FeatureStats.self, from: p.stats.jsonData()), p.stats)
    }
}
