@testable import Train
import Tensor
import XCTest

/// The checkpoint file: round trip of every part, and damaged files rejected with an error.
final class CheckpointTests: XCTestCase {
    func sample() throws -> TrainCheckpoint {
        var adam = Adam(lr: 0.01)
        var params = ["w": try Tensor([Float](arrayLiteral: 1, 2, 3, 4), shape: [2, 2])]
        try adam.step(&params, ["w": try Tensor([Float](arrayLiteral: 0.5, -0.5, 0.25, 0), shape: [2, 2])], names: ["w"])
        let rec = EpochRecord(epoch: 1, loss: 0.7, accuracy: 0.5, valLoss: nil, valAccuracy: nil, seconds: 0.1, samplesPerSecond: 10)
        return TrainCheckpoint(params: params, best: (0.3, params), sinceBest: 1, epochsDone: 1, globalStep: 7, seed: UInt64.max,
                               history: [rec], optimizer: try OptimizerCheckpoint.capture(adam))
    }

    func testRoundTrip() throws {
        let c = try sample()
        let back = try TrainCheckpoint.decode(try c.encode(), path: "x")
        XCTAssertEqual(back.params["w"]?.toFloats(), c.params["w"]?.toFloats())
        XCTAssertEqual(back.best?.score, 0.3)
        XCTAssertEqual(back.seed, UInt64.max)
        XCTAssertEqual(back.globalStep, 7)
        XCTAssertEqual(back.history.map(\.loss), [0.7])
        XCTAssertEqual(back.optimizer.slots["m"]?["w"], c.optimizer.slots["m"]?["w"])
        // Restored into a fresh Adam, the next step is the one the original would take.
        var a1: Optimizer = Adam(lr: 0.01), a2: Optimizer = Adam(lr: 0.01)
        try OptimizerCheckpoint.restore(c.optimizer, into: &a1)
        try OptimizerCheckpoint.restore(back.optimizer, into: &a2)
        var p1 = c.params, p2 = c.params
        let g = ["w": try Tensor([Float](arrayLiteral: 0.1, 0.2, 0.3, 0.4), shape: [2, 2])]
        try a1.step(&p1, g, names: ["w"]); try a2.step(&p2, g, names: ["w"])
        XCTAssertEqual(p1["w"]?.toFloats(), p2["w"]?.toFloats())
        // Another optimizer kind is refused.
        var sgd: Optimizer = SGD()
        XCTAssertThrowsError(try OptimizerCheckpoint.restore(back.optimizer, into: &sgd))
    }

    func testDamagedFilesAreRejected() throws {
        let bytes = try sample().encode()
        for cut in [0, 4, 8, 20, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try TrainCheckpoint.decode(Array(bytes.prefix(cut)), path: "x"), "cut at \(cut)")
        }
        var flipped = bytes
        flipped[9] ^= 0xFF   // inside the header length / JSON
        XCTAssertThrowsError(try TrainCheckpoint.decode(flipped, path: "x"))
    }
}
