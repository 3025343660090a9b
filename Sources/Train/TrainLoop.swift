import Graph
import Support
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// One epoch's record.
public struct EpochRecord: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double?
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
}

public struct EarlyStop: Sendable {
    public var patience: Int
    /// "val_loss" (lower is better) or "val_accuracy" (higher is better).
    public var metric: String
    public init(patience: Int, metric: String = "val_loss") { self.patience = patience; self.metric = metric }
}

public struct TrainRun {
    /// The trained model: the best epoch on the validation metric when early stopping.
    public var model: Model
    public var history: [EpochRecord]
    public var stoppedEarly: Bool
    public var cancelled: Bool
}


/// Checks data before any training: shapes, counts, NaN/inf features, label range, rows
/// of the objective's extra inputs.
func validateData(_ m: Model, _ x: Tensor, _ y: Tensor, _ extra: [String: Tensor], classLabels: Bool, what: String) throws {
    let want = m.inputShape.dropFirst().map { $0.size ?? -1 }
    guard x.rank >= 1, Array(x.shape.dropFirst()) == want else {
        throw TrainError("train: \(what) features have shape \(x.shape), the model expects [n, \(want.map(String.init).joined(separator: ", "))]")
    }
    guard x.shape[0] > 0 else { throw TrainError("train: \(what) set is empty") }
    guard y.shape.first == x.shape[0] else { throw TrainError("train: \(what) has \(x.shape[0]) rows but \(y.shape.first ?? 0) labels") }
    // The fast whole-tensor check first; the slow scan only to name the bad row.
    if !x.allFinite, let bad = x.toDoubles().firstIndex(where: { !$0.isFinite }) {
        throw TrainError("train: \(what) features contain NaN or infinity (row \(bad / max(x.count / x.shape[0], 1)))")
    }
    for (name, t) in extra where t.shape.first != x.shape[0] {
        throw TrainError("train: \(what) data has \(x.shape[0]) rows but input '\(name)' has \(t.shape.first ?? 0)")
    }
    if classLabels {
        let c = m.outputShape.last?.size ?? 0
        for (i, v) in y.toDoubles().enumerated() where !(v >= 0 && v < Double(c) && v == v.rounded()) {
            throw TrainError("train: \(what) label \(v) at row \(i) is not a class index in 0..<\(c)")
        }
    }
}

/// Adds the label input and the loss node: outputs [loss, model output].
func trainingGraph(_ m: Model, loss: Loss, yShape: [Int]) throws -> Graph {
    var g = m.graph
    let out = g.outputs[0]
    let yShapeSym: SymShape = [.batch] + yShape.dropFirst().map { .fixed($0) }
    let y = try g.input("__y", shape: yShapeSym, dtype: .float32)
    let (op, attrs) = loss.op
    let l = try g.op(op, [out, y], attrs, label: "loss")
    g.outputs = [l, out]
    return g
}

/// What `train` minimizes, as a graph on top of the model's: a `Loss` between the model's
/// output and the labels, or any loss over extra per-example inputs (distillation's, over a
/// teacher's outputs), whose rows are gathered with each minibatch like the labels.
///
///     try train(student, x: x, y: y, objective: Objective(classLabels: true, inputs: ["__soft": soft], graph: build), optimizer: Adam(), epochs: 5)
public struct Objective {
    /// Labels are class indices: they are checked against the output width and accuracy is reported.
    public var classLabels: Bool
    /// Extra per-example inputs of the training graph, name -> [n, ...] (row i goes with x's row i).
    public var inputs: [String: Tensor]
    /// The same inputs for the validation rows (needed when `train` gets `val`).
    public var valInputs: [String: Tensor]
    /// The training graph: the model's graph plus the inputs "__y" (labels as float32, the
    /// labels' shape with a batch axis; the second argument) and `inputs`, and the loss.
    /// Outputs [loss, model output]. Parameters it adds are trained but not returned.
    public var graph: (Model, _ yShape: [Int]) throws -> Graph

