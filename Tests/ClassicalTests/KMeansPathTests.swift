import Foundation
import XCTest
@testable import Classical
import Train

/// k-means assigns rows by Hamerly bounds (low dimensions) or by a float32 GEMM per
/// iteration: both reach Lloyd's fixed point, every row on its nearest centre, the same
/// clustering, and the reported inertia is the exact float64 sum.
final class KMeansPathTests: XCTestCase {
    func blobs(n: Int, d: Int, centres: Int, seed: UInt64) -> Matrix {
        var s = seed
        func u() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) - 0.5 }
        let c = (0..<(centres * d)).map { _ in u() * 20 }
        return Matrix(rows: n, cols: d, data: (0..<(n * d)).map { k in c[((k / d) % centres) * d + k % d] + u() * 3 })
    }

    func checkFixedPoint(_ x: Matrix, _ f: KMeansFit, _ label: String) {
        var inertia = 0.0
        for i in 0..<x.rows {
            let mine = exactDistance(x, i, f.centroids, f.labels[i])
            for j in 0..<f.centroids.rows { XCTAssertLessThanOrEqual(mine, exactDistance(x, i, f.centroids, j) * (1 + 1e-9) + 1e-9, "\(label): row \(i)") }
            inertia += mine
        }
        XCTAssertEqual(f.inertia, inertia, accuracy: 1e-9 * inertia, label)
    }

    func testBoundsAndGEMMReachTheSameClustering() throws {
        for (d, k) in [(2, 5), (8, 7), (24, 6)] {
            let x = blobs(n: 900, d: d, centres: k, seed: UInt64(d))
            var o = KMeansOptions(k: k, nInit: 2, tol: 0, seed: 4)
            o.bounds = true
            let a = try fitKMeans(x, o)
            o.bounds = false
            let b = try fitKMeans(x, o)
            checkFixedPoint(x, a, "bounds d=\(d)")
            checkFixedPoint(x, b, "gemm d=\(d)")
            XCTAssertEqual(try adjustedRandIndex(a.labels, b.labels), 1, accuracy: 1e-12, "d=\(d)")
            XCTAssertEqual(a.inertia, b.inertia, accuracy: 1e-9 * a.inertia, "d=\(d)")
        }
    }
}
