import CKernels

/// A float32 matrix in compressed sparse row form, for pruned weights.
/// Build it from a dense 2-D tensor, dropping entries with |x| <= threshold.
/// Example: `let w = try CSRMatrix(dense: weight, threshold: 1e-3)`.
public struct CSRMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    /// Row r's entries are `indptr[r]..<indptr[r+1]` of `indices` / `values`.
    public let indptr: [Int64]
    public let indices: [Int32]
    public let values: [Float]

    /// Stored entries.
    public var nonzeros: Int { values.count }
    /// Fraction of zero entries.
    public var sparsity: Double { rows * cols == 0 ? 0 : 1 - Double(nonzeros) / Double(rows * cols) }

    public init(dense: Tensor, threshold: Float = 0) throws {
        guard dense.rank == 2 else { throw TensorError("csr", "expected a 2-D tensor, got \(fmt(dense.shape))") }
        guard dense.shape[1] <= Int(Int32.max) else { throw TensorError("csr", "too many columns (\(dense.shape[1]))") }
        rows = dense.shape[0]
        cols = dense.shape[1]
        let v = dense.toFloats()
        var ip: [Int64] = [0], ix: [Int32] = [], vals: [Float] = []
        for r in 0..<rows {
            for c in 0..<cols {
                let x = v[r * cols + c]
                if Swift.abs(x) > threshold || x.isNaN { ix.append(Int32(c)); vals.append(x) }
            }
            ip.append(Int64(vals.count))
        }
        indptr = ip
        indices = ix
        values = vals
    }

    /// The dense [rows, cols] float32 tensor.
    public func toDense() throws -> Tensor {
        var v = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for p in Int(indptr[r])..<Int(indptr[r + 1]) { v[r * cols + Int(indices[p])] = values[p] } }
        return try Tensor(v, shape: [rows, cols])
    }

    /// self [rows, cols] @ dense [cols, N] -> [rows, N] float32.
    public func matmul(_ b: Tensor) throws -> Tensor {
        guard b.rank == 2, b.shape[0] == cols else {
            throw TensorError("csr_matmul", "shapes \(fmt([rows, cols])) and \(fmt(b.shape)) are not compatible")
        }
        let n = b.shape[1]
        let bc = b.astype(.float32).contiguous()
        let out = try Tensor(uninitialized: [rows, n], dtype: .float32, zeroed: true, op: "csr_matmul")
        withExtendedLifetime(bc) {
            indptr.withUnsafeBufferPointer { ip in indices.withUnsafeBufferPointer { ix in values.withUnsafeBufferPointer { vv in
                mlw_csr_spmm(rows, n, ip.baseAddress!, ix.baseAddress, vv.baseAddress, bc.ptr(Float.self), n, out.ptr(Float.self), n)
            } } }
        }
        return out
    }

    /// The pruned dense layer: x [B, cols] @ selfᵀ -> [B, rows] (self stored as [out, in]
    /// like PyTorch weights). Computed as (self @ xᵀ)ᵀ so the sparse kernel streams rows of xᵀ.
    public func linear(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == cols else {
            throw TensorError("csr_linear", "shapes \(fmt(x.shape)) and \(fmt([rows, cols]))ᵀ are not compatible")
        }
        let xt = try x.astype(.float32).transpose().contiguous()
        return try matmul(xt).transpose().contiguous()
    }
}