    public init(classLabels: Bool, inputs: [String: Tensor] = [:], valInputs: [String: Tensor] = [:],
                graph: @escaping (Model, _ yShape: [Int]) throws -> Graph) {
        self.classLabels = classLabels; self.inputs = inputs; self.valInputs = valInputs; self.graph = graph
    }

    /// `loss` between the model's output and the labels.
    public static func loss(_ loss: Loss) -> Objective {
        Objective(classLabels: loss.usesClassLabels) { m, yShape in try trainingGraph(m, loss: loss, yShape: yShape) }
    }
}

/// Trains `model` on (x, y) with minibatches shuffled each epoch by a counter-based
/// permutation of (seed, epoch), so the same data and seed give the same weights bit
/// for bit, on any thread count. Returns the best model when early stopping.
public func train(_ model: Model, x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer,
                  epochs: Int, batch: Int = 32, val: (x: Tensor, y: Tensor)? = nil, seed: UInt64 = 0,
                  earlyStop: EarlyStop? = nil, schedule: LRSchedule = .constant, clipNorm: Double? = nil,
                  logEvery: Int = 1, parallel: DataParallel? = nil, checkpoint: CheckpointPlan? = nil, resume: TrainCheckpoint? = nil,
                  shouldStop: () -> Bool = { false },
                  callback: (EpochRecord) -> Void = { _ in }) throws -> TrainRun {
    if parallel != nil, case .crossEntropy(_, let w) = loss, w != nil {
        // A class-weighted mean divides by the batch's total weight, not its row count: shards cannot be scaled by rows.
        throw TrainError("train: class_weights is not supported with data-parallel training yet (world size > 1)")
    }
    var run = try train(model, x: x, y: y, objective: .loss(loss), optimizer: optimizer, epochs: epochs, batch: batch, val: val, seed: seed,
                        earlyStop: earlyStop, schedule: schedule, clipNorm: clipNorm, logEvery: logEvery, parallel: parallel,
                        checkpoint: checkpoint, resume: resume, shouldStop: shouldStop, callback: callback)
    // The loss and the output width say what the model predicts (Task.swift); class names
    // and a target transform already stored with the model are kept.
    let known = model.task
    if var task = ModelTask.infer(loss: loss, outputWidth: model.outputShape.last?.size ?? 1, classes: known?.classes) {
        if task.kind == known?.kind { task.target = known?.target; task.threshold = known?.threshold }
        run.model.task = task
    }
    return run
}

