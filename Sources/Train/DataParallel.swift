import Graph
import Tensor

/// Data-parallel training: the ranks of a job and how their gradients are summed.
///
/// Every rank shuffles with the same (seed, epoch), so all see the same global batches;
/// rank r trains on its contiguous part of each (`shardRange`), scales its mean gradient by
/// its share of the batch's rows, and the scaled gradients are summed across ranks: the
/// result is the gradient of the mean loss over the whole global batch, as one process
/// computes it. Every rank then takes the same optimizer step, so the weights stay equal.
public struct DataParallel {
    public let collective: Collective
    /// Sum rank contributions in rank order (gather, then add) instead of MPI's reduction.
    public var deterministic: Bool
    public init(_ collective: Collective, deterministic: Bool = false) { self.collective = collective; self.deterministic = deterministic }
    public var rank: Int { collective.rank }
}

/// The per-run state of data-parallel steps: the bucket layout and this rank's validation rows.
final class ParallelStep {
    let parallel: DataParallel
    let buckets: GradientBuckets
    var buffers: [[Float]] = []
    /// This rank's share of the validation rows (validation is sharded and its sums reduced).
    let val: (x: Tensor, y: Tensor, inputs: [String: Tensor], rows: Int)?

    init(exec: Executor, names: [String], val: (x: Tensor, y: Tensor)?, valInputs: [String: Tensor], parallel: DataParallel) throws {
        self.parallel = parallel
        buckets = GradientBuckets(names: names, params: exec.graph.params, extra: 2)
        if let val {
            let r = shardRange(count: val.x.shape[0], rank: parallel.rank, size: parallel.collective.size)
            func rows(_ t: Tensor) throws -> Tensor { try t.slice(axis: 0, start: r.lowerBound, stop: r.upperBound).contiguous() }
            self.val = (try rows(val.x), try rows(val.y.astype(.float32)), try valInputs.mapValues(rows), r.count)
        } else { self.val = nil }
    }

    /// This rank's positions within a global batch.
    func shard(of global: ArraySlice<Int>) -> Range<Int> {
        let r = shardRange(count: global.count, rank: parallel.rank, size: parallel.collective.size)
        return (global.startIndex + r.lowerBound)..<(global.startIndex + r.upperBound)
    }

    /// Sums this rank's gradients (the mean over `rows` of the `total` rows of the global
    /// batch) with the other ranks': returns the global batch's mean loss, its correct count
    /// and the gradients of its mean loss.
    func reduce(_ grads: [String: Tensor], loss: Double, correct: Int, rows: Int, of total: Int) throws -> (Double, Int, [String: Tensor]) {
        let scale = Float(rows) / Float(total)
        try buckets.pack(grads, scale: scale, into: &buffers)
        let last = buffers.count - 1, tail = buffers[last].count
        buffers[last][tail - 2] = Float(loss) * scale
        buffers[last][tail - 1] = Float(correct)
        try parallel.collective.sum(&buffers, ordered: parallel.deterministic)
        return (Double(buffers[last][tail - 2]), Int(buffers[last][tail - 1].rounded()), try buckets.unpack(buffers))
    }

    /// Batch-norm running statistics averaged over ranks. The running-average update is
    /// linear, so averaging once per epoch equals averaging after every step.
    func averageBuffers(_ exec: Executor) throws {
        let names = exec.graph.buffers.sorted().filter { exec.graph.params[$0]?.dtype == .float32 }
        guard !names.isEmpty else { return }
        var flat: [[Float]] = [names.flatMap { exec.graph.params[$0]!.toFloats() }]
        try parallel.collective.sum(&flat, ordered: true)
        let inv = 1 / Float(parallel.collective.size)
        var at = 0
        for name in names {
            let p = exec.graph.params[name]!
            exec.graph.params[name] = try Tensor(flat[0][at..<(at + p.count)].map { $0 * inv }, shape: p.shape)
            at += p.count
        }
    }

    /// Validation loss and accuracy over all ranks' validation rows.
    func validate(_ exec: Executor, _ v: (x: Tensor, y: Tensor, inputs: [String: Tensor], rows: Int), inputName: String,
                  classify: Bool) throws -> (Double?, Double?) {
        var local = [0.0, 0.0, Double(v.rows)]
        if v.rows > 0 {
            var feeds = v.inputs
            feeds[inputName] = v.x; feeds["__y"] = v.y
            let a = try exec.forward(feeds, training: false)
            local[0] = try a.output(0).item() * Double(v.rows)
            if classify { local[1] = Double(countCorrect(a.output(1), v.y)) }
        }
        let g = try parallel.collective.sum(local)
        let rows = max(g[2], 1)
        return (g[0] / rows, classify ? g[1] / rows : nil)
    }
}

/// Puts a checkpoint's state into a fresh run: parameters (checked against the model's),
/// optimizer state.
func restore(_ c: TrainCheckpoint, exec: Executor, optimizer: inout Optimizer, seed: UInt64, epochs: Int) throws {
    guard c.seed == seed else {
        throw TrainError("resume: the checkpoint was trained with seed \(c.seed), this run has seed \(seed) (the data order would differ)")
    }
    for name in exec.graph.paramNames {
        guard let p = c.params[name] else { throw TrainError("resume: the checkpoint has no parameter '\(name)' (a different model?)") }
        let mine = exec.graph.params[name]!
        guard p.shape == mine.shape, p.dtype == mine.dtype else {
            throw TrainError("resume: parameter '\(name)' is \(p.shape) in the checkpoint, \(mine.shape) in the model")
        }
        exec.graph.params[name] = p
    }
    try OptimizerCheckpoint.restore(c.optimizer, into: &optimizer)
}

/// Rank 0 writes the checkpoint; with several ranks all then wait for it (a rank may read it
/// with `resume:` right after), and learn whether it was written.
func saveCheckpoint(_ plan: CheckpointPlan, parallel: DataParallel?, _ state: () throws -> TrainCheckpoint) throws {
    var failure: Error?
    if (parallel?.rank ?? 0) == 0 {
        do { try state().save(plan.path) } catch { failure = error }
    }
    if let parallel {
        let failed = try parallel.collective.sum([failure == nil ? 0 : 1])[0]
        if failure == nil && failed > 0 { throw TrainError("train: rank 0 could not write the checkpoint '\(plan.path)'") }
    }
    if let failure { throw failure }
}
