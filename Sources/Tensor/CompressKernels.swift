import CKernels

/// Kernels behind the compressed layers (module Compress, ops `sparse_dense`, `qdense`,
/// `fake_quant`): a CSR dense layer, an int8 dense layer (int8/uint8 x int8 GEMM with int32
/// accumulation, quantize and dequantize fused around it) and fake quantization.
/// They live here because they need raw storage pointers; all shape logic stays simple.
extension Tensor {
    /// Rounds to nearest-even for |v| < 2²² without a libm call (baseline x86-64 has no
    /// SSE4.1 `roundss`); callers clamp first, so the range always holds.
    @inline(__always) static func rne(_ v: Float) -> Float { (v + 12_582_912) - 12_582_912 }

    /// Pruned dense layer act(x @ W + b) with W stored as CSR of Wᵀ (row o = output unit o,
    /// column indices = input features): `indptr` int32 [out+1], `indices` int32 [nnz],
    /// `values` float32 [nnz]. x is [..., in]. Runs the CSR x dense kernel on xᵀ (at batch 1
    /// xᵀ is x itself, no copy), then transposes back with the bias and ReLU applied.
    /// Example: `try Tensor.csrLinear(x, values: v, indices: ix, indptr: ip, inFeatures: 64)`.
    public static func csrLinear(_ x: Tensor, values: Tensor, indices: Tensor, indptr: Tensor, inFeatures: Int,
                                 bias: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures, indptr.rank == 1, indptr.count >= 1,
              values.dtype == .float32, indices.dtype == .int32, indptr.dtype == .int32, values.count == indices.count else {
            throw TensorError("csr_linear", "bad operands: x \(fmt(x.shape)), \(inFeatures) input features, values \(fmt(values.shape)) \(values.dtype), indices \(indices.dtype), indptr \(fmt(indptr.shape)) \(indptr.dtype)")
        }
        let outF = indptr.count - 1, rows = x.count / Swift.max(inFeatures, 1)
        let ipc = indptr.contiguous(), ixc = indices.contiguous(), vc = values.contiguous()
        if rows == 1 { return try csrDot(x, values: vc, indices: ixc, indptr: ipc, outF: outF, bias: bias, relu: relu) }
        let ip64 = UnsafeBufferPointer(start: ipc.ptr(Int32.self), count: indptr.count).map { Int64($0) }
        guard ip64.last == Int64(values.count) else { throw TensorError("csr_linear", "indptr ends at \(ip64.last!), \(values.count) values") }
        let b = bias?.astype(.float32).contiguous()
        if let b, b.count != outF { throw TensorError("csr_linear", "bias has \(b.count) entries for \(outF) outputs") }
        let xc = x.astype(.float32).contiguous()
        // xᵀ [in, rows]: at batch 1 the contiguous x already is that matrix.
        let xt = rows == 1 ? xc : try xc.reshape([rows, inFeatures]).transpose().contiguous()
        let ct = try Tensor(uninitialized: [outF, rows], dtype: .float32, op: "csr_linear")
        let out = try Tensor(uninitialized: Array(x.shape.dropLast()) + [outF], dtype: .float32, op: "csr_linear")
        withExtendedLifetime((ipc, ixc, vc, xt, b)) {
            ip64.withUnsafeBufferPointer { ip in
                mlw_csr_spmm(outF, rows, ip.baseAddress!, ixc.ptr(Int32.self), vc.ptr(Float.self), xt.ptr(Float.self), rows, ct.ptr(Float.self), rows)
            }
            let c = ct.ptr(Float.self), y = out.ptr(Float.self), bp = b?.ptr(Float.self)
            for o in 0..<outF {
                let bo = bp?[o] ?? 0
                for r in 0..<rows {
                    let v = c[o * rows + r] + bo
                    y[r * outF + o] = relu ? Swift.max(v, 0) : v
                }
            }
        }
        return out
    }

