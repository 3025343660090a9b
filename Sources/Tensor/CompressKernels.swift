import CKernels

/// Kernels behind the compressed layers (module Compress, ops `sparse_dense`, `qdense`,
/// `fake_quant`): the CSR dense layer, int8 weight quantization and fake quantization (the
/// int8 dense layer itself is in Quantized.swift). They need raw storage pointers; all
/// shape logic stays simple.
extension Tensor {
    /// Rounds to nearest-even for |v| < 2²² without a libm call (baseline x86-64 has no
    /// SSE4.1 `roundss`); callers clamp first, so the range always holds.
    @inline(__always) static func rne(_ v: Float) -> Float { (v + 12_582_912) - 12_582_912 }

    /// Pruned dense layer act(x @ W + b) with W stored as CSR of Wᵀ (row o = output unit o,
    /// column indices = input features): `indptr` int32 [out+1], `indices` int32 [nnz],
    /// `values` float32 [nnz]. x is [..., in]. One C call: for a few rows the ELL kernel
    /// (AVX-512) or gather-dots, for batches xᵀ axpy sweeps
    /// (`mlw_csr_linear`); bias and ReLU fused. The arrays come from files,
    /// so they are checked — once per storage (`derived`), not on every call.
    /// Example: `try Tensor.csrLinear(x, values: v, indices: ix, indptr: ip, inFeatures: 64)`.
    public static func csrLinear(_ x: Tensor, values: Tensor, indices: Tensor, indptr: Tensor, inFeatures: Int,
                                 bias: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures, indptr.rank == 1, indptr.count >= 1,
              values.rank == 1, indices.rank == 1, values.dtype == .float32, indices.dtype == .int32, indptr.dtype == .int32,
              values.count == indices.count else {
            throw TensorError("csr_linear", "bad operands: x \(fmt(x.shape)), \(inFeatures) input features, values \(fmt(values.shape)) \(values.dtype), indices \(indices.dtype), indptr \(fmt(indptr.shape)) \(indptr.dtype)")
        }
        let outF = indptr.count - 1
        if let bias, bias.count != outF { throw TensorError("csr_linear", "bias has \(bias.count) entries for \(outF) outputs") }
        // The graph's operands are already contiguous float32: no converted copies (this runs per layer and call).
        guard x.dtype == .float32, x.isContiguous, values.isContiguous, indices.isContiguous, indptr.isContiguous,
              bias.map({ $0.dtype == .float32 && $0.isContiguous }) ?? true else {
            return try csrLinear(x.astype(.float32).contiguous(), values: values.contiguous(), indices: indices.contiguous(),
                                 indptr: indptr.contiguous(), inFeatures: inFeatures, bias: bias?.astype(.float32).contiguous(), relu: relu)
        }
        let csr = try checkedCSR(values, indices, indptr, inFeatures: inFeatures)
        let rows = x.shape.dropLast().reduce(1, *)
        let out = try Tensor(uninitialized: x.rank == 2 ? [x.shape[0], outF] : Array(x.shape.dropLast()) + [outF], dtype: .float32, op: "csr_linear")
        // Parameters stay alive for the whole call; `csr` holds the dense copy and the ELL form.
        let status = withExtendedLifetime(csr) {
            csr.run(rows, x.ptr(Float.self), out.ptr(Float.self), values: values.ptr(Float.self), bias: bias.map { UnsafePointer($0.ptr(Float.self)) }, relu: relu)
        }
        if status != 0 { throw TensorError("csr_linear", "out of memory for the transposed batch or the GEMM's buffers") }
        return out
    }

    /// The checked form of a CSR layer's arrays, cached with the values' storage (contiguous
    /// operands of the right dtypes, as `csrLinear` and `PreparedLayer.csrLinear` pass them).
    static func checkedCSR(_ values: Tensor, _ indices: Tensor, _ indptr: Tensor, inFeatures: Int) throws -> CheckedCSR {
        var csr = values.derived(.csrChecked) { v in CheckedCSR(v, indices, indptr, inFeatures: inFeatures) }
        if !csr.matches(indices, indptr, inFeatures: inFeatures) { csr = CheckedCSR(values, indices, indptr, inFeatures: inFeatures) }   // arrays shared oddly: no cache
        guard csr.valid else { throw TensorError("csr_linear", "indptr must run from 0 up to \(values.count) values and column indices must be below \(inFeatures)") }
        return csr
    }

