import Compress
import Graph
import Tensor
import Train

/// Match an intermediate student layer to a teacher layer (feature distillation): an MSE
/// term between the student's output of node `student` (through a learned linear adapter
/// when the widths differ) and the teacher's output of node `teacher`, times `weight`.
public struct FeatureMatch: Sendable {
    public var student: String, teacher: String, weight: Double
    public init(student: String, teacher: String, weight: Double = 1) { self.student = student; self.teacher = teacher; self.weight = weight }
}

/// How the student matches the teacher, from the teacher's task (`Model.task`).
enum SoftTarget {
    /// C logits: softWeight·T²·KL(softmax(t/T) ‖ softmax(s/T)) + hardWeight·CE(s, y).
    case softmax
    /// One logit (binary): softWeight·T²·BCE(s/T, σ(t/T)) + hardWeight·BCE(s, y).
    case sigmoid
    /// Regression: softWeight·MSE(s, t) + hardWeight·MSE(s, y) (no temperature).
    case regression

    static func of(_ teacher: Model) -> SoftTarget {
        let width = teacher.outputShape.last?.size ?? 1
        switch teacher.task?.kind {
        case .regression?: return .regression
        case .binary? where width == 1: return .sigmoid
        case nil where width == 1: return .regression
        default: return .softmax
        }
    }
}

/// Hinton et al.'s knowledge distillation: trains `student` on
/// softWeight·T²·KL(softmax(t/T) ‖ softmax(s/T)) + hardWeight·CE(s, y) (+ feature terms),
/// where t are the frozen teacher's logits, computed once for every example by the
/// teacher's `CompiledModel` (the outputs `predict` gives) and fed with each minibatch.
/// T² keeps the soft term's gradient scale independent of T. A one-logit binary teacher
/// is matched with binary cross-entropy at T, a regression teacher (by its task) with
/// softWeight·MSE(s, t) + hardWeight·MSE(s, y). It runs through `train` (same shuffling,
/// `schedule`, validation: the distillation loss and accuracy on `val`); the student gets
/// the teacher's task.
///
///     let run = try distill(teacher: big, student: small, x: xTrain, y: yTrain, epochs: 30, seed: 42)
///     run.model; run.history
public func distill(teacher: Model, student: Model, x: Tensor, y: Tensor, temperature: Double = 4, softWeight: Double = 0.7,
                    hardWeight: Double = 0.3, features: [FeatureMatch] = [], epochs: Int, optimizer: any Optimizer = Adam(lr: 1e-3),
                    batch: Int = 64, val: (x: Tensor, y: Tensor)? = nil, seed: UInt64 = 0,
                    schedule: LRSchedule = .constant) throws -> TrainRun {
    guard temperature > 0, epochs >= 0, batch >= 1 else { throw TrainError("distill: temperature > 0, epochs >= 0 and batch >= 1 expected") }
    let n = x.shape[0]
    guard y.shape.first == n else { throw TrainError("distill: \(n) examples but \(y.shape.first ?? 0) labels") }
    let mode = SoftTarget.of(teacher)
    let width = student.outputShape.last?.size ?? 1
    if mode != .softmax {
        // Labels shaped as the student's outputs (or a [N] column against one output).
        guard y.rank == 1 ? width == 1 : Array(y.shape.dropFirst()) == [width] else {
            throw TrainError("distill: labels \(y.shape) do not match the student's outputs \(formatShape(student.outputShape))")
        }
    }
    let tg = teacher.graph
    let featureIDs = try features.map { f -> Int in
        guard let id = tg.nodes.first(where: { $0.name == f.teacher && $0.op != .param })?.id else { throw TrainError("distill: teacher has no layer '\(f.teacher)'") }
        return id
    }
    let compiled = try CompiledModel.of(teacher)
    /// The training graph's extra inputs for rows `x`: soft targets, and the matched
    /// teacher layers' outputs, from the teacher's source graph (the optimized one may
    /// have fused those layers away).
    func targets(_ x: Tensor) throws -> [String: Tensor] {
        let logits = try compiled.predict(x)
        guard logits.shape == [x.shape[0]] + student.outputShape.dropFirst().map({ $0.size ?? 0 }) else {
            throw TrainError("distill: teacher outputs \(logits.shape), student \(formatShape(student.outputShape))")
        }
        let soft: Tensor
        switch mode {
        case .softmax: soft = try (logits * (1 / temperature)).softmax(axis: -1)
        case .sigmoid: soft = try (logits * (1 / temperature)).sigmoid()
        case .regression: soft = logits
        }
        var t = ["__soft": soft]
        if !featureIDs.isEmpty {
            for (i, f) in try capture(teacher, x, featureIDs).enumerated() { t["__feat_\(i)"] = f }
        }
        return t
    }
    let inputs = try targets(x)
    let objective = Objective(classLabels: mode == .softmax, inputs: inputs, valInputs: try val.map { try targets($0.x) } ?? [:]) { m, yShape in
        try distillGraph(m, soft: inputs["__soft"]!, yShape: yShape, mode: mode, features: features,
                         teacherFeatures: (0..<features.count).map { inputs["__feat_\($0)"]! },
                         temperature: temperature, softWeight: softWeight, hardWeight: hardWeight, seed: seed).0
    }
    var run = try train(student, x: x, y: y, objective: objective, optimizer: optimizer, epochs: epochs, batch: batch, val: val,
                        seed: seed, schedule: schedule, logEvery: 0)
    run.model.task = teacher.task
    return run
}

