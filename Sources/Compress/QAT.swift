import Graph
import Tensor
import Train

/// Quantization-aware training: every float dense layer's weight (per output channel when
/// `perChannel`) and input (per row, like dynamic quantization) pass through `fake_quant`
/// nodes (quantize-dequantize, straight-through gradient), so training sees — and learns to
/// absorb — the 8-bit rounding. At the end the fake-quant nodes are dropped and the model is
/// converted with `quantize` (static mode calibrates on `x`).
///
///     let run = try qat(model, x: xTrain, y: yTrain, epochs: 3)      // run.model is int8
public func qat(_ m: Model, x: Tensor, y: Tensor, epochs: Int, optimizer: any Optimizer = Adam(lr: 1e-4),
                loss: Loss = .crossEntropy(), batch: Int = 64, seed: UInt64 = 0, mode: QuantMode = .dynamic,
                method: CalibrationMethod = .minmax, perChannel: Bool = true, symmetric: Bool = true,
                skip: [String] = []) throws -> TrainRun {
    let fm = try densify(m)
    let targets = Set(weightLayers(fm.graph, ops: [.dense]).filter { l in !skip.contains(where: { $0 == l.node.name || $0 == l.base }) }.map(\.node.id))
    let fq = try rewrite(fm) { n, r in
        guard targets.contains(n.id) else { return nil }
        let xin = try r.g.op(.fakeQuant, [try r.id(n.inputs[0])], ["per": .string("row")])
        let w = try r.g.op(.fakeQuant, [try r.id(n.inputs[1])], ["per": .string(perChannel ? "column" : "tensor")])
        return try r.g.op(.dense, [xin, w] + (n.inputs.count == 3 ? [try r.id(n.inputs[2])] : []), n.attrs, label: n.name)
    }
    var run = try train(fq, x: x, y: y, loss: loss, optimizer: optimizer, epochs: epochs, batch: batch, seed: seed, logEvery: 0)
    run.model = try quantize(run.model, mode: mode, calibrate: mode == .static ? x : nil, method: method,
                             perChannel: perChannel, symmetric: symmetric, skip: skip)
    return run
}
