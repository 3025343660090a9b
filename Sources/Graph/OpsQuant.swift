import Tensor

/// Quantized ops (module Compress writes them; the model file stores their int8 weights).
let quantOps: [OpDef] = [
    // Int8 dense: x float32 [..., in] is quantized (per row when `act_scale` is absent =
    // dynamic, else with the calibrated `act_scale`/`act_zero` = static; uint8 with a zero
    // point when `act_unsigned`), multiplied by int8 W [in, out] with int32 accumulation,
    // and dequantized with `scale` [out] (per channel) or [1], plus bias and ReLU.
    // Inputs: x, W int8, scale f32, colsum i32 [out] (Σ_k W[k, n], for the zero point), bias?.
    OpDef(.qdense, arity: 4...5, shape: { s, _ in
        guard s[1].count == 2, let last = s[0].last, last == s[1][0] else { throw GraphError("qdense: input \(formatShape(s[0])) does not match int8 weight \(formatShape(s[1]))") }
        if s.count == 5, s[4] != [s[1][1]] { throw GraphError("qdense: bias \(formatShape(s[4])) does not match weight \(formatShape(s[1]))") }
        return Array(s[0].dropLast()) + [s[1][1]]
    }, dtype: { _, _ in .float32 }, forward: { x, a, _ in
        let q = QDenseSettings(a)
        return (try Tensor.qlinear(x[0], weight: x[1], weightScale: x[2], colSum: x[3], bias: x.count == 5 ? x[4] : nil,
                                   actScale: q.actScale, actZero: q.actZero, unsigned: q.unsigned, relu: q.relu), [])
    }, backward: nil, lower: .qdense),
    // Fake quantization for quantization-aware training: quantize-dequantize with a
    // symmetric scale from the current max |x| (attr `per`: "tensor", "row" or "column";
    // `bits`, default 8). Backward is the straight-through estimator (identity): the scale
    // comes from the max, so nothing is clipped and the identity is the exact STE.
    OpDef(.fakeQuant, arity: 1...1, shape: same, forward: { x, a, _ in
        let per = a.string("per", "tensor")
        return (try Tensor.fakeQuant(x[0], axis: per == "row" ? 0 : per == "column" ? 1 : nil, bits: a.int("bits", 8)), [])
    }, backward: { b in [b.grad] }),
]

/// A `qdense` node's activation settings from its attributes (the op and the executor's
/// static programs read them the same way): static scale and zero point, or dynamic (nil).
struct QDenseSettings {
    let actScale: Float?
    let actZero: Int
    let unsigned: Bool
    let relu: Bool
    init(_ a: Attrs) {
        switch a["act_scale"] { case .double(let v)?: actScale = Float(v); case .int(let v)?: actScale = Float(v); default: actScale = nil }
        actZero = actScale == nil ? 0 : a.int("act_zero", 0)
        unsigned = a.bool("act_unsigned", false)
        relu = a.activation == .relu
    }
}