/// The student's training graph: outputs [loss, logits]. Inputs "__soft" (teacher
/// probabilities at T, or outputs for regression), "__y" (labels, of `yShape` with a batch
/// axis) and "__feat_i" (teacher features).
func distillGraph(_ student: Model, soft: Tensor, yShape: [Int], mode: SoftTarget = .softmax, features: [FeatureMatch],
                  teacherFeatures: [Tensor], temperature: Double, softWeight: Double, hardWeight: Double, seed: UInt64) throws -> (Graph, [String]) {
    var g = student.graph
    let out = g.outputs[0]
    let q = try g.input("__soft", shape: [.batch] + soft.shape.dropFirst().map { .fixed($0) })
    let y = try g.input("__y", shape: [.batch] + yShape.dropFirst().map { .fixed($0) })
    func const(_ name: String, _ v: Double) throws -> Int { try g.param(name, Tensor(scalar: v), trainable: false) }
    let softTerm: Int, hardTerm: Int
    switch mode {
    case .softmax, .sigmoid:
        let scaled = try g.op(.mul, [out, const("__inv_t", 1 / temperature)])
        softTerm = try g.op(.mul, [try g.op(mode == .softmax ? .klDiv : .binaryCrossEntropy, [scaled, q]),
                                   const("__soft_w", softWeight * temperature * temperature)])
        hardTerm = try g.op(.mul, [try g.op(mode == .softmax ? .crossEntropy : .binaryCrossEntropy, [out, y]), const("__hard_w", hardWeight)])
    case .regression:
        softTerm = try g.op(.mul, [try g.op(.mse, [out, q]), const("__soft_w", softWeight)])
        hardTerm = try g.op(.mul, [try g.op(.mse, [out, y]), const("__hard_w", hardWeight)])
    }
    var loss = try g.op(.add, [softTerm, hardTerm], label: "loss")
    var names: [String] = []
    for (i, (f, tf)) in zip(features, teacherFeatures).enumerated() {
        guard let sid = g.nodes.first(where: { $0.name == f.student && $0.op != .param && $0.op != .input })?.id,
              let sw = g.nodes[sid].shape.last?.size else { throw TrainError("distill: student has no layer '\(f.student)'") }
        let tw = tf.shape.last!
        let name = "__feat_\(i)"
        let target = try g.input(name, shape: [.batch] + tf.shape.dropFirst().map { .fixed($0) })
        names.append(name)
        var h = sid
        if sw != tw {   // learned linear adapter student width -> teacher width (dropped after training)
            let a = try g.param("__adapter_\(i)", Tensor.randn([sw, tw], seed: mixSeed(seed, UInt64(1000 + i))) * (1 / Double(sw)).squareRoot())
            h = try g.op(.matmul, [sid, a])
        }
        let mse = try g.op(.mul, [try g.op(.mse, [h, target]), const("__feat_w_\(i)", f.weight)])
        loss = try g.op(.add, [loss, mse])
    }
    g.outputs = [loss, out]
    try g.verify()
    return (g, names)
}

/// Hinton's loss for given logits (the formula `distill` trains with), for checks and reports.
public func distillationLoss(student: Tensor, teacher: Tensor, labels: Tensor, temperature: Double = 4,
                             softWeight: Double = 0.7, hardWeight: Double = 0.3) throws -> Double {
    let q = try (teacher * (1 / temperature)).softmax(axis: -1)
    let kl = try OpRegistry.op(.klDiv).forward([student * (1 / temperature), q], [:], OpContext(training: false)).0.item()
    let ce = try OpRegistry.op(.crossEntropy).forward([student, labels], [:], OpContext(training: false)).0.item()
    return softWeight * temperature * temperature * kl + hardWeight * ce
}
