import Tensor

/// Elementwise binary ops with numpy broadcasting; backward sums over broadcast axes.
private func binaryOp(_ name: OpName, _ op: BinaryOp,
                      _ grads: @escaping (Tensor, Tensor, Tensor, Tensor) throws -> (Tensor, Tensor)) -> OpDef {
    OpDef(name, arity: 2...2, shape: { s, _ in try broadcastShapes(s[0], s[1], op: name) },
          dtype: { d, _ in DType.promote(d[0], d[1]) },
          forward: { x, _, _ in (try Tensor.binary(x[0], x[1], op), []) },
          backward: { b in
              let (ga, gb) = try grads(b.inputs[0], b.inputs[1], b.output, b.grad)
              return [try unbroadcast(ga, to: b.inputs[0].shape), try unbroadcast(gb, to: b.inputs[1].shape)]
          }, lower: .binary)
}

let arithmeticOps: [OpDef] = [
    binaryOp(.add, .add) { _, _, _, g in (g, g) },
    binaryOp(.sub, .sub) { _, _, _, g in (g, -g) },
    binaryOp(.mul, .mul) { a, b, _, g in (try g * b, try g * a) },
    binaryOp(.div, .div) { a, b, y, g in (try g / b, try -(g * y / b)) },
    // numpy matmul of rank >= 2 operands; batch dims broadcast.
    OpDef(.matmul, arity: 2...2, shape: { s, _ in
        let (a, b) = (s[0], s[1])
        guard a.count >= 2, b.count >= 2 else { throw GraphError("matmul: operands must have rank >= 2, got \(formatShape(a)) and \(formatShape(b))") }
        guard a[a.count - 1] == b[b.count - 2] else {
            throw GraphError("matmul: shapes \(formatShape(a)) and \(formatShape(b)) are not compatible")
        }
        let batch = try broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2)), op: .matmul)
        return batch + [a[a.count - 2], b[b.count - 1]]
    }, forward: { x, _, _ in (try Tensor.matmul(x[0], x[1]), []) }, backward: { b in
        let (a, w, g) = (b.inputs[0], b.inputs[1], b.grad)
        let ga = try Tensor.matmul(g, w.transpose(-2, -1))
        let gb = try Tensor.matmul(a.transpose(-2, -1), g)
        return [try unbroadcast(ga, to: a.shape), try unbroadcast(gb, to: w.shape)]
    }),
    // Dense layer: act(x @ W + b) with W stored [in, out] (the GEMM's natural layout,
    // no transpose in the forward pass); bias optional; activation none or relu
    // fused into the GEMM's store loop (float32). x may have any leading dims.
    OpDef(.dense, arity: 2...3, shape: { s, a in
        let (x, w) = (s[0], s[1])
        guard w.count == 2, let inF = w[0].size, let outF = w[1].size else { throw GraphError("dense: weight must be a fixed 2-D shape, got \(formatShape(w))") }
        guard let last = x.last, last == .fixed(inF) else {
            throw GraphError("dense: input \(formatShape(x)) does not end in \(inF) features")
        }
        if s.count == 3, s[2] != [.fixed(outF)] { throw GraphError("dense: bias \(formatShape(s[2])) does not match \(outF) outputs") }
        return Array(x.dropLast()) + [.fixed(outF)]
    }, forward: { x, a, ctx in
        let relu = a.activation == .relu
        let bias: Tensor? = x.count == 3 ? x[2] : nil
        if x[0].dtype == .float32 && x[1].dtype == .float32 {
            guard ctx.cache != nil else { return (try Tensor.linear(x[0], weight: x[1], bias: bias, activation: relu ? .relu : .none), []) }
            var y = try ctx.buffer(0, Array(x[0].shape.dropLast()) + [x[1].shape[1]])
            try Tensor.linear(x[0], weight: x[1], bias: bias, activation: relu ? .relu : .none, into: &y)
            return (y, [])
        }
        var y = try Tensor.matmul(x[0], x[1])
        if let bias { y = try y + bias }
        return (relu ? y.relu() : y, [])
    }, backward: denseBackward, lower: .denseLayer),
]

/// Gradients of dense. float32: the ReLU mask and the bias sum in one pass, then the two
/// GEMMs with transposes read through strides (packed, never copied), all into the
/// executor's reused buffers; the input gradient is skipped when nothing needs it.
private func denseBackward(_ b: BackwardArgs) throws -> [Tensor?] {
    let relu = b.attrs.activation == .relu
    let (x, w) = (b.inputs[0], b.inputs[1])
    let inF = w.shape[0], outF = w.shape[1]
    let hasBias = b.inputs.count == 3
    guard x.dtype == .float32, w.dtype == .float32, b.grad.dtype == .float32 else {
        var g = b.grad
        if relu { g = try g * positiveMask(b.output) }
        let x2 = try x.reshape([-1, inF]), g2 = try g.reshape([-1, outF])
        let gx = try Tensor.matmul(g2, w.T).reshape(x.shape)
        let gw = try Tensor.matmul(x2.T, g2)
        var out: [Tensor?] = [gx, gw]
        if hasBias { out.append(try g2.sum(axes: [0])) }
        return out
    }
    let rows = x.count / max(inF, 1)
    let g2 = try b.grad.reshape([rows, outF]), x2 = try x.reshape([rows, inF])
    var gz = g2
    var gb: Tensor? = hasBias && b.needsGrad[2] ? try b.buffer(1, [outF]) : nil
    if relu || gb != nil {
        gz = relu ? try b.buffer(0, [rows, outF]) : g2.contiguous()
        try Tensor.denseEpilogueBackward(grad: g2, output: relu ? try b.output.reshape([rows, outF]) : nil, into: &gz, biasGrad: &gb)
    }
    var out: [Tensor?] = [nil, nil]
    if b.needsGrad[0] {
        var gx = try b.buffer(2, [rows, inF])
        try Tensor.gemm(gz, w.T, into: &gx)
        out[0] = try gx.reshape(x.shape)
    }
    if b.needsGrad[1] {
        var gw = try b.buffer(3, [inF, outF])
        try Tensor.gemm(x2.T, gz, into: &gw)
        out[1] = gw
    }
    if hasBias { out.append(gb) }
    return out
}