    /// Above this fraction of non-zeros `csrLinear` runs the dense GEMM on a float copy of the
    /// weight (made once per storage): the gather loop does about one non-zero per cycle,
    /// the dense kernel streams 8-14 weights per cycle from L2 (Docs/tensors.md). A few rows
    /// on AVX-512 take the ELL form where it is cheaper still (`CheckedCSR`).
    public static let csrMaxDensity = 0.125

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

/// A CSR layer's arrays, checked once (they come from files): indptr runs from 0 up to the
/// number of values without decreasing, column indices are below `inFeatures`. Cached with
/// the values' storage; it remembers the index arrays it checked. For layers denser than
/// `Tensor.csrMaxDensity` it also holds the dense W [in, out] the layer runs on, and on
/// AVX-512 CPUs the ELL form for batches of a few rows (`mlw_csr_ell`).
final class CheckedCSR {
    // Not the values: this object is cached with their storage, so holding them would be a cycle.
    let indices: Tensor, indptr: Tensor
    let inFeatures: Int, outFeatures: Int
    let valid: Bool
    let dense: Tensor?
    let ell: OpaquePointer?
    /// Up to how many rows a call takes the ELL form. It runs row after row, while the dense
    /// GEMM reads its weights once for a few rows, so with a dense copy only as many rows as
    /// stay cheaper than one GEMV: a 16-lane ELL step costs ~0.6 ns, the GEMV ~1 ns per 47
    /// weights (measured on this machine class, Docs/compression.md). Without one, the
    /// alternative is the gather-dot (~1 non-zero per cycle per row), so up to 7.
    private let ellRows: Int

    init(_ values: Tensor, _ indices: Tensor, _ indptr: Tensor, inFeatures: Int) {
        self.indices = indices; self.indptr = indptr; self.inFeatures = inFeatures
        let ip = indptr.ptr(Int32.self), ix = indices.ptr(UInt32.self), n = indptr.count, outF = n - 1
        outFeatures = outF
        var ok = ip[0] == 0 && Int(ip[n - 1]) == values.count
        for i in 1..<n where ip[i] < ip[i - 1] { ok = false }
        for i in 0..<indices.count where ix[i] >= UInt32(inFeatures) { ok = false }   // negative = huge
        valid = ok
        if ok && Double(values.count) > Tensor.csrMaxDensity * Double(inFeatures * outF) {
            var w = [Float](repeating: 0, count: inFeatures * outF)
            let v = values.ptr(Float.self)
            for o in 0..<outF { for p in Int(ip[o])..<Int(ip[o + 1]) { w[Int(ix[p]) * outF + o] += v[p] } }
            dense = try? Tensor(w, shape: [inFeatures, outF])
        } else { dense = nil }
        var ell: OpaquePointer? = nil, ellRows = 0
        if ok, let e = mlw_csr_ell_new(inFeatures, outF, ip, indices.ptr(Int32.self), values.ptr(Float.self)) {
            let perRow = Double(mlw_csr_ell_steps(e)) * 0.6, gemv = Double(inFeatures * outF) / 47
            ellRows = dense == nil ? 7 : Swift.min(7, Int((gemv / perRow).rounded(.up)) - 1)
            if ellRows > 0 { ell = e } else { mlw_csr_ell_free(e) }
        }
        self.ell = ell; self.ellRows = ellRows
    }

    deinit { mlw_csr_ell_free(ell) }

    /// The layer on raw pointers (`rows` rows of x [rows, in] into y [rows, out]): the ELL
    /// form for a few rows (`ellRows`), else the dense copy's GEMM (bias and ReLU fused), else
    /// `mlw_csr_linear`. Returns the C status (0 = done).
    func run(_ rows: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>,
             bias: UnsafePointer<Float>?, relu: Bool) -> Int32 {
        let outF = outFeatures
        if rows <= ellRows, let ell, mlw_csr_ell_linear(ell, rows, x, inFeatures, bias, relu ? 1 : 0, y, outF) == 0 { return 0 }
        if let w = dense {
            return mlw_sgemm(rows, outF, inFeatures, 1, x, inFeatures, 1, w.ptr(Float.self), outF, 1, 0, y, outF,
                             bias, bias == nil ? 0 : Int32(MLW_BIAS_PER_COL), relu ? Int32(MLW_ACT_RELU) : 0)
        }
        return mlw_csr_linear(rows, inFeatures, outF, x, inFeatures, indptr.ptr(Int32.self), indices.ptr(Int32.self), values, bias, relu ? 1 : 0, y, outF)
    }

    func matches(_ ix: Tensor, _ ip: Tensor, inFeatures: Int) -> Bool {
        ix.storage === indices.storage && ix.offset == indices.offset && ix.count == indices.count &&
            ip.storage === indptr.storage && ip.offset == indptr.offset && ip.count == indptr.count && inFeatures == self.inFeatures
    }
}
