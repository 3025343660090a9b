import Foundation
import XCTest
import Graph
import Optimize
import ServeModels
import Tensor
@testable import Classical
@testable import Train

/// Every classical model goes through the paths a trained net takes: the model file
/// (encode, load-time check, decode) and the server's `GraphServable`, with the same
/// outputs as `predict` on the fitted model.
final class ClassicalModelPathTests: XCTestCase {
    func data() -> (FitData, FitData, Tensor) {
        var s: UInt64 = 7
        func u() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) * 4 - 2 }
        let n = 60, d = 3
        let x = (0..<(n * d)).map { _ in Double(Float(u())) }
        let y3 = (0..<n).map { i in x[i * d] > 0.6 ? 2.0 : (x[i * d] > -0.6 ? 1.0 : 0.0) }
        let yr = (0..<n).map { i in 2 * x[i * d] - x[i * d + 1] + 0.5 }
        let m = Matrix(rows: n, cols: d, data: x)
        return (FitData(x: m, y: y3, classes: ["a", "b", "c"]), FitData(x: m, y: yr), try! Tensor(x.prefix(15).map { Float($0) }, shape: [5, d]))
    }

    func testEveryModelSurvivesTheFileAndServes() throws {
        let (cls, reg, q) = data()
        let binary = FitData(x: cls.x, y: cls.y!.map { $0 == 2 ? 1 : 0 })
        let models: [(String, Model)] = [
            ("linear", try linearRegression(reg, LinearOptions(l2: 0.5))),
            ("lasso", try linearRegression(reg, LinearOptions(l1: 0.01))),
            ("logistic", try logisticRegression(cls, LogisticOptions())),
            ("logistic_binary", try logisticRegression(binary, LogisticOptions(l2: 0.1))),
            ("kmeans", try kmeansModel(cls, KMeansOptions(k: 3, seed: 1)).0),
            ("pca", try pcaModel(cls, components: 2, whiten: true).0),
            ("knn", try knnModel(cls, k: 4, metric: "euclidean", weights: "distance", classifier: nil)),
            ("knn_cosine", try knnModel(reg, k: 3, metric: "cosine", weights: "uniform", classifier: false)),
            ("gaussian_nb", try naiveBayesModel(cls, kind: "gaussian")),
        ]
        for (name, m) in models {
            let want = try predict(m, q).toFloats()
            let back = try ModelFile.decode(try ModelFile.encode(m))
            XCTAssertEqual(try predict(back, q).toFloats(), want, name)
            XCTAssertEqual(ClassicalInfo.stored(in: back), ClassicalInfo.stored(in: m), name)
            XCTAssertEqual(back.task, m.task, name)
            let served = try GraphServable(back, name: name, version: 1)
            let out = try served.predict(q)
            XCTAssertEqual(out.shape[0], 5, name)
            if m.task == nil || m.task?.kind == .regression {
                XCTAssertEqual(out.toFloats(), want, name)
            } else {
                // Classification: the server answers probabilities, rows summing to 1, and the
                // class `predict`'s outputs choose.
                let w = out.shape[1], p = out.toFloats()
                for i in 0..<5 {
                    XCTAssertEqual(p[(i * w)..<((i + 1) * w)].reduce(0, +), 1, accuracy: 1e-4, name)
                    let raw = want[(i * (want.count / 5))..<((i + 1) * (want.count / 5))].map(Double.init)
                    guard case .probabilities(let probs, _) = m.task!.answer(Array(raw)) else { return XCTFail(name) }
                    for k in 0..<w { XCTAssertEqual(Double(p[i * w + k]), probs[k], accuracy: 1e-5, name) }
                }
            }
        }
    }

    func testTopKMatchesItsOracle() {
        var s: UInt64 = 3
        for (rows, cols, k) in [(1, 1, 1), (3, 17, 5), (4, 64, 64), (2, 100, 7)] {
            // Few distinct values, so ties are common: lower indices win them.
            let x = (0..<(rows * cols)).map { _ -> Float in s = s &* 6364136223846793005 &+ 1; return Float((s >> 33) % 9) }
            for smallest in [false, true] {
                XCTAssertEqual(topKRows(x, rows: rows, cols: cols, k: k, smallest: smallest).indices,
                               topKReference(x, rows: rows, cols: cols, k: k, smallest: smallest), "\(rows)x\(cols) k \(k)")
            }
        }
    }
}
