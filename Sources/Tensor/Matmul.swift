import CKernels

/// Matrix products on top of the packed C GEMM (`mlw_sgemm`).
extension Tensor {
    /// numpy.matmul: 2-D x 2-D, batched with broadcasting of the leading dims, and
    /// 1-D operands treated as a row (left) or column (right) vector that is then dropped.
    /// float32 uses the blocked GEMM (views with any strides, no copies); other dtypes
    /// compute in Double and keep the promoted dtype.
    /// Example: `try Tensor.matmul(a, b)`.
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 1 && b.rank >= 1 else {
            throw TensorError("matmul", "shapes \(fmt(a.shape)) and \(fmt(b.shape)): both operands need at least 1 axis")
        }
        let a2 = a.rank == 1 ? try a.unsqueeze(0) : a
        let b2 = b.rank == 1 ? try b.unsqueeze(-1) : b
        let m = a2.shape[a2.rank - 2], k = a2.shape[a2.rank - 1]
        let k2 = b2.shape[b2.rank - 2], n = b2.shape[b2.rank - 1]
        guard k == k2 else {
            throw TensorError("matmul", "shapes \(fmt(a.shape)) and \(fmt(b.shape)) are not compatible (\(k) != \(k2))")
        }
        let batch: [Int]
        do { batch = try ShapeUtil.broadcast(Array(a2.shape.dropLast(2)), Array(b2.shape.dropLast(2)), op: "matmul") } catch {
            throw TensorError("matmul", "batch dims of shapes \(fmt(a.shape)) and \(fmt(b.shape)) cannot be broadcast together")
        }
        let outType = DType.promote(a.dtype, b.dtype)
        var outShape = batch + [m, n]
        let ae = try a2.astype(outType == .float32 ? .float32 : outType).expand(to: batch + [m, k])
        let be = try b2.astype(outType == .float32 ? .float32 : outType).expand(to: batch + [k, n])
        let out: Tensor
        let nb = batch.reduce(1, *)
        let aOff = batchOffsets(batch, Array(ae.strides.dropLast(2)), ae.offset)
        let bOff = batchOffsets(batch, Array(be.strides.dropLast(2)), be.offset)
        let (rsa, csa) = (ae.strides[ae.rank - 2], ae.strides[ae.rank - 1])
        let (rsb, csb) = (be.strides[be.rank - 2], be.strides[be.rank - 1])
        if outType == .float32 {
            // Not zeroed: with beta = 0 the GEMM writes every element of C without reading it,
            // so a reused buffer's old bytes (NaNs included) never reach the result.
            out = try Tensor(uninitialized: outShape, dtype: .float32, op: "matmul")
            let pa = ae.storage.data.assumingMemoryBound(to: Float.self), pb = be.storage.data.assumingMemoryBound(to: Float.self)
            let pc = out.ptr(Float.self)
            var status: Int32 = 0
            withExtendedLifetime((ae, be)) {
                for i in 0..<nb {
                    status |= mlw_sgemm(m, n, k, 1, pa + aOff[i], rsa, csa, pb + bOff[i], rsb, csb, 0, pc + i * m * n, n, nil, 0, 0)
                }
            }
            if status != 0 { throw TensorError("matmul", "out of memory for the GEMM packing buffers") }
        } else {
            let av = ae.contiguous().toDoubles()
            let bv = be.contiguous().toDoubles()
            var r = [Double](repeating: 0, count: nb * m * n)
            for bi in 0..<nb {
                for i in 0..<m { for p in 0..<k {
                    let x = av[bi * m * k + i * k + p]
                    for j in 0..<n { r[bi * m * n + i * n + j] += x * bv[bi * k * n + p * n + j] }
                } }
            }
            out = try fromDoubles(r, shape: outShape, dtype: outType, op: "matmul")
        }
        if b.rank == 1 { outShape.removeLast() }
        if a.rank == 1 { outShape.remove(at: outShape.count - (b.rank == 1 ? 1 : 2)) }
        return try out.reshape(outShape)
    }

    /// `self @ other`.
    public func matmul(_ other: Tensor) throws -> Tensor { try Tensor.matmul(self, other) }

    /// Dense layer in one fused GEMM: act(x @ W + b), float32.
    /// x is [..., in]; W is [in, out] (or [out, in] with `transposedWeight: true`, as PyTorch
    /// stores it); b is [out]. The bias add and ReLU run in the GEMM's store loop, other
    /// activations (`Activation`) on the result.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil,
                              transposedWeight: Bool = false, activation: Activation = .none) throws -> Tensor {
        let outF = try checkLinear(x, weight, bias, transposedWeight)
        var out = try Tensor(uninitialized: x.rank == 2 ? [x.shape[0], outF] : Array(x.shape.dropLast()) + [outF], dtype: .float32, op: "linear")
        try linearKernel(x, weight, bias, transposedWeight, activation, outF, &out)
        return activation.runsAfterStoreLoop ? try out.activated(activation) : out
    }

    /// `linear` writing into `out` ([..., out] float32, contiguous), which it overwrites in
    /// place: pass a buffer you own (see `BufferCache`).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, transposedWeight: Bool = false,
                              activation: Activation = .none, into out: inout Tensor) throws {
        let outF = try checkLinear(x, weight, bias, transposedWeight)
        try checkOut(out, Array(x.shape.dropLast()) + [outF], "linear")
        try linearKernel(x, weight, bias, transposedWeight, activation, outF, &out)
        if activation.runsAfterStoreLoop { out = try out.activated(activation) }
    }

    /// Checks the operands of `linear`; returns the number of output features.
    private static func checkLinear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ transposedWeight: Bool) throws -> Int {
        guard x.rank >= 1, weight.rank == 2 else {
            throw TensorError("linear", "expected x of rank >= 1 and a 2-D weight, got \(fmt(x.shape)) and \(fmt(weight.shape))")
        }
        let inF = x.shape[x.rank - 1]
        let wIn = transposedWeight ? weight.shape[1] : weight.shape[0]
        let outF = transposedWeight ? weight.shape[0] : weight.shape[1]
        guard inF == wIn else {
            throw TensorError("linear", "shapes \(fmt(x.shape)) and \(fmt(weight.shape)) are not compatible (\(inF) != \(wIn))")
        }
        if let bias, bias.shape != [outF] {
            throw TensorError("linear", "bias of shape \(fmt(bias.shape)) does not match \(outF) output features")
        }
        return outF
    }

    /// The GEMM of `linear` into a checked `out`.
    private static func linearKernel(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ transposedWeight: Bool,
                                     _ activation: Activation, _ outF: Int, _ out: inout Tensor) throws {
        let inF = x.shape[x.rank - 1]
        // At batch 1 this function's own overhead is a visible share of a layer, so the
        // common case (float32, 2-D input, contiguous bias) makes no new tensor values.
        let plain = x.rank == 2 && x.dtype == .float32
        let rows = plain ? x.shape[0] : x.shape.dropLast().reduce(1, *)
        let x2 = plain ? x : try x.astype(.float32).reshape([rows, inF])
        let w = weight.dtype == .float32 ? weight : weight.astype(.float32)
        let b = bias.map { $0.dtype == .float32 && $0.isContiguous ? $0 : $0.astype(.float32).contiguous() }
        let (rsb, csb) = transposedWeight ? (w.strides[1], w.strides[0]) : (w.strides[0], w.strides[1])
        let status = withExtendedLifetime((x2, w, b)) {
            mlw_sgemm(rows, outF, inF, 1, x2.ptr(Float.self), x2.strides[0], x2.strides[1],
                      w.ptr(Float.self), rsb, csb, 0, out.ptr(Float.self), outF,
                      b.map { UnsafePointer($0.ptr(Float.self)) }, b == nil ? 0 : Int32(MLW_BIAS_PER_COL),
                      activation == .relu ? Int32(MLW_ACT_RELU) : 0)
        }
        if status != 0 { throw TensorError("linear", "out of memory for the GEMM packing buffers") }
    }

    /// Storage offsets of each matrix in a batch (row-major over the batch dims).
    static func batchOffsets(_ batch: [Int], _ strides: [Int], _ base: Int) -> [Int] {
        var offs = [base]
        for (d, s) in zip(batch, strides) {
            var next: [Int] = []
            next.reserveCapacity(offs.count * d)
            for o in offs { for i in 0..<d { next.append(o + i * s) } }
            offs = next
        }
        return offs
    }
}

