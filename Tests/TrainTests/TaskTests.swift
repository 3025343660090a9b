import XCTest
import Tensor
import Graph
import Optimize
@testable import Train

/// The task a model carries: inferred at training time, kept by save/load, shown in summaries.
final class TaskTests: XCTestCase {
    func testInferenceFromLossAndWidth() {
        XCTAssertEqual(ModelTask.infer(loss: .mse, outputWidth: 1)?.kind, .regression)
        XCTAssertEqual(ModelTask.infer(loss: .mae, outputWidth: 3)?.kind, .regression)
        XCTAssertEqual(ModelTask.infer(loss: .huber(), outputWidth: 1)?.kind, .regression)
        XCTAssertEqual(ModelTask.infer(loss: .binaryCrossEntropy, outputWidth: 1)?.kind, .binary)
        XCTAssertNil(ModelTask.infer(loss: .binaryCrossEntropy, outputWidth: 4))
        XCTAssertEqual(ModelTask.infer(loss: .crossEntropy(), outputWidth: 2)?.kind, .binary)
        XCTAssertEqual(ModelTask.infer(loss: .crossEntropy(), outputWidth: 3, classes: ["a", "b", "c"]),
                       ModelTask(kind: .multiclass, classes: ["a", "b", "c"]))
        // Names that do not fit the outputs are dropped.
        XCTAssertNil(ModelTask.infer(loss: .crossEntropy(), outputWidth: 3, classes: ["a", "b"])?.classes)
        XCTAssertNil(ModelTask.infer(loss: .klDiv, outputWidth: 3))
    }

    func testTrainStoresTheTaskAndFilesKeepIt() throws {
        let x = try Tensor.randn([40, 2], seed: 1)
        let y = try Tensor((0..<40).map { Float($0 % 2) }, shape: [40])
        var m = try sequential([dense(2, 1)], seed: 1)
        m.task = ModelTask(kind: .binary, classes: ["no", "yes"], threshold: 0.7)
        let run = try train(m, x: x, y: y, loss: .binaryCrossEntropy, optimizer: Adam(), epochs: 1, logEvery: 0)
        // Class names and threshold set before training are kept.
        XCTAssertEqual(run.model.task, ModelTask(kind: .binary, classes: ["no", "yes"], threshold: 0.7))
        XCTAssertTrue(summary(run.model).hasSuffix("task: binary (one logit, threshold 0.7): no, yes"), summary(run.model))
        let back = try ModelFile.decode(try ModelFile.encode(run.model))
        XCTAssertEqual(back.task, run.model.task)
        // A regression target transform: outputs come back in the label's units.
        let t = ModelTask(kind: .regression, target: .standardize(mean: 10, std: 2))
        XCTAssertEqual(try t.labelUnits(try Tensor([0, 1, -1] as [Float], shape: [3, 1])).toDoubles(), [10, 12, 8])
        XCTAssertEqual(t.summary(outputWidth: 1), "regression (targets standardized: mean 10, std 2)")
        guard case .values(let v) = ModelTask(kind: .regression, target: .log1p).answer([Foundation.log1p(4.0)]) else { return XCTFail() }
        XCTAssertEqual(v[0], 4, accuracy: 1e-12)
        // A malformed task blob reads as no task (the file's other parts still load).
        var bad = run.model
        bad.blobs[ModelTask.blobName] = "{"
        XCTAssertNil(bad.task)
        XCTAssertThrowsError(try ModelTask.stored(in: bad.blobs))
    }

    func testThresholdChoice() throws {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
        let labels = [1, 1, 0, 1, 0, 1, 0, 0]
        // Precision at >= 0.8: 2/2; at 0.7: 2/3; at 0.6: 3/4 = 0.75; at 0.4: 4/6.
        XCTAssertEqual(try chooseThreshold(scores: scores, labels: labels, precision: 1), 0.8)
        XCTAssertEqual(try chooseThreshold(scores: scores, labels: labels, precision: 0.75), 0.6)
        // Recall 0.75 needs three of four positives: first reached at 0.6; all four at 0.4.
        XCTAssertEqual(try chooseThreshold(scores: scores, labels: labels, recall: 0.75), 0.6)
        XCTAssertEqual(try chooseThreshold(scores: scores, labels: labels, recall: 1), 0.4)
        XCTAssertThrowsError(try chooseThreshold(scores: [0.9, 0.1], labels: [0, 1], precision: 0.9)) { e in
            XCTAssertEqual("\(e)", "threshold: no threshold reaches precision 0.9 on these 2 rows (the best is 0.5)")
        }
        XCTAssertThrowsError(try chooseThreshold(scores: scores, labels: labels, precision: 0.9, recall: 0.9))
        XCTAssertThrowsError(try chooseThreshold(scores: scores, labels: [0, 0, 0, 0, 0, 0, 0, 0], recall: 0.5))
    }

    func testBinaryEvaluationUsesTheThreshold() throws {
        // One logit per row; probabilities 0.27, 0.5, 0.73, 0.88.
        let z = try Tensor([-1, 0, 1, 2] as [Float], shape: [4, 1])
        let y = try Tensor([0, 1, 0, 1] as [Float], shape: [4])
        let at5 = try metrics(outputs: z, labels: y, task: ModelTask(kind: .binary))
        XCTAssertEqual(at5.confusion, [[1, 1], [0, 2]])
        let at8 = try metrics(outputs: z, labels: y, task: ModelTask(kind: .binary, threshold: 0.8))
        XCTAssertEqual(at8.confusion, [[2, 0], [1, 1]])
        XCTAssertEqual(at8.threshold, 0.8)
        XCTAssertEqual(at5.rocAUC, at8.rocAUC)   // threshold-free
        XCTAssertEqual(at8.scores?.count, 4); XCTAssertEqual(at8.labels, [0, 1, 0, 1])
        XCTAssertTrue(at5.description.hasSuffix("confusion (rows: true, columns: predicted)\n       0  1\n0      1  1\n1      0  2"), at5.description)
    }
}
