import Graph
import Tensor
import Train

/// Wraps an optimizer and re-applies pruning masks after every step, so pruned weights stay
/// exactly zero whatever the update (momentum, Adam's moments, weight decay) would do.
public struct MaskedOptimizer: Optimizer {
    public var inner: any Optimizer
    /// Parameter name -> 0/1 float mask of the same shape.
    public let masks: [String: Tensor]
    public var lr: Double { get { inner.lr } set { inner.lr = newValue } }
    public init(_ inner: any Optimizer, masks: [String: Tensor]) { self.inner = inner; self.masks = masks }
    public mutating func step(_ params: inout [String: Tensor], _ grads: [String: Tensor], names: [String]) throws {
        try inner.step(&params, grads, names: names)
        for (name, mask) in masks { if let p = params[name] { params[name] = try p * mask } }
    }
}

/// Masks (1 where the weight is non-zero) of every dense/conv weight that has zeros.
func pruningMasks(_ m: Model) throws -> [String: Tensor] {
    var masks: [String: Tensor] = [:]
    for l in weightLayers(m.graph, ops: [.dense, .conv2d]) {
        let name = m.graph.paramName(l.node, 1)!, w = m.graph.params[name]!
        guard zeroFraction(w) > 0 else { continue }
        masks[name] = try Tensor.compare(w, Tensor(scalar: 0), .ne).astype(.float32)
    }
    return masks
}

/// Trains a pruned model with its zero weights held at zero (Train's loop with a
/// `MaskedOptimizer`). CSR layers are trained in dense form and stored as CSR again.
///
///     let run = try finetune(pruned, x: xTrain, y: yTrain, epochs: 5)
public func finetune(_ m: Model, x: Tensor, y: Tensor, epochs: Int, optimizer: any Optimizer = Adam(lr: 1e-3),
                     loss: Loss = .crossEntropy(), batch: Int = 64, val: (x: Tensor, y: Tensor)? = nil,
                     seed: UInt64 = 0, logEvery: Int = 0) throws -> TrainRun {
    if weightLayers(m.graph, ops: [.qdense]).count > 0 { throw TrainError("finetune: the model is quantized; use qat, or fine-tune before quantizing") }
    let sparse = Set(m.graph.nodes.filter { $0.op == .sparseDense }.map(\.name))
    let dense = try densify(m)
    var run = try train(dense, x: x, y: y, loss: loss, optimizer: MaskedOptimizer(optimizer, masks: try pruningMasks(dense)),
                        epochs: epochs, batch: batch, val: val, seed: seed, logEvery: logEvery)
    run.model = try sparsify(run.model, layers: sparse)
    return run
}

/// Gradual pruning (Zhu & Gupta 2017): `steps` prunings whose sparsity rises from `start`
/// to `end` as s_i = end + (start − end)(1 − i/(steps−1))^power, each followed by
/// `epochsPerStep` epochs of fine-tuning. Returns the model, every epoch's record and the
/// sparsity of each step.
///
///     let r = try pruneSchedule(teacher, x: x, y: y, start: 0.5, end: 0.9, steps: 4, power: 3)
public func pruneSchedule(_ m: Model, x: Tensor, y: Tensor, start: Double, end: Double, steps: Int, power: Double = 3,
                          epochsPerStep: Int = 2, method: PruneMethod = .magnitude, scope: PruneScope = .layer,
                          pattern: PrunePattern = .unstructured, layers: [String]? = nil,
                          optimizer: any Optimizer = Adam(lr: 1e-3), batch: Int = 64, seed: UInt64 = 0,
                          csrAbove: Double = defaultCSRSparsity) throws -> (model: Model, history: [EpochRecord], sparsities: [Double]) {
    guard steps >= 1 else { throw TrainError("pruneSchedule: steps must be >= 1") }
    var model = m, history: [EpochRecord] = [], levels: [Double] = []
    for i in 0..<steps {
        let t = steps == 1 ? 1 : Double(i) / Double(steps - 1)
        let s = end + (start - end) * pow1(1 - t, power)
        levels.append(s)
        // Structured patterns remove units for real, so each step removes its increment.
        let frac = (pattern == .neurons || pattern == .channels) ? (i == 0 ? s : 1 - (1 - s) / (1 - levels[i - 1])) : s
        model = try prune(model, sparsity: frac, method: method, scope: scope, pattern: pattern, layers: layers, csrAbove: csrAbove, seed: mixSeed(seed, UInt64(i)))
        let run = try finetune(model, x: x, y: y, epochs: epochsPerStep, optimizer: optimizer, batch: batch, seed: mixSeed(seed, UInt64(100 + i)))
        model = run.model
        history += run.history
    }
    return (model, history, levels)
}

func pow1(_ a: Double, _ b: Double) -> Double {
    if a <= 0 { return 0 }
    return exp1(b * log1(a))
}
#if canImport(Glibc)
import Glibc
func exp1(_ x: Double) -> Double { Glibc.exp(x) }
func log1(_ x: Double) -> Double { Glibc.log(x) }
#endif
