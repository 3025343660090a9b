import Tensor

/// How ops that reduce over the whole data-parallel batch reach the other ranks: set by
/// data-parallel training (Train's DataParallel) around each step, nil in one process.
/// Synchronised batch norm is the one user: its batch statistics, and the two sums its
/// gradient needs, are taken over every rank's rows.
public enum CrossRank {
    /// Element-wise sums across ranks, added in rank order (every rank gets the same sums).
    nonisolated(unsafe) public static var sum: (([Double]) throws -> [Double])?
    /// This rank's rows over the global batch's: data-parallel training scales each rank's
    /// gradients by it before summing them, so a backward rule that reduces across ranks
    /// scales its contribution the same way.
    nonisolated(unsafe) public static var share: Double = 1

    static func total(_ v: [Double]) throws -> [Double] { try sum.map { try $0(v) } ?? v }
}

private func syncAxes(_ rank: Int) -> [Int] { [0] + Array(2..<max(rank, 2)) }
private func syncShape(_ x: [Int]) -> [Int] { x.enumerated().map { $0.offset == 1 ? $0.element : 1 } }
private func channelTensor(_ v: [Double], _ shape: [Int]) throws -> Tensor { try Tensor(v.map { Float($0) }, shape: shape) }

let syncNormOps: [OpDef] = [
    // batch_norm with the batch statistics of the global batch (every rank's rows): the inputs,
    // the running statistics and eval mode are batch_norm's. In one process it is batch_norm.
    OpDef(.batchNormSync, arity: 5...5, shape: { s, _ in
        guard s[0].count >= 2, s[0][1].size != nil else { throw GraphError("batch_norm: input must be [N, C, ...], got \(formatShape(s[0]))") }
        for i in 1...4 where s[i] != [s[0][1]] { throw GraphError("batch_norm: parameter \(formatShape(s[i])) does not match channels \(s[0][1])") }
        return s[0]
    }, forward: { x, a, ctx in
        let eps = a.double("eps", 1e-5), m = a.double("momentum", 0.1)
        let axes = syncAxes(x[0].rank), bs = syncShape(x[0].shape), c = x[0].shape[1]
        let gammaB = try x[1].reshape(bs), betaB = try x[2].reshape(bs)
        guard ctx.training else {
            let rstd = try 1 / (x[4].reshape(bs) + eps).sqrt()
            let xhat = try (x[0] - x[3].reshape(bs)) * rstd
            return (try xhat * gammaB + betaB, [xhat, rstd, gammaB, try Tensor([Float(1)], shape: [1])])
        }
        // Two rounds: the global mean, then the global sum of squares about it (no E[x²] - mean²).
        let first = try CrossRank.total(x[0].sum(axes: axes).toDoubles() + [Double(x[0].count / max(c, 1))])
        let n = first[c]
        guard n > 0 else { throw GraphError("batch_norm: no rows on any rank") }
        let mu = try channelTensor(first[0..<c].map { $0 / n }, bs)
        let centered = try x[0] - mu
        let v = try CrossRank.total((centered * centered).sum(axes: axes).toDoubles()).map { $0 / n }
        ctx.stateUpdates.append((ctx.nodeID, 3, try x[3] * (1 - m) + mu.reshape([-1]) * m))
        ctx.stateUpdates.append((ctx.nodeID, 4, try x[4] * (1 - m) + channelTensor(v, [c]) * (m * n / max(n - 1, 1))))
        let rstd = try channelTensor(v.map { 1 / ($0 + eps).squareRoot() }, bs)
        let xhat = try centered * rstd
        return (try xhat * gammaB + betaB, [xhat, rstd, gammaB, try Tensor([Float(n)], shape: [1])])
    }, backward: { b in
        let (xhat, rstd, gammaB) = (b.saved[0], b.saved[1], b.saved[2])
        let axes = syncAxes(b.inputs[0].rank), c = b.inputs[0].shape[1], bs = syncShape(b.inputs[0].shape)
        let dgamma = try (b.grad * xhat).sum(axes: axes).reshape(b.inputs[1].shape)
        let dbeta = try b.grad.sum(axes: axes).reshape(b.inputs[1].shape)
        guard b.needsGrad[0] else { return [nil, dgamma, dbeta, nil, nil] }
        let dxhat = try b.grad * gammaB
        guard b.training else { return [try dxhat * rstd, dgamma, dbeta, nil, nil] }
        // The loss is Σ_r share_r · loss_r: each rank's means of dxhat and dxhat·x̂ are over the
        // global batch of its share-scaled gradient; dx is returned unscaled (training scales it).
        let share = CrossRank.share, n = Double(b.saved[3].toDoubles()[0])
        let local = try dxhat.sum(axes: axes).toDoubles() + (dxhat * xhat).sum(axes: axes).toDoubles()
        let g = try CrossRank.total(local.map { $0 * share })
        let m1 = try channelTensor(g[0..<c].map { $0 / n / share }, bs), m2 = try channelTensor(g[c..<(2 * c)].map { $0 / n / share }, bs)
        return [try rstd * (dxhat - m1 - xhat * m2), dgamma, dbeta, nil, nil]
    }),
]
