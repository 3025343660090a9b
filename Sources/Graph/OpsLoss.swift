import Tensor

/// Losses are ops with a scalar output (mean over the batch), so the train loop, the
/// graph autodiff and the eager tape treat them like any other op.
///
/// Outputs and targets must have the same shape, except that a one-column output [N, 1]
/// takes targets [N] (viewed as [N, 1]: a CSV label column against a one-output model).
/// Anything else is an error naming both shapes: broadcasting [N, 1] against [N] would
/// silently compare every output with every target.
func lossTargetShape(_ out: SymShape, _ target: SymShape, op: OpName) throws {
    if out == target { return }
    if out.count == 2, out[1] == .fixed(1), target.count == 1, out[0] == target[0] || out[0] == .batch || target[0] == .batch { return }
    if out.count == target.count, zip(out, target).allSatisfy({ $0 == $1 || $0 == .batch || $1 == .batch }) { return }
    throw GraphError("\(op): outputs \(formatShape(out)) and targets \(formatShape(target)) differ (targets must match the outputs, or be [N] for a one-column output)")
}

/// The targets in the outputs' shape (a [N] column for [N, 1] outputs); errors as `lossTargetShape`.
func alignTarget(_ t: Tensor, to out: Tensor, op: OpName) throws -> Tensor {
    if t.shape == out.shape { return t }
    if out.rank == 2, out.shape[1] == 1, t.rank == 1, t.shape[0] == out.shape[0] { return try t.reshape(out.shape) }
    throw GraphError("\(op): outputs \(out.shape) and targets \(t.shape) differ (targets must match the outputs, or be [N] for a one-column output)")
}

private func pairLoss(_ name: OpName, _ f: @escaping (Tensor, Attrs) throws -> Tensor,
                      _ df: @escaping (Tensor, Attrs) throws -> Tensor) -> OpDef {
    OpDef(name, arity: 2...2, shape: { s, _ in
        try lossTargetShape(s[0], s[1], op: name); return []
    }, forward: { x, a, _ in
        let d = try x[0] - alignTarget(x[1], to: x[0], op: name).astype(x[0].dtype)
        return (try f(d, a).mean(), [d])
    }, backward: { b in
        let d = b.saved[0]
        let g = try df(d, b.attrs) * (b.grad / Double(max(d.count, 1)))
        return [g, try (-g).reshape(b.inputs[1].shape)]
    })
}

private func sign(_ d: Tensor) throws -> Tensor {
    let z = scalar(0, d.dtype)
    return try Tensor.compare(d, z, .gt).astype(d.dtype) - Tensor.compare(d, z, .lt).astype(d.dtype)
}

/// Per-row class targets q (one-hot with label smoothing ε: (1-ε)·onehot + ε/C) and per-row weights.
private func ceTargets(_ logits: Tensor, _ labels: Tensor, _ a: Attrs) throws -> (q: Tensor, w: Tensor) {
    let c = logits.shape[logits.rank - 1]
    let idx = labels.astype(.int32).flatten()
    for i in idx.toInts() where i < 0 || i >= c { throw GraphError("cross_entropy: label \(i) out of range for \(c) classes") }
    var q = try Tensor.oneHot(idx, depth: c, dtype: logits.dtype)
    let eps = a.double("smoothing", 0)
    if eps > 0 { q = try q * (1 - eps) + eps / Double(c) }
    let w: Tensor
    if let cw = a.doubles("weights") {
        guard cw.count == c else { throw GraphError("cross_entropy: \(cw.count) class weights for \(c) classes") }
        w = try Tensor(cw, shape: [c], dtype: logits.dtype).indexSelect(axis: 0, indices: idx)
    } else { w = try Tensor.ones([idx.count], dtype: logits.dtype) }
    return (q, w)
}

/// Unweighted, unsmoothed float32 cross-entropy takes the fused kernel path.
private func plainCrossEntropy(_ logits: Tensor, _ a: Attrs) -> Bool {
    logits.dtype == .float32 && a.double("smoothing", 0) == 0 && a.doubles("weights") == nil
}

