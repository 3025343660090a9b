import Distributed
import Optimize
import Tensor
import Train

/// `evaluate` under mpirun: each rank predicts its contiguous share of the rows, the outputs
/// are assembled on every rank (each rank's block added into zeros, in rank order: exact),
/// and the metrics are computed from the whole set, so ROC AUC and the confusion matrix are
/// the single-process ones. Nil in a world of one (the caller evaluates as usual).
func distributedEvaluation(_ compiled: CompiledModel, x: Tensor, y: Tensor, task: ModelTask?) throws -> Evaluation? {
    guard World.detected.size > 1, x.rank >= 1 else { return nil }
    let c = try World.collective()
    let n = x.shape[0]
    let mine = shardRange(count: n, rank: c.rank, size: c.size)
    var local: Tensor?
    if !mine.isEmpty { local = try compiled.predict(try x.slice(axis: 0, start: mine.lowerBound, stop: mine.upperBound).contiguous()) }
    // Every rank must agree on the output's row width: take it from the largest shard (rank 0's).
    let width = Int(try c.sum([c.rank == 0 ? Double(local.map { $0.count / max($0.shape[0], 1) } ?? 0) : 0])[0])
    let tail = try c.sum([c.rank == 0 ? Double(local?.rank ?? 1) : 0])[0]
    var all = [Double](repeating: 0, count: n * width)
    if let local {
        for (i, v) in local.toDoubles().enumerated() { all[mine.lowerBound * width + i] = v }
    }
    let summed = try c.sum(all)
    let shape = tail <= 1 ? [n] : [n, width]
    let outputs = try Tensor(summed.map(Float.init), shape: shape)
    return try metrics(outputs: outputs, labels: y, task: task)
}
