import XCTest
import Frames
import Tensor
import Graph
import Optimize
@testable import Train

/// Digits (1797 8x8 images): an MLP 64-128-64-10 with Adam reaches >= 0.97 test accuracy.
final class DigitsTests: XCTestCase {
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

    func testMLPReaches97Percent() throws {
        let d = try Self.load()
        XCTAssertEqual(d.train.0.shape[1], 64)
        let model = try sequential([dense(64, 128), relu(), dense(128, 64), relu(), dense(64, 10)], seed: 7)
        let epochs = ProcessInfo.processInfo.environment["MLW_LONG_TESTS"] != nil ? 80 : 40
        let run = try train(model, x: d.train.0, y: d.train.1, loss: .crossEntropy(), optimizer: Adam(lr: 1e-3),
                            epochs: epochs, batch: 64, val: d.val, seed: 42,
                            earlyStop: EarlyStop(patience: 8, metric: "val_loss"), logEvery: 0)
        let acc = try evaluate(run.model, x: d.test.0, y: d.test.1).accuracy
        let perEpoch = run.history.map(\.seconds).reduce(0, +) / Double(run.history.count)
        print("digits: test accuracy \(acc), \(perEpoch) s/epoch, \(Int(run.history.last!.samplesPerSecond)) samples/s")
        XCTAssertGreaterThanOrEqual(acc, 0.97)
    }
}
