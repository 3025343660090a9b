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

/// Hinton et al.'s knowledge distillation: trains `student` on
/// softWeight·T²·KL(softmax(t/T) ‖ softmax(s/T)) + hardWeight·CE(s, y) (+ feature terms),
/// where t are the frozen teacher's logits, computed once for every example and cached.
/// T² keeps the soft term's gradient scale independent of T. `schedule` scales the
/// optimizer's learning rate per step, as in `train`.
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
    // Teacher outputs once: logits and any matched features.
    let tg = teacher.graph
    var tIDs = [tg.outputs[0]]
    for f in features {
        guard let id = tg.nodes.first(where: { $0.name == f.teacher && $0.op != .param })?.id else { throw TrainError("distill: teacher has no layer '\(f.teacher)'") }
        tIDs.append(id)
    }
    let tOut = try capture(teacher, x, tIDs)
    guard tOut[0].shape == [n] + student.outputShape.dropFirst().map({ $0.size ?? 0 }) else {
        throw TrainError("distill: teacher outputs \(tOut[0].shape), student \(formatShape(student.outputShape))")
    }
    let soft = try (tOut[0] * (1 / temperature)).softmax(axis: -1)
    let (g, featInputs) = try distillGraph(student, soft: soft, features: features, teacherFeatures: Array(tOut.dropFirst()),
                                           temperature: temperature, softWeight: softWeight, hardWeight: hardWeight, seed: seed)
    var feeds: [String: Tensor] = ["__soft": soft, "__y": y.astype(.float32)]
    for (name, t) in zip(featInputs, tOut.dropFirst()) { feeds[name] = t }
    let exec = try Executor(g)
    var opt = optimizer
    let baseLR = opt.lr
    let names = g.trainableNames
    var history: [EpochRecord] = []
    var step = 0
    for epoch in 0..<epochs {
        let t0 = nowSec()
        let perm = try Tensor.permutation(n, seed: mixSeed(seed, UInt64(epoch)))
        var lossSum = 0.0, correct = 0
        for s in 0..<((n + batch - 1) / batch) {
            let idx = try perm.slice(axis: 0, start: s * batch, stop: min(n, (s + 1) * batch))
            var fb: [String: Tensor] = [student.inputName: try x.indexSelect(axis: 0, indices: idx)]
            for (k, v) in feeds { fb[k] = try v.indexSelect(axis: 0, indices: idx) }
            opt.lr = baseLR * schedule.factor(step)
            exec.step = UInt64(step); step += 1
            let acts = try exec.forward(fb, training: true)
            let (grads, _) = try exec.backward(acts)
            try opt.step(&exec.graph.params, grads, names: names)
            let l = try acts.output(0).item()
            guard l.isFinite else { throw TrainError("distill: loss became \(l) at epoch \(epoch + 1)") }
            lossSum += l * Double(idx.count)
            correct += zip(try acts.output(1).argmax(axis: -1).toInts(), fb["__y"]!.toInts()).filter { $0 == $1 }.count
        }
        var rec = EpochRecord.make(epoch: epoch + 1, loss: lossSum / Double(n), accuracy: Double(correct) / Double(n), valLoss: nil,
                                   valAccuracy: nil, seconds: nowSec() - t0, samplesPerSecond: Double(n) / max(nowSec() - t0, 1e-9))
        if let val {
            var sm = student
            for p in sm.graph.paramNames { sm.graph.params[p] = exec.graph.params[p] }
            rec.valAccuracy = try evaluate(sm, x: val.x, y: val.y).accuracy
        }
        history.append(rec)
    }
    var out = student
    for p in out.graph.paramNames { out.graph.params[p] = exec.graph.params[p] }
    return TrainRun.make(model: out, history: history)
}

/// The student's training graph: outputs [loss, logits]. Inputs "__soft" (teacher
/// probabilities at T), "__y" (labels) and "__feat_i" (teacher features).
func distillGraph(_ student: Model, soft: Tensor, features: [FeatureMatch], teacherFeatures: [Tensor], temperature: Double,
                  softWeight: Double, hardWeight: Double, seed: UInt64) throws -> (Graph, [String]) {
    var g = student.graph
    let out = g.outputs[0]
    let c = soft.shape[1]
    let q = try g.input("__soft", shape: [.batch, .fixed(c)])
    let y = try g.input("__y", shape: [.batch])
    func const(_ name: String, _ v: Double) throws -> Int { try g.param(name, Tensor(scalar: v), trainable: false) }
    let scaled = try g.op(.mul, [out, const("__inv_t", 1 / temperature)])
    let kl = try g.op(.mul, [try g.op(.klDiv, [scaled, q]), const("__soft_w", softWeight * temperature * temperature)])
    let ce = try g.op(.mul, [try g.op(.crossEntropy, [out, y]), const("__hard_w", hardWeight)])
    var loss = try g.op(.add, [kl, ce], label: "loss")
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

#if canImport(Glibc)
import Glibc
#endif
func nowSec() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
