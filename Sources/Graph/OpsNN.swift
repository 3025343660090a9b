import Tensor

private func convShape(_ x: SymShape, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), outC: Dim, op: OpName) throws -> SymShape {
    guard x.count == 4, let h = x[2].size, let w = x[3].size else { throw GraphError("\(op): expected NCHW input with fixed H, W, got \(formatShape(x))") }
    let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
    guard h + 2 * padding.0 >= kernel.0, w + 2 * padding.1 >= kernel.1, oh > 0, ow > 0 else {
        throw GraphError("\(op): kernel \(kernel) does not fit input \(formatShape(x)) with padding \(padding)")
    }
    return [x[0], outC, .fixed(oh), .fixed(ow)]
}

private func poolOp(_ name: OpName, isMax: Bool) -> OpDef {
    OpDef(name, arity: 1...1, shape: { s, a in
        let k = a.pair("kernel", 2)
        return try convShape(s[0], kernel: k, stride: a.pair("stride", k.0), padding: a.pair("padding", 0), outC: s[0].count > 1 ? s[0][1] : .fixed(0), op: name)
    }, forward: { x, a, _ in
        let k = a.pair("kernel", 2), st = a.pair("stride", k.0), p = a.pair("padding", 0)
        if x[0].dtype == .float32 {
            return (isMax ? try x[0].maxPool2d(kernel: k, stride: st, padding: p) : try x[0].avgPool2d(kernel: k, stride: st, padding: p), [])
        }
        return (try pool2d(x[0], ConvGeometry(x[0].shape, kernel: k, stride: st, padding: p), isMax: isMax), [])
    }, backward: { b in
        let k = b.attrs.pair("kernel", 2)
        let geo = ConvGeometry(b.inputs[0].shape, kernel: k, stride: b.attrs.pair("stride", k.0), padding: b.attrs.pair("padding", 0))
        return [try pool2d(b.inputs[0], geo, isMax: isMax, grad: b.grad)]
    }, lower: .pool(isMax: isMax))
}

let nnOps: [OpDef] = [
    // NCHW input, OIHW weight, optional bias [O]; attrs stride, padding (int or pair).
    OpDef(.conv2d, arity: 2...3, shape: { s, a in
        guard s[1].count == 4, let kh = s[1][2].size, let kw = s[1][3].size else { throw GraphError("conv2d: weight must be [O, C, kh, kw], got \(formatShape(s[1]))") }
        guard s[0].count == 4, s[0][1] == s[1][1] else { throw GraphError("conv2d: input \(formatShape(s[0])) channels do not match weight \(formatShape(s[1]))") }
        if s.count == 3, s[2] != [s[1][0]] { throw GraphError("conv2d: bias \(formatShape(s[2])) does not match weight \(formatShape(s[1]))") }
        return try convShape(s[0], kernel: (kh, kw), stride: a.pair("stride", 1), padding: a.pair("padding", 0), outC: s[1][0], op: .conv2d)
    }, forward: { x, a, _ in
        let st = a.pair("stride", 1), p = a.pair("padding", 0)
        let bias: Tensor? = x.count == 3 ? x[2] : nil
        if x[0].dtype == .float32 && x[1].dtype == .float32 {
            return (try Tensor.conv2d(x[0], weight: x[1], bias: bias, stride: st, padding: p), [])
        }
        let w = x[1]
        let geo = ConvGeometry(x[0].shape, kernel: (w.shape[2], w.shape[3]), stride: st, padding: p)
        var y = try Tensor.matmul(w.reshape([w.shape[0], -1]), im2col(x[0], geo)).reshape([geo.n, w.shape[0], geo.oh, geo.ow])
        if let bias { y = try y + bias.reshape([1, -1, 1, 1]) }
        return (y, [])
    }, backward: { b in
        let (x, w) = (b.inputs[0], b.inputs[1])
        let geo = ConvGeometry(x.shape, kernel: (w.shape[2], w.shape[3]), stride: b.attrs.pair("stride", 1), padding: b.attrs.pair("padding", 0))
        let g2 = try b.grad.reshape([geo.n, w.shape[0], geo.oh * geo.ow])
        let w2 = try w.reshape([w.shape[0], -1])
        let cols = try im2col(x, geo)
        let gw = try Tensor.matmul(g2, cols.transpose(-2, -1)).sum(axes: [0]).reshape(w.shape)
        let gx = try col2im(Tensor.matmul(w2.T, g2), geo, dtype: x.dtype)
        var out: [Tensor?] = [gx, gw]
        if b.inputs.count == 3 { out.append(try b.grad.sum(axes: [0, 2, 3])) }
        return out
    }, lower: .convLayer),
    poolOp(.maxPool2d, isMax: true),
    poolOp(.avgPool2d, isMax: false),
    // Inverted dropout: train mode keeps each element with probability 1-p and scales by
    // 1/(1-p); eval mode is the identity. The mask is a pure function of (seed, node, step).
    OpDef(.dropout, arity: 1...1, shape: same, forward: { x, a, ctx in
        let p = a.double("p", 0.5)
        guard ctx.training, p > 0 else { return (x[0], []) }
        let seed = mixSeed(mixSeed(ctx.seed, UInt64(ctx.nodeID)), ctx.step)
        let keep = try Tensor.compare(Tensor.rand(x[0].shape, seed: seed, dtype: x[0].dtype), scalar(p, x[0].dtype), .ge)
        let mask = try keep.astype(x[0].dtype) * (1 / (1 - p))
        return (try x[0] * mask, [mask])
    }, backward: { b in [b.saved.isEmpty ? b.grad : try b.grad * b.saved[0]] }, lower: .view),
    // Rows of weight [V, D] picked by integer indices of any shape.
    OpDef(.embedding, arity: 2...2, shape: { s, _ in
        guard s[1].count == 2 else { throw GraphError("embedding: weight must be [vocab, dim], got \(formatShape(s[1]))") }
        return s[0] + [s[1][1]]
    }, dtype: { d, _ in d[1] }, forward: { x, _, _ in
        let idx = x[0].astype(.int32).flatten(), v = x[1].shape[0]
        for i in idx.toInts() where i < 0 || i >= v { throw GraphError("embedding: index \(i) out of range for vocabulary \(v)") }
        return (try x[1].indexSelect(axis: 0, indices: idx).reshape(x[0].shape + [x[1].shape[1]]), [])
    }, backward: { b in
        let (v, d) = (b.inputs[1].shape[0], b.inputs[1].shape[1])
        let g = b.grad.toDoubles()
        var gw = [Double](repeating: 0, count: v * d)
        for (r, i) in b.inputs[0].astype(.int32).flatten().toInts().enumerated() {
            for j in 0..<d { gw[i * d + j] += g[r * d + j] }
        }
        return [nil, try Tensor(gw, shape: [v, d], dtype: b.inputs[1].dtype)]
    }),
]
