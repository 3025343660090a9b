import CKernels

extension Tensor {
    /// Exact integer matmul: [M, K] (int8 or uint8) x [K, N] (int8) -> [M, N] int32.
    /// Sums wrap modulo 2³² only beyond K ≈ 65000 (like any int32 accumulator).
    /// Example: `try Tensor.matmulInt8(qx, qw)`.
    public static func matmulInt8(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank == 2, b.rank == 2, a.dtype == .int8 || a.dtype == .uint8, b.dtype == .int8 else {
            throw TensorError("matmul_int8", "expected 2-D int8/uint8 x int8 operands, got \(fmt(a.shape)) \(a.dtype) and \(fmt(b.shape)) \(b.dtype)")
        }
        let (m, k, k2, n) = (a.shape[0], a.shape[1], b.shape[0], b.shape[1])
        guard k == k2 else {
            throw TensorError("matmul_int8", "shapes \(fmt(a.shape)) and \(fmt(b.shape)) are not compatible (\(k) != \(k2))")
        }
        let ac = a.contiguous(), bc = b.contiguous()
        let out = try Tensor(uninitialized: [m, n], dtype: .int32, op: "matmul_int8")
        let status = withExtendedLifetime((ac, bc)) {
            a.dtype == .int8
                ? mlw_gemm_s8s8s32(m, n, k, ac.ptr(Int8.self), k, bc.ptr(Int8.self), n, out.ptr(Int32.self), n)
                : mlw_gemm_u8s8s32(m, n, k, ac.ptr(UInt8.self), k, bc.ptr(Int8.self), n, out.ptr(Int32.self), n)
        }
        if status != 0 { throw TensorError("matmul_int8", "out of memory for the packing buffers") }
        return out
    }
}
