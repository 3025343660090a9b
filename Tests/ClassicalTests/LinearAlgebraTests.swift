import XCTest
@testable import Classical

/// The float64 kernels against their obvious definitions on odd sizes.
final class LinearAlgebraTests: XCTestCase {
    func randomMatrix(_ r: Int, _ c: Int, seed: Int) -> Matrix {
        var s = UInt64(seed)
        return Matrix(rows: r, cols: c, data: (0..<(r * c)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int64(bitPattern: s >> 11) % 2000) / 1000
        })
    }

    func testGramAndProducts() {
        let x = randomMatrix(37, 5, seed: 1), w = (0..<37).map { Double($0 % 3) + 0.5 }
        let g = x.gram(w)
        for a in 0..<5 { for b in 0..<5 {
            let want = (0..<37).reduce(0.0) { $0 + w[$1] * x[$1, a] * x[$1, b] }
            XCTAssertEqual(g[a, b], want, accuracy: 1e-9)
        } }
        let m = randomMatrix(5, 3, seed: 2)
        let p = x.times(m, bias: [1, 2, 3])
        XCTAssertEqual(p[4, 2], (0..<5).reduce(3.0) { $0 + x[4, $1] * m[$1, 2] }, accuracy: 1e-12)
        let t = x.transposeTimes(p)
        XCTAssertEqual(t[3, 1], (0..<37).reduce(0.0) { $0 + x[$1, 3] * p[$1, 1] }, accuracy: 1e-9)
    }

    func testCholeskyQRAndEigen() {
        let x = randomMatrix(20, 4, seed: 3)
        var a = x.gram()
        for j in 0..<4 { a[j, j] += 0.1 }
        let b = [1.0, -2, 0.5, 3]
        let sol = choleskySolve(a, b)!
        for i in 0..<4 { XCTAssertEqual((0..<4).reduce(0.0) { $0 + a[i, $1] * sol[$1] }, b[i], accuracy: 1e-9) }
        // QR on [X; √0.1 I] solves the same ridge system.
        var rows = Matrix(zeros: 24, 4)
        for i in 0..<20 { for j in 0..<4 { rows[i, j] = x[i, j] } }
        for j in 0..<4 { rows[20 + j, j] = 0.1.squareRoot() }
        // Right-hand side whose normal equations give b: solve X'X + 0.1 I = b via y = X z.
        let y = x.times(Matrix(rows: 4, cols: 1, data: sol)).data + [Double](repeating: 0, count: 4)
        let qr = leastSquaresQR(rows, y)
        XCTAssertEqual(qr.rank, 4)
        let xty = x.transposeTimes(Matrix(rows: 20, cols: 1, data: Array(y.prefix(20)))).data
        for i in 0..<4 { XCTAssertEqual((0..<4).reduce(0.0) { $0 + a[i, $1] * qr.x[$1] }, xty[i], accuracy: 1e-8) }
        // A singular matrix is refused by Cholesky.
        var s = Matrix(zeros: 3, 3)
        s[0, 0] = 1; s[1, 1] = 1
        XCTAssertNil(choleskySolve(s, [1, 1, 1]))
        // Eigen: A v = λ v, descending.
        let (vals, vecs) = symmetricEigen(a)
        XCTAssertEqual(vals, vals.sorted(by: >))
        for i in 0..<4 { for r in 0..<4 {
            XCTAssertEqual((0..<4).reduce(0.0) { $0 + a[r, $1] * vecs[$1, i] }, vals[i] * vecs[r, i], accuracy: 1e-8)
        } }
    }
}
