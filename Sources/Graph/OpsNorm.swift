import Tensor

/// Shared normalisation backward: x̂ = (x - μ)·rstd over `axes`, y = x̂·γ + β.
private func normBackward(_ b: BackwardArgs, axes: [Int], gammaShape: [Int], useBatchStats: Bool) throws -> [Tensor?] {
    let (xhat, rstd, gammaB) = (b.saved[0], b.saved[1], b.saved[2])
    let dxhat = try b.grad * gammaB
    var dx: Tensor
    if useBatchStats {
        dx = try rstd * (dxhat - dxhat.mean(axes: axes, keepDims: true) - xhat * (dxhat * xhat).mean(axes: axes, keepDims: true))
    } else { dx = try dxhat * rstd }
    let dgamma = try (b.grad * xhat).sum(axes: axes).reshape(gammaShape)
    let dbeta = try b.grad.sum(axes: axes).reshape(gammaShape)
    return [dx, dgamma, dbeta]
}

private func bnAxes(_ rank: Int) -> [Int] { [0] + Array(2..<max(rank, 2)) }
private func bnShape(_ x: [Int]) -> [Int] { x.enumerated().map { $0.offset == 1 ? $0.element : 1 } }

let normOps: [OpDef] = [
    // Inputs: x [N, C] or [N, C, H, W], gamma [C], beta [C], running_mean [C], running_var [C].
    // Train mode normalises with batch statistics and reports updated running stats
    // (momentum m: r ← (1-m)·r + m·batch, unbiased variance, as PyTorch); eval uses the running stats.
    OpDef(.batchNorm, arity: 5...5, shape: { s, _ in
        guard s[0].count >= 2, s[0][1].size != nil else { throw GraphError("batch_norm: input must be [N, C, ...], got \(formatShape(s[0]))") }
        for i in 1...4 where s[i] != [s[0][1]] { throw GraphError("batch_norm: parameter \(formatShape(s[i])) does not match channels \(s[0][1])") }
        return s[0]
    }, forward: { x, a, ctx in
        let eps = a.double("eps", 1e-5), m = a.double("momentum", 0.1)
        let axes = bnAxes(x[0].rank), bs = bnShape(x[0].shape)
        let gammaB = try x[1].reshape(bs), betaB = try x[2].reshape(bs)
        let mu: Tensor, v: Tensor
        if ctx.training {
            mu = try x[0].mean(axes: axes, keepDims: true); v = try x[0].variance(axes: axes, keepDims: true)
            let n = Double(x[0].count / max(x[0].shape[1], 1))
            ctx.stateUpdates.append((ctx.nodeID, 3, try x[3] * (1 - m) + mu.reshape([-1]) * m))
            ctx.stateUpdates.append((ctx.nodeID, 4, try x[4] * (1 - m) + v.reshape([-1]) * (m * n / max(n - 1, 1))))
        } else { mu = try x[3].reshape(bs); v = try x[4].reshape(bs) }
        let rstd = try 1 / (v + eps).sqrt()
        let xhat = try (x[0] - mu) * rstd
        return (try xhat * gammaB + betaB, [xhat, rstd, gammaB])
    }, backward: { b in
        try normBackward(b, axes: bnAxes(b.inputs[0].rank), gammaShape: b.inputs[1].shape, useBatchStats: b.training) + [nil, nil]
    }, lower: .batchNorm),
    // Inputs: x [..., D], gamma [D], beta [D]; normalises over the last axis.
    OpDef(.layerNorm, arity: 3...3, shape: { s, _ in
        guard let d = s[0].last, s[1] == [d], s[2] == [d] else { throw GraphError("layer_norm: parameters \(formatShape(s[1])) must match the last dim of \(formatShape(s[0]))") }
        return s[0]
    }, forward: { x, a, ctx in
        let eps = a.double("eps", 1e-5)
        // float32: the row kernel in every mode (static programs run it too, so all paths
        // agree to the bit); the tensors saved for backward are built beside it.
        let fast = try Tensor.layerNormRows(x[0], gamma: x[1], beta: x[2], eps: eps)
        if let y = fast, ctx.inference { return (y, []) }
        let mu = try x[0].mean(axes: [-1], keepDims: true), v = try x[0].variance(axes: [-1], keepDims: true)
        let rstd = try 1 / (v + eps).sqrt()
        let xhat = try (x[0] - mu) * rstd
        return (try fast ?? (xhat * x[1] + x[2]), [xhat, rstd, x[1]])
    }, backward: { b in
        let axesAll = Array(0..<(b.inputs[0].rank - 1))
        let (xhat, rstd) = (b.saved[0], b.saved[1])
        let dxhat = try b.grad * b.saved[2]
        let dx = try rstd * (dxhat - dxhat.mean(axes: [-1], keepDims: true) - xhat * (dxhat * xhat).mean(axes: [-1], keepDims: true))
        return [dx, try (b.grad * xhat).sum(axes: axesAll), try b.grad.sum(axes: axesAll)]
    }, lower: .layerNorm),
]
