import CKernels
import Tensor

/// A dense row-major float64 matrix: what the fitting algorithms work on (the data
/// arrives as float32 tensors; fitting in float64 is what makes the results agree with
/// scikit-learn's LAPACK solutions to 1e-4).
public struct Matrix {
    public var rows: Int, cols: Int
    public var data: [Double]
    public init(rows: Int, cols: Int, data: [Double]) { self.rows = rows; self.cols = cols; self.data = data }
    public init(zeros rows: Int, _ cols: Int) { self.init(rows: rows, cols: cols, data: [Double](repeating: 0, count: rows * cols)) }

    /// A [rows, cols] tensor as a matrix; a vector [n] becomes one column.
    public init(_ t: Tensor) throws {
        guard t.rank == 2 || t.rank == 1 else { throw ClassicalError("expected a 2-D [rows, features] tensor, got shape \(t.shape)") }
        rows = t.shape[0]; cols = t.rank == 2 ? t.shape[1] : 1
        data = t.toDoubles()
    }

    public subscript(i: Int, j: Int) -> Double {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    /// Column means (weighted when `w` is given).
    public func columnMeans(_ w: [Double]? = nil) -> [Double] {
        var m = [Double](repeating: 0, count: cols)
        var total = 0.0
        for i in 0..<rows {
            let wi = w?[i] ?? 1
            total += wi
            for j in 0..<cols { m[j] += wi * data[i * cols + j] }
        }
        return m.map { $0 / Swift.max(total, .leastNonzeroMagnitude) }
    }

    /// The matrix with `v` subtracted from every row.
    public func centered(_ v: [Double]) -> Matrix {
        var out = self
        for i in 0..<rows { for j in 0..<cols { out.data[i * cols + j] -= v[j] } }
        return out
    }

    /// X' diag(w) X.
    public func gram(_ w: [Double]? = nil) -> Matrix {
        var g = Matrix(zeros: cols, cols)
        data.withUnsafeBufferPointer { x in
            g.data.withUnsafeMutableBufferPointer { o in
                if let w { w.withUnsafeBufferPointer { wp in mlw_gram_f64(x.baseAddress, rows, cols, wp.baseAddress, o.baseAddress) } }
                else { mlw_gram_f64(x.baseAddress, rows, cols, nil, o.baseAddress) }
            }
        }
        return g
    }

    /// self [n, d] @ w [d, c] (+ b): fixed row blocks spread over the kernel threads (each
    /// output row is computed the same way whatever the thread count).
    public func times(_ w: Matrix, bias: [Double]? = nil) -> Matrix {
        var out = Matrix(zeros: rows, w.cols)
        let n = rows, d = cols, c = w.cols
        data.withUnsafeBufferPointer { x in
            w.data.withUnsafeBufferPointer { wp in
                out.data.withUnsafeMutableBufferPointer { o in
                    let xb = x.baseAddress!, wb = wp.baseAddress, ob = o.baseAddress!
                    let run = { (b: UnsafePointer<Double>?) in
                        parallelBlocks(n) { lo, hi in mlw_matmul_f64(xb + lo * d, hi - lo, d, wb, c, b, ob + lo * c) }
                    }
                    if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                }
            }
        }
        return out
    }

    /// self' [d, n] @ r [n, c]: a partial product per fixed row block, summed in block order
    /// (the same result for any thread count).
    public func transposeTimes(_ r: Matrix) -> Matrix {
        let n = rows, d = cols, c = r.cols
        let blocks = (n + Matrix.block - 1) / Matrix.block
        var partial = [Double](repeating: 0, count: Swift.max(blocks, 1) * d * c)
        data.withUnsafeBufferPointer { x in
            r.data.withUnsafeBufferPointer { rp in
                partial.withUnsafeMutableBufferPointer { pp in
                    let xb = x.baseAddress!, rb = rp.baseAddress!, pb = pp.baseAddress!
                    parallelBlocks(n) { lo, hi in
                        mlw_matmul_tn_f64(xb + lo * d, hi - lo, d, rb + lo * c, c, pb + (lo / Matrix.block) * d * c)
                    }
                }
            }
        }
        var out = Matrix(zeros: d, c)
        for b in 0..<blocks { for k in 0..<(d * c) { out.data[k] += partial[b * d * c + k] } }
        return out
    }

    /// Rows per block of the parallel products.
    static let block = 4096

    /// A float32 tensor of the same shape.
    public func tensor() throws -> Tensor { try Tensor(data.map { Float($0) }, shape: [rows, cols]) }
}

/// Solves the symmetric positive definite system A x = b by Cholesky; nil when A is not
/// (numerically) positive definite: a pivot below `relTol` times the largest diagonal.
public func choleskySolve(_ a: Matrix, _ b: [Double], relTol: Double = 1e-10) -> [Double]? {
    var l = a.data, x = b
    let bad = l.withUnsafeMutableBufferPointer { mlw_cholesky_f64($0.baseAddress, a.rows, relTol) }
    guard bad == 0 else { return nil }
    l.withUnsafeBufferPointer { lp in x.withUnsafeMutableBufferPointer { mlw_cholesky_solve_f64(lp.baseAddress, a.rows, $0.baseAddress) } }
    return x
}

/// Least squares by pivoted Householder QR (columns below rcond of the first dropped).
public func leastSquaresQR(_ a: Matrix, _ b: [Double], rcond: Double = 1e-12) -> (x: [Double], rank: Int) {
    var m = a.data, rhs = b, x = [Double](repeating: 0, count: a.cols)
    let rank = m.withUnsafeMutableBufferPointer { mp in
        rhs.withUnsafeMutableBufferPointer { bp in
            x.withUnsafeMutableBufferPointer { xp in mlw_lstsq_qr_f64(mp.baseAddress, a.rows, a.cols, bp.baseAddress, rcond, xp.baseAddress) }
        }
    }
    return (x, rank)
}

/// Eigenvalues (descending) and eigenvectors (column i for value i) of a symmetric matrix.
public func symmetricEigen(_ a: Matrix, maxSweeps: Int32 = 100) -> (values: [Double], vectors: Matrix) {
    var m = a.data, vals = [Double](repeating: 0, count: a.rows), vecs = Matrix(zeros: a.rows, a.rows)
    _ = m.withUnsafeMutableBufferPointer { mp in
        vals.withUnsafeMutableBufferPointer { vp in
            vecs.data.withUnsafeMutableBufferPointer { ep in mlw_jacobi_eigen_f64(mp.baseAddress, a.rows, vp.baseAddress, ep.baseAddress, maxSweeps) }
        }
    }
    return (vals, vecs)
}

/// Runs body(lo, hi) over the fixed blocks [lo, hi) of 0..<n (Matrix.block rows each) on
/// the kernels' thread pool (`mlw_parallel_for`, as the Tensor kernels: no GCD threads
/// competing with its spinning workers).
func parallelBlocks(_ n: Int, _ body: (Int, Int) -> Void) {
    let blocks = (n + Matrix.block - 1) / Matrix.block
    guard blocks > 1 else { if n > 0 { body(0, n) }; return }
    withoutActuallyEscaping(body) { body in
        let job = BlockJob { t in body(t * Matrix.block, Swift.min(n, (t + 1) * Matrix.block)) }
        withExtendedLifetime(job) {
            mlw_parallel_for(Int32(blocks), 0, { ctx, t in
                Unmanaged<BlockJob>.fromOpaque(ctx!).takeUnretainedValue().body(Int(t))
            }, Unmanaged.passUnretained(job).toOpaque())
        }
    }
}

final class BlockJob {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// Errors of fitting classical models (bad shapes, labels, options).
public struct ClassicalError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
