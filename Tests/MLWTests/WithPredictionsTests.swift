import Frames
import Tensor
import Train
import XCTest
@testable import Workbench

/// Issue 15: `with_predictions` reads a model's outputs by its task (Train/Task.swift).
final class WithPredictionsTests: XCTestCase {
    func column(_ cols: [Column], _ name: String) -> Column? { cols.first { $0.name == name } }

    func testRegressionIsInLabelUnits() throws {
        let out = try Tensor([0, 1, -0.5] as [Float], shape: [3, 1])
        let task = ModelTask(kind: .regression, target: .standardize(mean: 10, std: 2))
        let cols = try predictionColumns(out, rows: 3, task: task)
        XCTAssertEqual(cols.map(\.name), ["prediction"])
        XCTAssertEqual(cols[0].data, .float([10, 12, 9]))
        let two = try predictionColumns(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]), rows: 2, task: ModelTask(kind: .regression))
        XCTAssertEqual(two.map(\.name), ["prediction_0", "prediction_1"])
        XCTAssertEqual(two[1].data, .float([2, 4]))
    }

    func testBinaryOneLogitGivesThePositiveClassProbability() throws {
        let out = try Tensor([0, 2, -2] as [Float], shape: [3, 1])
        let cols = try predictionColumns(out, rows: 3, task: ModelTask(kind: .binary, classes: ["no", "yes"], threshold: 0.6))
        XCTAssertEqual(column(cols, "prediction").map { (0..<3).map($0.value(at:)) }, [.string("no"), .string("yes"), .string("no")])
        guard case .float(let p)? = column(cols, "probability")?.data else { return XCTFail() }
        XCTAssertEqual(p[0], 0.5, accuracy: 1e-9)                       // below the threshold 0.6: "no"
        XCTAssertEqual(p[1], 1 / (1 + exp(-2.0)), accuracy: 1e-6)      // of "yes", the chosen class
        XCTAssertEqual(p[2], 1 / (1 + exp(2.0)), accuracy: 1e-6)       // still of "yes", not of the choice
    }

    func testBinaryTwoLogitsAndMulticlassWithoutNames() throws {
        let two = try predictionColumns(try Tensor([0, 1, 3, 0] as [Float], shape: [2, 2]), rows: 2, task: ModelTask(kind: .binary))
        XCTAssertEqual(column(two, "prediction")?.data, .int([1, 0]))
        guard case .float(let p)? = column(two, "probability")?.data else { return XCTFail() }
        XCTAssertEqual(p[1], 1 / (1 + exp(3.0)), accuracy: 1e-6)       // positive class, though 0 was chosen
        let many = try predictionColumns(try Tensor([0, 5, 1, 9, 0, 0] as [Float], shape: [2, 3]), rows: 2, task: ModelTask(kind: .multiclass))
        XCTAssertEqual(column(many, "prediction")?.data, .int([1, 0]))
        guard case .float(let q)? = column(many, "probability")?.data else { return XCTFail() }
        XCTAssertEqual(q[0], exp(5) / (1 + exp(5) + exp(1)), accuracy: 1e-6)
    }

    func testModelsWithoutATaskFallBackByOutputWidth() throws {
        XCTAssertEqual(try taskOf(try sequential([dense(2, 1)], seed: 1)).kind, .regression)
        XCTAssertEqual(try taskOf(try sequential([dense(2, 2)], seed: 1)).kind, .binary)
        XCTAssertEqual(try taskOf(try sequential([dense(2, 5)], seed: 1)).kind, .multiclass)
        var m = try sequential([dense(2, 1)], seed: 1)
        try ModelTask(kind: .binary, classes: ["a", "b"]).store(in: &m.blobs)
        XCTAssertEqual(try taskOf(m), ModelTask(kind: .binary, classes: ["a", "b"]))
    }
}
