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

    /// Int8 dense layer: y = act(dequant(quant(x) @ Wq) + b) with exact int32 accumulation.
    /// `weight` int8 [in, out] (symmetric), `weightScale` float32 [out] (per channel) or [1];
    /// `colSum` int32 [out] = Σ_k Wq[k, n] (for the zero-point correction).
    /// Activations: `actScale` nil = dynamic, one scale (and zero point) per row from the row's
    /// range, so an example's result never depends on the rest of the batch; else static
    /// (calibrated) scale and zero point. `unsigned`: uint8 inputs with a zero point (better for
    /// post-ReLU ranges), else symmetric int8 (zero point 0).
    /// One C call (`mlw_qlinear`) quantizes x, multiplies and dequantizes; the weight is packed
    /// for the kernel once and kept with its storage (`derived`), not repacked per call.
    /// Example: `try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs, relu: true)`.
    public static func qlinear(_ x: Tensor, weight: Tensor, weightScale: Tensor, colSum: Tensor, bias: Tensor? = nil,
                               actScale: Float? = nil, actZero: Int = 0, unsigned: Bool = false, relu: Bool = false) throws -> Tensor {
        guard weight.rank == 2, weight.dtype == .int8, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[0] else {
            throw TensorError("qlinear", "x \(fmt(x.shape)) and int8 weight \(fmt(weight.shape)) \(weight.dtype) are not compatible")
        }
        let n = weight.shape[1]
        guard weightScale.count == n || weightScale.count == 1, colSum.count == n else {
            throw TensorError("qlinear", "\(weightScale.count) weight scales / \(colSum.count) column sums for \(n) outputs")
        }
        if let bias, bias.count != n { throw TensorError("qlinear", "bias has \(bias.count) entries for \(n) outputs") }
        func ready(_ t: Tensor, _ d: DType) -> Bool { t.dtype == d && t.isContiguous }
        // The graph's operands are already in this form: no converted copies (this runs per layer and call).
        guard ready(x, .float32), ready(weight, .int8), ready(weightScale, .float32), ready(colSum, .int32), bias.map({ ready($0, .float32) }) ?? true else {
            return try qlinear(x.astype(.float32).contiguous(), weight: weight.contiguous(), weightScale: weightScale.astype(.float32).contiguous(),
                               colSum: colSum.astype(.int32).contiguous(), bias: bias?.astype(.float32).contiguous(),
                               actScale: actScale, actZero: actZero, unsigned: unsigned, relu: relu)
        }
        let packed = packedInt8(weight)
        let out = try Tensor(uninitialized: x.rank == 2 ? [x.shape[0], n] : Array(x.shape.dropLast()) + [n], dtype: .float32, op: "qlinear")
        // Parameters stay alive for the whole call; only the packed box needs its lifetime extended.
        var a = qlinearArgs(weight: weight, packed: packed, weightScale: weightScale, colSum: colSum, bias: bias,
                            actScale: actScale, actZero: actZero, unsigned: unsigned, relu: relu)
        a.M = x.shape.dropLast().reduce(1, *); a.x = UnsafePointer(x.ptr(Float.self)); a.y = out.ptr(Float.self)
        let status = withExtendedLifetime(packed) { mlw_qlinear(&a) }
        if status != 0 { throw TensorError("qlinear", "out of memory for the quantized activations") }
        return out
    }

    /// `mlw_qlinear`'s arguments for one layer (checked operands); the caller sets M, x and y.
    static func qlinearArgs(weight: Tensor, packed: PackedInt8, weightScale: Tensor, colSum: Tensor, bias: Tensor?,
                            actScale: Float?, actZero: Int, unsigned: Bool, relu: Bool) -> mlw_qlinear_args {
        let (k, n) = (weight.shape[0], weight.shape[1])
        return mlw_qlinear_args(M: 0, K: k, N: n, x: nil, ldx: k, w: packed.pointer, wscale: weightScale.ptr(Float.self),
                                per_channel: weightScale.count == n ? 1 : 0, colsum: colSum.ptr(Int32.self),
                                bias: bias.map { UnsafePointer($0.ptr(Float.self)) }, dynamic: actScale == nil ? 1 : 0,
                                act_scale: actScale ?? 1, act_zero: Int32(actZero), act_unsigned: unsigned ? 1 : 0,
                                relu: relu ? 1 : 0, y: nil, ldy: n)
    }

    /// A contiguous int8 weight [K, N] in the kernel layout [ceil(K/4)][N][4] (see
    /// qlinear.h), made once per weight storage.
    static func packedInt8(_ w: Tensor) -> PackedInt8 { w.derived(.int8Packed) { PackedInt8($0) } }
}

/// An int8 weight packed for `mlw_qlinear`.
final class PackedInt8 {
    let pointer: UnsafeMutablePointer<Int8>
    init(_ w: Tensor) {
        let (k, n) = (w.shape[0], w.shape[1])
        pointer = .allocate(capacity: Swift.max(1, mlw_qpack_bytes(k, n)))
        mlw_qpack(k, n, w.ptr(Int8.self), n, pointer)
    }
    deinit { pointer.deallocate() }
}
