import Foundation
import XCTest
@testable import Classical

/// Randomized PCA (Halko et al.) finds the leading components of the full solver: the
/// same directions (the same sign rule) and explained variances within 1e-6 relative.
final class RandomizedPCATests: XCTestCase {
    func testRandomizedMatchesFull() throws {
        var s: UInt64 = 5
        func u() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) - 0.5 }
        // 400 rows, 60 features of decaying scale on a random rotation of the axes.
        let n = 400, d = 60
        let basis = orthonormalColumns(Matrix(rows: d, cols: d, data: (0..<(d * d)).map { _ in u() }))
        var z = Matrix(zeros: n, d)
        for i in 0..<n { for j in 0..<d { z[i, j] = u() * 10 * Foundation.pow(0.8, Double(j)) + (j == 0 ? 3 : 0) } }
        var bt = Matrix(zeros: d, d)
        for i in 0..<d { for j in 0..<d { bt[i, j] = basis[j, i] } }
        let x = z.times(bt)
        for k in [1, 5, 12] {
            let full = try fitPCA(x, components: Double(k), whiten: false)
            let fast = try fitPCA(x, components: Double(k), whiten: false, solver: "randomized", seed: 3)
            for i in 0..<k {
                XCTAssertEqual(fast.explainedVariance[i], full.explainedVariance[i], accuracy: 1e-6 * full.explainedVariance[i], "k \(k) variance \(i)")
                XCTAssertEqual(fast.explainedVarianceRatio[i], full.explainedVarianceRatio[i], accuracy: 1e-6, "k \(k) ratio \(i)")
                for j in 0..<d { XCTAssertEqual(fast.components[j, i], full.components[j, i], accuracy: 1e-6, "k \(k) component \(i)") }
            }
        }
        XCTAssertThrowsError(try fitPCA(x, components: 0.9, whiten: false, solver: "randomized")) { e in
            XCTAssertTrue("\(e)".contains("needs a count of components"), "\(e)")
        }
        XCTAssertThrowsError(try fitPCA(x, components: 2, whiten: false, solver: "arpack")) { e in
            XCTAssertTrue("\(e)".contains("solver must be"), "\(e)")
        }
    }
}