    /// One example: each output is a gather-dot over its row's nonzeros, with four
    /// independent accumulators so the adds are not one long dependency chain.
    static func csrDot(_ x: Tensor, values: Tensor, indices: Tensor, indptr: Tensor, outF: Int, bias: Tensor?, relu: Bool) throws -> Tensor {
        let xc = x.astype(.float32).contiguous(), b = bias?.astype(.float32).contiguous()
        let out = try Tensor(uninitialized: Array(x.shape.dropLast()) + [outF], dtype: .float32, op: "csr_linear")
        let nnz = values.count
        try withExtendedLifetime((xc, b, values, indices, indptr)) {
            let xp = xc.ptr(Float.self), v = values.ptr(Float.self), ix = indices.ptr(Int32.self), ip = indptr.ptr(Int32.self)
            let y = out.ptr(Float.self), bp = b?.ptr(Float.self), inF = xc.count
            for o in 0..<outF {
                var p = Int(ip[o]); let e = Int(ip[o + 1])
                guard p >= 0, p <= e, e <= nnz else { throw TensorError("csr_linear", "indptr is not increasing within 0...\(nnz) at row \(o)") }
                // Column indices come from a file: out-of-range ones are an error, not a wild read.
                for q in p..<e where UInt32(bitPattern: ix[q]) >= UInt32(inF) { throw TensorError("csr_linear", "column index \(ix[q]) out of range for \(inF) inputs") }
                var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
                while p + 4 <= e {
                    a0 += v[p] * xp[Int(ix[p])]; a1 += v[p + 1] * xp[Int(ix[p + 1])]
                    a2 += v[p + 2] * xp[Int(ix[p + 2])]; a3 += v[p + 3] * xp[Int(ix[p + 3])]
                    p += 4
                }
                while p < e { a0 += v[p] * xp[Int(ix[p])]; p += 1 }
                let s = (a0 + a1) + (a2 + a3) + (bp?[o] ?? 0)
                y[o] = relu ? Swift.max(s, 0) : s
            }
        }
        return out
    }

    /// Int8 dense layer: y = act(dequant(quant(x) @ Wq) + b) with int32 accumulation.
    /// `weight` int8 [in, out] (symmetric), `weightScale` float32 [out] (per channel) or [1];
    /// `colSum` int32 [out] = Σ_k Wq[k, n] (for the zero-point correction of uint8 inputs).
    /// Activations: `actScale` nil = dynamic, one scale (and zero point) per row from the row's
    /// range, so an example's result never depends on the rest of the batch; else static
    /// (calibrated) scale and zero point. `unsigned`: uint8 inputs with a zero point (better for
    /// post-ReLU ranges), else symmetric int8 (zero point 0).
    public static func qlinear(_ x: Tensor, weight: Tensor, weightScale: Tensor, colSum: Tensor, bias: Tensor? = nil,
                               actScale: Float? = nil, actZero: Int = 0, unsigned: Bool = false, relu: Bool = false) throws -> Tensor {
        guard weight.rank == 2, weight.dtype == .int8, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[0] else {
            throw TensorError("qlinear", "x \(fmt(x.shape)) and int8 weight \(fmt(weight.shape)) \(weight.dtype) are not compatible")
        }
        let (k, n) = (weight.shape[0], weight.shape[1]), m = x.count / Swift.max(k, 1)
        let ws = weightScale.astype(.float32).contiguous(), cs = colSum.astype(.int32).contiguous()
        guard ws.count == n || ws.count == 1, cs.count == n else { throw TensorError("qlinear", "\(ws.count) weight scales / \(cs.count) column sums for \(n) outputs") }
        let b = bias?.astype(.float32).contiguous()
        if let b, b.count != n { throw TensorError("qlinear", "bias has \(b.count) entries for \(n) outputs") }
        let xc = x.astype(.float32).contiguous(), wc = weight.contiguous()
        let xq = try Tensor(uninitialized: [m, k], dtype: unsigned ? .uint8 : .int8, op: "qlinear")
        let acc = try Tensor(uninitialized: [m, n], dtype: .int32, op: "qlinear")
        let out = try Tensor(uninitialized: Array(x.shape.dropLast()) + [n], dtype: .float32, op: "qlinear")
        var rowScale = [Float](repeating: actScale ?? 1, count: m), rowZero = [Int32](repeating: Int32(actZero), count: m)
        withExtendedLifetime((xc, wc, ws, cs, b)) {
            let xp = xc.ptr(Float.self)
            for r in 0..<m {
                let row = xp + r * k
                if actScale == nil {   // dynamic: this row's range
                    var lo: Float = 0, hi: Float = 0
                    for i in 0..<k { lo = Swift.min(lo, row[i]); hi = Swift.max(hi, row[i]) }
                    if unsigned {
                        let s = (hi - lo) / 255
                        rowScale[r] = s > 0 ? s : 1
                        rowZero[r] = Int32(Swift.min(255, Swift.max(0, rne(-lo / rowScale[r]))))
                    } else {
                        let s = Swift.max(hi, -lo) / 127
                        rowScale[r] = s > 0 ? s : 1
                    }
                }
                let inv = 1 / rowScale[r], z = Float(rowZero[r])
                if unsigned {
                    let q = xq.ptr(UInt8.self) + r * k
                    for i in 0..<k { q[i] = UInt8(rne(Swift.min(255, Swift.max(0, row[i] * inv + z)))) }
                } else {
                    let q = xq.ptr(Int8.self) + r * k
                    for i in 0..<k { q[i] = Int8(rne(Swift.min(127, Swift.max(-127, row[i] * inv)))) }
                }
            }
            if m <= 4 {   // few rows: the GEMV reads W in place instead of packing it per call
                for r in 0..<m {
                    if unsigned { mlw_qgemv_u8(k, n, xq.ptr(UInt8.self) + r * k, wc.ptr(Int8.self), acc.ptr(Int32.self) + r * n) }
                    else { mlw_qgemv_s8(k, n, xq.ptr(Int8.self) + r * k, wc.ptr(Int8.self), acc.ptr(Int32.self) + r * n) }
                }
            } else if unsigned {
                mlw_gemm_u8s8s32(m, n, k, xq.ptr(UInt8.self), k, wc.ptr(Int8.self), n, acc.ptr(Int32.self), n)
            } else {
                mlw_gemm_s8s8s32(m, n, k, xq.ptr(Int8.self), k, wc.ptr(Int8.self), n, acc.ptr(Int32.self), n)
            }
            let a = acc.ptr(Int32.self), y = out.ptr(Float.self), wsp = ws.ptr(Float.self), csp = cs.ptr(Int32.self), bp = b?.ptr(Float.self)
            let perChannel = ws.count == n
            for r in 0..<m {
                let s = rowScale[r], z = rowZero[r]
                for j in 0..<n {
                    var v = s * (perChannel ? wsp[j] : wsp[0]) * Float(a[r * n + j] &- z &* csp[j])
                    if let bp { v += bp[j] }
                    y[r * n + j] = relu ? Swift.max(v, 0) : v
                }
            }
        }
        return out
    }

