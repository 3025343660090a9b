import Graph
import Tensor
import Train

/// `.dynamic`: activation scales per row at run time (no data needed); `.static`: scales
/// calibrated once from `calibrate` data and frozen into the graph.
public enum QuantMode: String, Sendable { case dynamic, `static` }

/// Replaces float dense layers with int8 ones (`qdense`): int8 weights (symmetric, per output
/// channel when `perChannel`), int8 activations (symmetric int8 when `symmetric`, else uint8
/// with a zero point, which doubles the resolution of post-ReLU inputs), int32 accumulation
/// in the int8 GEMM, dequantized outputs. Weights are always symmetric: the int8 GEMM has
/// no weight zero point. Conv layers stay float32.
///
///     let q = try quantize(model, mode: .static, calibrate: xVal, method: .percentile)
///
/// `skip`: layers kept in float32 (node name or parameter prefix). `minSQNR` (dB, needs
/// `calibrate` data): a layer whose int8 output, fed the float input, is worse than this
/// against the float output stays float32. CSR layers are quantized as dense int8.
public func quantize(_ m: Model, mode: QuantMode = .dynamic, calibrate x: Tensor? = nil, method: CalibrationMethod = .minmax,
                     percentile: Double = 99.99, perChannel: Bool = true, symmetric: Bool = true,
                     skip: [String] = [], minSQNR: Double? = nil) throws -> Model {
    if mode == .static && x == nil { throw TrainError("quantize: static mode needs calibration data (calibrate:)") }
    if minSQNR != nil && x == nil { throw TrainError("quantize: minSQNR needs calibration data (calibrate:)") }
    let fm = try densify(stripFakeQuant(m))
    let g = fm.graph
    let targets = weightLayers(g, ops: [.dense]).filter { l in !skip.contains(where: { $0 == l.node.name || $0 == l.base }) }
    // Calibration: the float inputs (and outputs) of every target layer in one run.
    var inputs: [Int: Tensor] = [:], outputs: [Int: Tensor] = [:]
    if let x {
        let ids = targets.flatMap { [$0.node.inputs[0], $0.node.id] }
        let vals = try capture(fm, x, ids)
        for (k, l) in targets.enumerated() { inputs[l.node.id] = vals[2 * k]; outputs[l.node.id] = vals[2 * k + 1] }
    }
    return try rewrite(fm) { n, r in
        guard let l = targets.first(where: { $0.node.id == n.id }) else { return nil }
        let w = g.params[g.paramName(n, 1)!]!
        let (q, scale, colSum) = try Tensor.quantizeWeightsInt8(w, perChannel: perChannel)
        var attrs: Attrs = ["act_unsigned": .bool(!symmetric)]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        if mode == .static, let xin = inputs[n.id] {
            let (lo, hi) = Compress.calibrate(xin.toFloats(), method: method, percentile: percentile, symmetric: symmetric)
            let (s, z) = activationParams(lo: lo, hi: hi, symmetric: symmetric)
            attrs["act_scale"] = .double(Double(s)); attrs["act_zero"] = .int(z)
        }
        let bias: Tensor? = g.paramName(n, 2).flatMap { g.params[$0] }
        if let minSQNR, let xin = inputs[n.id], let ref = outputs[n.id] {
            let y = try OpRegistry.op(.qdense).forward([xin, q, scale, colSum] + (bias.map { [$0] } ?? []), attrs, OpContext(training: false)).0
            if sqnr(ref, y) < minSQNR { return nil }   // too lossy: keep this layer in float32
        }
        var ins = [try r.id(n.inputs[0]), try r.buffer(l.base + ".weight_q", q), try r.buffer(l.base + ".weight_scale", scale),
                   try r.buffer(l.base + ".weight_colsum", colSum)]
        if n.inputs.count == 3 { ins.append(try r.id(n.inputs[2])) }
        return try r.g.op(.qdense, ins, attrs, label: n.name)
    }
}

/// Signal-to-quantization-noise ratio in dB: 10·log10(Σ ref² / Σ (ref − y)²).
func sqnr(_ ref: Tensor, _ y: Tensor) -> Double {
    let a = ref.toDoubles(), b = y.toDoubles()
    var s = 0.0, e = 0.0
    for (u, v) in zip(a, b) { s += u * u; e += (u - v) * (u - v) }
    return e == 0 ? .infinity : 10 * log1(s / e) / log1(10)
}

/// One layer of a `QuantReport`.
public struct LayerQuantError: Sendable {
    public var layer: String
    public var maxAbsDiff: Double
    /// dB; larger is better (each extra bit of precision adds ~6 dB).
    public var sqnr: Double
}

public struct QuantReport: CustomStringConvertible, Sendable {
    public var layers: [LayerQuantError]
    public var description: String {
        formatTable([["layer", "max |diff|", "SQNR dB"]] + layers.map { [$0.layer, String(format4($0.maxAbsDiff)), format1($0.sqnr)] })
    }
}
public func format4(_ v: Double) -> String { String((v * 10000).rounded() / 10000) }

/// Per-layer error of a quantized model against `reference` (default: the same model with
/// its int8 weights dequantized to float32 and float activations, which isolates the
/// activation rounding): each quantized layer's output, and the model output ("output"),
/// on the data `x`. Errors accumulate along the network, as they do at inference.
///
///     print(try quantReport(int8, xTest, reference: model))
public func quantReport(_ q: Model, _ x: Tensor, reference: Model? = nil) throws -> QuantReport {
    let ref = try reference ?? dequantized(q)
    let layers = weightLayers(q.graph, ops: [.qdense])
    var refIDs: [Int] = [], qIDs: [Int] = [], names: [String] = []
    for l in layers {
        guard let rn = ref.graph.nodes.first(where: { $0.name == l.node.name && $0.op != .param }) else { continue }
        refIDs.append(rn.id); qIDs.append(l.node.id); names.append(l.node.name)
    }
    refIDs.append(ref.graph.outputs[0]); qIDs.append(q.graph.outputs[0]); names.append("output")
    let a = try capture(ref, x, refIDs), b = try capture(q, x, qIDs)
    return QuantReport(layers: zip(names, zip(a, b)).map { name, p in
        let d = zip(p.0.toDoubles(), p.1.toDoubles()).map { Swift.abs($0 - $1) }.max() ?? 0
        return LayerQuantError(layer: name, maxAbsDiff: d, sqnr: sqnr(p.0, p.1))
    })
}

/// qdense nodes back to float dense with dequantized weights (W = Wq · scale).
public func dequantized(_ m: Model) throws -> Model {
    try rewrite(m) { n, r in
        guard n.op == .qdense else { return nil }
        let g = r.old
        let q = g.params[g.paramName(n, 1)!]!, s = g.params[g.paramName(n, 2)!]!
        let w = try q.astype(.float32) * (s.count == 1 ? s.reshape([]) : s)
        var ins = [try r.id(n.inputs[0]), try r.trainable(baseName(g.paramName(n, 1)!) + ".weight", w)]
        if n.inputs.count == 5 { ins.append(try r.id(n.inputs[4])) }
        var attrs: Attrs = [:]
        if let a = n.attrs["activation"] { attrs["activation"] = a }
        return try r.g.op(.dense, ins, attrs, label: n.name)
    }
}

/// The graph without fake_quant nodes (their users read the fake_quant input directly).
func stripFakeQuant(_ m: Model) throws -> Model {
    try rewrite(m) { n, r in n.op == .fakeQuant ? try r.id(n.inputs[0]) : nil }
}