let lossOps: [OpDef] = [
    pairLoss(.mse, { d, _ in try d * d }) { d, _ in try d * 2 },
    pairLoss(.mae, { d, _ in d.abs() }) { d, _ in try sign(d) },
    pairLoss(.huber, { d, a in
        let delta = a.double("delta", 1), ad = d.abs()
        return try Tensor.where(Tensor.compare(ad, scalar(delta, d.dtype), .le), d * d * 0.5, (ad - 0.5 * delta) * delta)
    }) { d, a in let delta = a.double("delta", 1); return try d.clip(min: -delta, max: delta) },
    // logits [N, C], integer labels [N]; attrs smoothing, weights (per class).
    // Loss = Σ w_yᵢ · (−Σ_c q_ic log softmax(z_i)_c) / Σ w_yᵢ (PyTorch's weighted mean).
    OpDef(.crossEntropy, arity: 2...2, shape: { s, _ in
        guard s[0].count == 2 else { throw GraphError("cross_entropy: logits must be [N, C], got \(formatShape(s[0]))") }
        guard s[1].count == 1 || (s[1].count == 2 && s[1][1] == .fixed(1)) else {
            throw GraphError("cross_entropy: logits \(formatShape(s[0])) take class-index labels [N], got targets \(formatShape(s[1]))")
        }
        return []
    }, forward: { x, a, ctx in
        guard x[1].count == x[0].shape[0] else { throw GraphError("cross_entropy: \(x[1].count) labels for \(x[0].shape[0]) rows") }
        if plainCrossEntropy(x[0], a) {
            // Fused: softmax probabilities (saved for backward) and the mean loss in one pass.
            var probs = try ctx.buffer(0, x[0].shape)
            let loss = try Tensor.crossEntropy(logits: x[0], labels: x[1], probs: &probs)
            return (Tensor(scalar: loss, dtype: .float32), [probs])
        }
        let (q, w) = try ceTargets(x[0], x[1], a)
        let lsm = try x[0].logSoftmax(axis: -1)
        let rowLoss = try -(q * lsm).sum(axes: [-1])
        let wsum = try w.sum()
        return (try (rowLoss * w).sum() / wsum, [lsm, q, w, wsum])
    }, backward: { b in
        if b.saved.count == 1 {
            var g = try b.buffer(0, b.saved[0].shape)
            try Tensor.crossEntropyBackward(probs: b.saved[0], labels: b.inputs[1], scale: try b.grad.item() / Double(max(b.saved[0].shape[0], 1)), into: &g)
            return [g, nil]
        }
        let (lsm, q, w, wsum) = (b.saved[0], b.saved[1], b.saved[2], b.saved[3])
        let scale = try w.reshape([-1, 1]) * (b.grad / wsum)
        return [try (lsm.exp() - q) * scale, nil]
    }),
    // Binary cross-entropy from logits, targets in [0, 1]: mean(max(z,0) − z·t + log(1 + e^−|z|)).
    OpDef(.binaryCrossEntropy, arity: 2...2, shape: { s, _ in try lossTargetShape(s[0], s[1], op: .binaryCrossEntropy); return [] },
          forward: { x, _, _ in
        let z = x[0], t = try alignTarget(x[1], to: z, op: .binaryCrossEntropy).astype(z.dtype)
        let l = try z.relu() - z * t + ((-z.abs()).exp() + 1).log()
        return (try l.mean(), [t])
    }, backward: { b in
        let z = b.inputs[0], t = b.saved[0]
        return [try (z.sigmoid() - t) * (b.grad / Double(max(z.count, 1))), nil]
    }),
    // KL(q ‖ softmax(z)) with logits z [N, C] and target probabilities q [N, C], batch mean:
    // Σ q (log q − log softmax z) / N, with 0·log 0 = 0. Targets get no gradient.
    OpDef(.klDiv, arity: 2...2, shape: { s, _ in
        guard s[0] == s[1], s[0].count == 2 else { throw GraphError("kl_div: logits and targets must both be [N, C], got \(formatShape(s[0])) and \(formatShape(s[1]))") }
        return []
    }, forward: { x, _, _ in
        let q = x[1].astype(x[0].dtype), lsm = try x[0].logSoftmax(axis: -1)
        let pos = try Tensor.compare(q, scalar(0, q.dtype), .gt)
        let logq = try Tensor.where(pos, q, Tensor.ones(q.shape, dtype: q.dtype)).log()
        let n = Double(max(x[0].shape[0], 1))
        return (try (q * (logq - lsm)).sum() / n, [lsm, q])
    }, backward: { b in
        let (lsm, q) = (b.saved[0], b.saved[1])
        let n = Double(max(q.shape[0], 1))
        return [try (lsm.exp() * q.sum(axes: [-1], keepDims: true) - q) * (b.grad / n), nil]
    }),
]