    /// Symmetric int8 weights per output column of W [in, out] (or one scale when
    /// `perChannel` is false): scale = max|w| / 127, q = round(w / scale).
    /// Returns (q int8 [in, out], scales float32 [out] or [1], column sums int32 [out]).
    public static func quantizeWeightsInt8(_ w: Tensor, perChannel: Bool) throws -> (q: Tensor, scale: Tensor, colSum: Tensor) {
        guard w.rank == 2 else { throw TensorError("quantize_weights", "expected a 2-D weight, got \(fmt(w.shape))") }
        let (k, n) = (w.shape[0], w.shape[1])
        let v = w.astype(.float32).toFloats()
        var scale = [Float](repeating: 0, count: perChannel ? n : 1)
        for i in 0..<k { for j in 0..<n { let c = perChannel ? j : 0; scale[c] = Swift.max(scale[c], Swift.abs(v[i * n + j])) } }
        scale = scale.map { $0 > 0 ? $0 / 127 : 1 }
        let q = try Tensor(uninitialized: [k, n], dtype: .int8, op: "quantize_weights")
        var sums = [Int](repeating: 0, count: n)
        let qp = q.ptr(Int8.self)
        for i in 0..<k { for j in 0..<n {
            let x = Int8(rne(Swift.min(127, Swift.max(-127, v[i * n + j] / scale[perChannel ? j : 0]))))
            qp[i * n + j] = x; sums[j] += Int(x)
        } }
        return (q, try Tensor(scale, shape: [scale.count]), try Tensor(sums, shape: [n], dtype: .int32))
    }

    /// Quantize-dequantize round trip ("fake quantization" for QAT): symmetric, `levels`
    /// = 2^(bits-1) - 1, scale per slice along `axis` (0: per row, 1: per column of a 2-D
    /// tensor; nil: one scale) from the current max |x|. Values stay float32.
    public static func fakeQuant(_ x: Tensor, axis: Int?, bits: Int = 8) throws -> Tensor {
        var y = x.astype(.float32).contiguous()
        let levels = Float((1 << (bits - 1)) - 1)
        let n = y.rank == 2 ? y.shape[1] : y.count, m = y.count / Swift.max(n, 1)
        try y.withMutableFloats { p in
            var s = [Float](repeating: 0, count: axis == 0 ? m : axis == 1 ? n : 1)
            for r in 0..<m { for j in 0..<n { let c = axis == 0 ? r : axis == 1 ? j : 0; s[c] = Swift.max(s[c], Swift.abs(p[r * n + j])) } }
            s = s.map { $0 > 0 ? $0 / levels : 1 }
            for r in 0..<m { for j in 0..<n {
                let sc = s[axis == 0 ? r : axis == 1 ? j : 0]
                p[r * n + j] = rne(Swift.min(levels, Swift.max(-levels, p[r * n + j] / sc))) * sc
            } }
        }
        return y
    }
}