extension Tensor {
    /// General float32 2-D GEMM: act(alpha · a @ b + beta · c + bias).
    /// `a`, `b` may be any strided views (pass `x.T` for a transpose — no copy);
    /// `c` (needed when beta != 0) must be [M, N]; `bias` is [N] (or [M] with `biasPerRow`).
    /// Example (gradient accumulation): `g = try Tensor.gemm(x.T, dy, beta: 1, c: g)`.
    public static func gemm(_ a: Tensor, _ b: Tensor, alpha: Float = 1, beta: Float = 0, c: Tensor? = nil,
                            bias: Tensor? = nil, biasPerRow: Bool = false, activation: Activation = .none) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else {
            throw TensorError("gemm", "expected 2-D float32 operands, got \(fmt(a.shape)) \(a.dtype) and \(fmt(b.shape)) \(b.dtype)")
        }
        let (m, n) = (a.shape[0], b.shape[1])
        var out: Tensor
        if beta != 0 {
            guard let c, c.shape == [m, n] else {
                throw TensorError("gemm", "beta != 0 needs c of shape \(fmt([m, n])), got \(c.map { fmt($0.shape) } ?? "none")")
            }
            out = c.astype(.float32)
            out.makeUniqueContiguous()
        } else {
            out = try Tensor(uninitialized: [m, n], dtype: .float32, op: "gemm")
        }
        try gemm(a, b, alpha: alpha, beta: beta, bias: bias, biasPerRow: biasPerRow, activation: activation, into: &out)
        return out
    }

    /// `gemm` writing into `out` ([M, N] float32, contiguous) in place: out = act(alpha · a @ b
    /// + beta · out + bias). Pass a buffer you own (see `BufferCache`); with beta == 0 its
    /// old contents are ignored. Example (dW += xᵀ·dy): `try Tensor.gemm(x.T, dy, beta: 1, into: &dw)`.
    public static func gemm(_ a: Tensor, _ b: Tensor, alpha: Float = 1, beta: Float = 0, bias: Tensor? = nil,
                            biasPerRow: Bool = false, activation: Activation = .none, into out: inout Tensor) throws {
        guard a.rank == 2, b.rank == 2, a.dtype == .float32, b.dtype == .float32 else {
            throw TensorError("gemm", "expected 2-D float32 operands, got \(fmt(a.shape)) \(a.dtype) and \(fmt(b.shape)) \(b.dtype)")
        }
        let (m, k, k2, n) = (a.shape[0], a.shape[1], b.shape[0], b.shape[1])
        guard k == k2 else { throw TensorError("gemm", "shapes \(fmt(a.shape)) and \(fmt(b.shape)) are not compatible (\(k) != \(k2))") }
        try checkOut(out, [m, n], "gemm")
        let biasLen = biasPerRow ? m : n
        if let bias, bias.count != biasLen {
            throw TensorError("gemm", "bias of shape \(fmt(bias.shape)) does not match \(biasLen) \(biasPerRow ? "rows" : "columns")")
        }
        let bc = bias?.astype(.float32).contiguous()
        let status = withExtendedLifetime((a, b, bc)) {
            mlw_sgemm(m, n, k, alpha, a.ptr(Float.self), a.strides[0], a.strides[1], b.ptr(Float.self), b.strides[0], b.strides[1],
                      beta, out.ptr(Float.self), n, bc.map { UnsafePointer($0.ptr(Float.self)) },
                      bc == nil ? 0 : Int32(biasPerRow ? MLW_BIAS_PER_ROW : MLW_BIAS_PER_COL), activation == .relu ? Int32(MLW_ACT_RELU) : 0)
        }
        if status != 0 { throw TensorError("gemm", "out of memory for the GEMM packing buffers") }
        if activation.runsAfterStoreLoop { out = try out.activated(activation) }
    }
}
