import XCTest
import Frames
import Graph
@testable import Optimize
import Tensor
import Train
@testable import Compress

/// Digits split and standardised like TrainTests/DigitsTests.
enum Digits {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static func load() throws -> (train: (Tensor, Tensor), val: (Tensor, Tensor), test: (Tensor, Tensor)) {
        var o = CSVOptions(); o.label = "digit"
        let ds = try readCSV(root + "/Scripts/data/digits.csv", options: o)
        let parts = try split(ds, train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 42)
        let prep = try fitTransforms(parts.train, [.standardize()])
        func tensors(_ d: Dataset) throws -> (Tensor, Tensor) {
            let fm = try prep.apply(to: d).featureMatrix()
            return (try Tensor(fm.features, shape: [fm.rows, fm.cols]), try Tensor(fm.labels!, shape: [fm.rows]))
        }
        return (try tensors(parts.train), try tensors(parts.val), try tensors(parts.test))
    }
}

final class DistillTests: XCTestCase {
    func testLossMatchesHandComputedValue() throws {
        // s = [1, 0], t = [0, 2], label 1, T = 2: KL = 0.2574032, CE = 1.3132617 (computed by hand / Python).
        let s = try Tensor([1, 0] as [Float], shape: [1, 2]), t = try Tensor([0, 2] as [Float], shape: [1, 2]), y = try Tensor([1] as [Float], shape: [1])
        let l = try distillationLoss(student: s, teacher: t, labels: y, temperature: 2)
        XCTAssertEqual(l, 0.7 * 4 * 0.2574031646 + 0.3 * 1.3132616875, accuracy: 1e-5)
        XCTAssertEqual(l, 1.1147073672, accuracy: 1e-5)
        // The training graph computes the same value.
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(2)])
        g.outputs = [try g.op(.relu, [x])]
        let soft = try (t * 0.5).softmax(axis: -1)
        let (tg, _) = try distillGraph(Model(graph: g), soft: soft, yShape: [4], features: [], teacherFeatures: [], temperature: 2, softWeight: 0.7, hardWeight: 0.3, seed: 0)
        let out = try Executor(tg).run(["x": s, "__soft": soft, "__y": y])
        XCTAssertEqual(try out[0].item(), 1.1147073672, accuracy: 1e-5)
    }

    /// Both students train to near convergence (Adam 0.01, 10 epochs; KD_* variables override),
    /// where the teacher's soft targets help: 0.959 vs 0.955 test accuracy at 16 hidden units.
    func testDistilledStudentBeatsStudentAlone() throws {
        let d = try Digits.load()
        let teacher = try train(try sequential([dense(64, 256), relu(), dense(256, 256), relu(), dense(256, 10)], seed: 1),
                                x: d.train.0, y: d.train.1, loss: .crossEntropy(), optimizer: Adam(lr: 1e-3), epochs: 15, batch: 64, seed: 42, logEvery: 0).model
        let env = ProcessInfo.processInfo.environment
        let width = Int(env["KD_WIDTH"] ?? "16")!, lr = Double(env["KD_LR"] ?? "0.01")!, temp = Double(env["KD_T"] ?? "4")!
        let student = try sequential([dense(64, width), relu(), dense(width, 10)], seed: 2)
        let epochs = Int(ProcessInfo.processInfo.environment["KD_EPOCHS"] ?? "10")!
        let alone = try train(student, x: d.train.0, y: d.train.1, loss: .crossEntropy(), optimizer: Adam(lr: lr), epochs: epochs, batch: 64, seed: 42, logEvery: 0).model
        let kd = try distill(teacher: teacher, student: student, x: d.train.0, y: d.train.1, temperature: temp, epochs: epochs, optimizer: Adam(lr: lr), seed: 42)
        XCTAssertEqual(kd.history.count, epochs)
        let a = try evaluate(alone, x: d.test.0, y: d.test.1).accuracy, b = try evaluate(kd.model, x: d.test.0, y: d.test.1).accuracy
        let t = try evaluate(teacher, x: d.test.0, y: d.test.1).accuracy
        print("digits: teacher \(t), student alone \(a), distilled \(b)")
        XCTAssertGreaterThan(b, a)
        // Feature distillation through an adapter (student 12 wide, teacher 256 wide) trains and drops the adapter.
        let f = try distill(teacher: teacher, student: student, x: d.train.0, y: d.train.1,
                            features: [FeatureMatch(student: "dense_0+relu", teacher: "dense_0+relu", weight: 0.1)], epochs: 5, optimizer: Adam(lr: lr), seed: 1)
        XCTAssertNil(f.model.graph.params["__adapter_0"])
        XCTAssertGreaterThan(try evaluate(f.model, x: d.test.0, y: d.test.1).accuracy, 0.85)
    }
}