/// `train` with any objective (see `Objective`): the same loop, shuffling, schedule,
/// validation and early stopping. With `parallel` (world size > 1) each rank trains on its
/// shard of every global batch and the gradients are summed across ranks (DataParallel.swift);
/// `checkpoint` saves the loop's state (rank 0) and `resume` carries on from one.
public func train(_ model: Model, x: Tensor, y: Tensor, objective: Objective, optimizer: Optimizer,
                  epochs: Int, batch: Int = 32, val: (x: Tensor, y: Tensor)? = nil, seed: UInt64 = 0,
                  earlyStop: EarlyStop? = nil, schedule: LRSchedule = .constant, clipNorm: Double? = nil,
                  logEvery: Int = 1, parallel: DataParallel? = nil, checkpoint: CheckpointPlan? = nil, resume: TrainCheckpoint? = nil,
                  shouldStop: () -> Bool = { false },
                  callback: (EpochRecord) -> Void = { _ in }) throws -> TrainRun {
    guard epochs >= 0, batch >= 1 else { throw TrainError("train: epochs must be >= 0 and batch >= 1") }
    let classify = objective.classLabels
    try validateData(model, x, y, objective.inputs, classLabels: classify, what: "training")
    if let val {
        try validateData(model, val.x, val.y, objective.valInputs, classLabels: classify, what: "validation")
        guard val.y.shape.dropFirst() == y.shape.dropFirst() else {
            throw TrainError("train: validation labels have shape \(val.y.shape), training labels \(y.shape) (they must match but for the row count)")
        }
        if let missing = objective.inputs.keys.sorted().first(where: { objective.valInputs[$0] == nil }) {
            throw TrainError("train: validation data has no input '\(missing)'")
        }
    }
    if let e = earlyStop, val == nil || !["val_loss", "val_accuracy"].contains(e.metric) {
        throw TrainError("train: early stopping needs val data and metric val_loss or val_accuracy, got '\(e.metric)'")
    }
    let exec = try Executor(objective.graph(model, y.shape))
    exec.seed = seed
    var opt = optimizer
    let baseLR = opt.lr
    let names = exec.graph.trainableNames
    let n = x.shape[0], steps = (n + batch - 1) / batch
    let xs = x.contiguous(), ys = y.astype(.float32).contiguous()
    // Extra inputs in name order, so their buffers have fixed slots after x and y.
    let extras = objective.inputs.keys.sorted().map { ($0, objective.inputs[$0]!.contiguous()) }
    // Only rank 0 prints.
    let progress = TrainProgress(epochs: epochs, steps: steps, logEvery: (parallel?.rank ?? 0) == 0 ? logEvery : 0, classify: classify)   // Progress.swift
    var history: [EpochRecord] = [], best: (score: Double, params: [String: Tensor])? = nil, sinceBest = 0
    var stoppedEarly = false, cancelled = false, globalStep = 0, firstEpoch = 0
    let batchBuffers = BufferCache()   // minibatch rows, gathered into the same buffers every step
    if let resume {
        try restore(resume, exec: exec, optimizer: &opt, seed: seed, epochs: epochs)
        (firstEpoch, globalStep, history, best, sinceBest) = (resume.epochsDone, resume.globalStep, resume.history, resume.best, resume.sinceBest)
    }
    let shards = try parallel.map { try ParallelStep(exec: exec, names: names, val: val, valInputs: objective.valInputs, parallel: $0, rows: n, batch: batch) }

    epochLoop: for epoch in firstEpoch..<max(epochs, firstEpoch) {
        let t0 = monotonicSeconds()
        let perm = try Tensor.permutation(n, seed: mixSeed(seed, UInt64(epoch))).toInts()
        var lossSum = 0.0, correct = 0, seen = 0
        for s in 0..<steps {
            if shouldStop() { cancelled = true; break epochLoop }
            let global = perm[(s * batch)..<min(n, (s + 1) * batch)]
            // A rank trains on its part of the global batch (all of it in one process).
            let idx = shards.map { global[$0.shard(of: global)] } ?? global
            var xb = try batchBuffers.buffer(0, shape: [idx.count] + xs.shape.dropFirst(), dtype: xs.dtype)
            var yb = try batchBuffers.buffer(1, shape: [idx.count] + ys.shape.dropFirst(), dtype: ys.dtype)
            try xs.selectRows(idx, into: &xb)
            try ys.selectRows(idx, into: &yb)
            var feeds = [model.inputName: xb, "__y": yb]
            for (k, (name, t)) in extras.enumerated() {
                var b = try batchBuffers.buffer(2 + k, shape: [idx.count] + t.shape.dropFirst(), dtype: t.dtype)
                try t.selectRows(idx, into: &b)
                feeds[name] = b
            }
            opt.lr = baseLR * schedule.factor(globalStep)
            exec.step = UInt64(globalStep)
            var (bl, right, grads): (Double, Int, [String: Tensor]) = (0, 0, [:])
            if let shards {
                // Gradients summed over the ranks while the backward pass runs (DataParallel.swift).
                (bl, right, grads) = try shards.step(exec, feeds, classify: classify, rows: idx.count, of: global.count)
            } else if !idx.isEmpty { (bl, right, grads) = try forwardBackward(exec, feeds, classify: classify) }
            if let c = clipNorm { try clipGradNorm(&grads, maxNorm: c, names: names) }
            guard bl.isFinite else { throw TrainError("train: loss became \(bl) at epoch \(epoch + 1), batch \(s + 1) (try a lower learning rate)") }
            try opt.step(&exec.graph.params, grads, names: names)
            globalStep += 1
            lossSum += bl * Double(global.count); seen += global.count
            correct += right
            progress.batch(epoch: epoch, step: s, seen: seen, lossSum: lossSum, correct: correct, elapsed: monotonicSeconds() - t0)
        }
        try shards?.averageBuffers(exec)   // batch-norm running statistics
        let secs = monotonicSeconds() - t0
        var rec = EpochRecord(epoch: epoch + 1, loss: lossSum / Double(max(seen, 1)), accuracy: classify ? Double(correct) / Double(max(seen, 1)) : nil,
                              valLoss: nil, valAccuracy: nil, seconds: secs, samplesPerSecond: Double(seen) / max(secs, 1e-9))
        if let shards, let v = shards.val {
            (rec.valLoss, rec.valAccuracy) = try shards.validate(exec, v, inputName: model.inputName, classify: classify)
        } else if let val {
            var feeds = objective.valInputs
            feeds[model.inputName] = val.x; feeds["__y"] = val.y.astype(.float32)
            let a = try exec.forward(feeds, training: false)
            rec.valLoss = try a.output(0).item()
            if classify { rec.valAccuracy = Double(countCorrect(a.output(1), val.y)) / Double(val.x.shape[0]) }
        }
        history.append(rec)
        progress.epochEnded(rec)
        callback(rec)
        if let e = earlyStop {
            let score = e.metric == "val_loss" ? rec.valLoss! : -(rec.valAccuracy ?? 0)
            if best == nil || score < best!.score { best = (score, exec.graph.params); sinceBest = 0 } else {
                sinceBest += 1
                if sinceBest >= e.patience { stoppedEarly = true }
            }
        }
        if let plan = checkpoint, (epoch + 1) % plan.every == 0 || epoch + 1 == epochs || stoppedEarly {
            try saveCheckpoint(plan, parallel: parallel) {
                TrainCheckpoint(params: exec.graph.params, best: best, sinceBest: sinceBest, epochsDone: epoch + 1, globalStep: globalStep,
                                seed: seed, history: history, optimizer: try OptimizerCheckpoint.capture(opt))
            }
        }
        if stoppedEarly { break }
    }
    progress.finish(history: history, stoppedEarly: stoppedEarly, cancelled: cancelled)
    var out = model
    let final = (earlyStop != nil ? best?.params : nil) ?? exec.graph.params
    for name in out.graph.paramNames { out.graph.params[name] = final[name] }
    return TrainRun(model: out, history: history, stoppedEarly: stoppedEarly, cancelled: cancelled)
}

/// One step's forward and backward: (loss, correct predictions, parameter gradients).
/// A function of its own so the activations, which hold the parameters and the executor's
/// buffers, are released before the optimizer updates the parameters in place.
func forwardBackward(_ exec: Executor, _ feeds: [String: Tensor], classify: Bool) throws -> (Double, Int, [String: Tensor]) {
    let acts = try exec.forward(feeds, training: true)
    let (grads, _) = try exec.backward(acts)
    let loss = try acts.output(0).item()
    return (loss, classify ? countCorrect(acts.output(1), feeds["__y"]!) : 0, grads)
}

func countCorrect(_ logits: Tensor, _ labels: Tensor) -> Int {
    guard let pred = try? logits.argmax(axis: -1) else { return 0 }
    return zip(pred.toInts(), labels.toDoubles()).filter { Double($0) == $1 }.count
}

func fmt(_ v: Double) -> String {
    let s = (v * 10000).rounded() / 10000
    return String(s)
}
