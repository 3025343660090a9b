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
    /// Gradient bucket cap in megabytes.
    public var bucketMB: Double
    /// PyTorch DDP's default bucket cap: 25 MB.
    public static let defaultBucketMB = 25.0
    public init(_ collective: Collective, deterministic: Bool = false, bucketMB: Double = DataParallel.defaultBucketMB) {
        self.collective = collective; self.deterministic = deterministic; self.bucketMB = bucketMB
    }
    public var rank: Int { collective.rank }
}

/// The per-run state of data-parallel steps: the bucket layout and buffers, and this rank's
/// validation rows.
///
/// A step's gradients are summed while the backward pass runs: the executor reports each
/// parameter whose gradient became final, its scaled gradient is copied into its bucket, and
/// a full bucket starts its collective at once (buckets start in index order, so every rank
/// starts the same collectives in the same order whatever the timing). Between backward ops
/// the collectives in flight are advanced (`Collective.progress`); before the optimizer step
/// the loop waits for all of them.
final class ParallelStep {
    let parallel: DataParallel
    let buckets: GradientBuckets
    /// One buffer per bucket, at fixed addresses (the collectives in flight write into them).
    let storage: [UnsafeMutableBufferPointer<Float>]
    /// Floats written into each bucket this step, which slots are written, buckets started.
    var filled: [Int] = [], written: [Bool] = [], started = 0
    var scale: Float = 1
    /// This rank's share of the validation rows (validation is sharded and its sums reduced).
    let val: (x: Tensor, y: Tensor, inputs: [String: Tensor], rows: Int)?

    /// The graph has synchronised batch norm: its steps reduce statistics across ranks (CrossRank).
    let syncNorm: Bool

    init(exec: Executor, names: [String], val: (x: Tensor, y: Tensor)?, valInputs: [String: Tensor], parallel: DataParallel,
         rows n: Int, batch: Int) throws {
        self.parallel = parallel
        syncNorm = exec.graph.nodes.contains { $0.op == .batchNormSync }
        let size = parallel.collective.size, last = n % batch == 0 ? batch : n % batch
        if syncNorm && min(batch, n, last) < size {
            // Every rank must run the forward and backward passes of every step (they reduce across ranks).
            throw TrainError("train: batch_norm(sync: true) needs rows on every rank in every batch: "
                             + "a batch of \(min(batch, n, last)) rows cannot be split over \(size) ranks (change batch or the row count)")
        }
        guard parallel.bucketMB > 0, parallel.bucketMB <= 4096 else { throw TrainError("train: bucket_mb must be in (0, 4096], got \(parallel.bucketMB)") }
        buckets = GradientBuckets(names: names, params: exec.graph.params, extra: 2, capacity: GradientBuckets.capacity(mb: parallel.bucketMB))
        storage = buckets.sizes.map { n in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1))
            b.initialize(repeating: 0)
            return b
        }
        if let val {
            let r = shardRange(count: val.x.shape[0], rank: parallel.rank, size: parallel.collective.size)
            func rows(_ t: Tensor) throws -> Tensor { try t.slice(axis: 0, start: r.lowerBound, stop: r.upperBound).contiguous() }
            self.val = (try rows(val.x), try rows(val.y.astype(.float32)), try valInputs.mapValues(rows), r.count)
        } else { self.val = nil }
    }

    deinit { for b in storage { b.deallocate() } }

    /// This rank's positions within a global batch.
    func shard(of global: ArraySlice<Int>) -> Range<Int> {
        let r = shardRange(count: global.count, rank: parallel.rank, size: parallel.collective.size)
        return (global.startIndex + r.lowerBound)..<(global.startIndex + r.upperBound)
    }

    /// One step on this rank's `rows` of the global batch of `total` rows: forward, then
    /// backward with the gradient sums overlapped. Returns the global batch's mean loss, its
    /// correct count and the gradients of its mean loss (the same on every rank).
    func step(_ exec: Executor, _ feeds: [String: Tensor], classify: Bool, rows: Int, of total: Int) throws -> (Double, Int, [String: Tensor]) {
        scale = Float(rows) / Float(total)
        filled = buckets.sizes.map { _ in 0 }; written = buckets.slots.map { _ in false }; started = 0
        var grads: [String: Tensor] = [:]
        if syncNorm {
            let collective = parallel.collective
            CrossRank.sum = { try collective.sum($0) }
            CrossRank.share = Double(scale)
        }
        defer { CrossRank.sum = nil; CrossRank.share = 1 }
        if rows > 0 {
            let acts = try exec.forward(feeds, training: true)
            storage[0][0] = Float(try acts.output(0).item()) * scale
            storage[0][1] = Float(classify ? countCorrect(acts.output(1), feeds["__y"]!) : 0)
            filled[0] = buckets.extra
            try startFull()
            (grads, _) = try exec.backward(acts) { ready in
                for (name, g) in ready { try self.write(name, g) }
                if self.started > 0 { try self.parallel.collective.progress() }
            }
        } else {
            storage[0][0] = 0; storage[0][1] = 0; filled[0] = buckets.extra
        }
        // Parameters the backward pass did not report (none reached them: zeros), then the rest.
        for (k, s) in buckets.slots.enumerated() where !written[k] {
            try write(s.name, grads[s.name] ?? Tensor.zeros(s.shape, dtype: .float32))
        }
        try startFull()
        try parallel.collective.waitAll()
        var out: [String: Tensor] = [:]
        for s in buckets.slots {
            out[s.name] = try Tensor(Array(storage[s.bucket][s.offset..<(s.offset + s.count)]), shape: s.shape)
        }
        return (Double(storage[0][0]), Int(storage[0][1].rounded()), out)
    }

    /// Copies one parameter's final gradient, scaled by this shard's share, into its slot.
    func write(_ name: String, _ g: Tensor) throws {
        guard let k = buckets.index[name], !written[k] else { return }
        let s = buckets.slots[k]
        let dst = storage[s.bucket].baseAddress! + s.offset, scale = scale
        if g.count == s.count {
            try g.astype(.float32).contiguous().withFloats { src in for i in 0..<s.count { dst[i] = src[i] * scale } }
        } else { dst.update(repeating: 0, count: s.count) }
        written[k] = true
        filled[s.bucket] += s.count
        try startFull()
    }

    /// Starts the next buckets, in index order, while they are full.
    func startFull() throws {
        while started < storage.count && filled[started] == buckets.sizes[started] {
            try parallel.collective.startSum(storage[started].baseAddress!, count: buckets.sizes[started], ordered: parallel.deterministic)
            started += 1
        }
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
