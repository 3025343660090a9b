import Graph
import Tensor

/// The selection ops (Sources/Graph/OpsSelect.swift) in standard ONNX ops, so k-means and
/// kNN models export:
///
///   sq_dist    Cast to double, Gemm(x, c, alpha −2, transB) + ReduceSum(x²) + ReduceSum(c²),
///              Relu (the clamp at 0), Cast back: the float64 arithmetic MLW's kernel does, so
///              neighbour order agrees (cosine: 1 − x·c / max(‖x‖‖c‖, 1e-300)).
///   argmin     ArgMin(axis 1, keepdims) → Cast to float (MLW's indices are float32).
///   top_k      TopK(largest = !smallest, sorted) → indices Cast to float; top_k_values its values.
///              ONNX breaks ties by the lower index, as MLW does.
///   knn_vote   Gather of the labels at the neighbour indices, weights (1, or 1/distance with
///              an exact match taking all the weight), then per class a one-hot Equal against
///              [0..C) summed over the neighbours: log of the weighted shares, clamped at 1e-30;
///              regression: the weighted mean label.
extension ONNXBuilder {
    static let onnxDouble = 11, onnxFloat = 1, onnxInt64 = 7

    /// A float64 constant of the given shape.
    mutating func doubles(_ vs: [Double], shape: [Int]) throws -> String {
        let name = fresh("const"); initializer(name, try Tensor(vs, shape: shape, dtype: .float64)); return name
    }

    /// A float32 constant of the given shape.
    mutating func floats(_ vs: [Float], shape: [Int]) throws -> String {
        let name = fresh("const"); initializer(name, try Tensor(vs, shape: shape)); return name
    }

    mutating func cast(_ x: String, to type: Int, _ out: String? = nil) -> String {
        let y = out ?? fresh("cast"); node("Cast", [x], [y], [("to", .int(type))]); return y
    }

    /// Row sums of squares [rows, 1] (keepdims) or [rows].
    mutating func rowSquares(_ x: String, keep: Bool) -> String {
        let sq = fresh("sq"), s = fresh("norm2")
        node("Mul", [x, x], [sq])
        node("ReduceSum", [sq, int64s([1])], [s], [("keepdims", .int(keep ? 1 : 0))])
        return s
    }

    mutating func emitSelect(_ n: Node, _ ins: [String], _ out: String) throws {
        let a = n.attrs
        switch n.op {
        case .sqDist:
            let x = cast(ins[0], to: Self.onnxDouble), c = cast(ins[1], to: Self.onnxDouble)
            let xn = rowSquares(x, keep: true), cn = rowSquares(c, keep: false)
            let r = fresh("dist")
            if a.string("metric", "euclidean") == "cosine" {
                let xc = fresh("dot"), xs = fresh("norm"), cs = fresh("norm"), den = fresh("den"), den2 = fresh("den"), q = fresh("cos")
                node("Gemm", [x, c], [xc], [("transB", .int(1))])
                node("Sqrt", [xn], [xs]); node("Sqrt", [cn], [cs])
                node("Mul", [xs, cs], [den]); node("Max", [den, try doubles([1e-300], shape: [])], [den2])
                node("Div", [xc, den2], [q]); node("Sub", [try doubles([1], shape: []), q], [r])
            } else {
                let xc = fresh("dot"), s1 = fresh("dist"), s2 = fresh("dist")
                node("Gemm", [x, c], [xc], [("transB", .int(1)), ("alpha", .float(-2))])
                node("Add", [xc, xn], [s1]); node("Add", [s1, cn], [s2]); node("Relu", [s2], [r])
            }
            _ = cast(r, to: Self.onnxFloat, out)
        case .argmin:
            let i = fresh("argmin")
            node("ArgMin", ins, [i], [("axis", .int(1)), ("keepdims", .int(1)), ("select_last_index", .int(0))])
            _ = cast(i, to: Self.onnxFloat, out)
        case .topK, .topKValues:
            let cols = g.nodes[n.inputs[0]].shape[1].size ?? 1
            let k = Swift.min(a.int("k", 1), cols)
            let v = n.op == .topKValues ? out : fresh("topk_values"), i = fresh("topk_indices")
            node("TopK", [ins[0], int64s([k])], [v, i], [("axis", .int(1)), ("largest", .int(a.bool("smallest", false) ? 0 : 1)), ("sorted", .int(1))])
            if n.op == .topK { _ = cast(i, to: Self.onnxFloat, out) }
        case .knnVote:
            try emitKnnVote(a, ins, out)
        default:
            throw GraphError("onnx: op '\(n.op)' is not a selection op")
        }
    }

    private mutating func emitKnnVote(_ a: Attrs, _ ins: [String], _ out: String) throws {
        let classes = a.int("classes", 0)
        let idx = cast(ins[0], to: Self.onnxInt64), lab = fresh("neighbour_labels")
        node("Gather", [ins[2], idx], [lab], [("axis", .int(0))])
        // Weights [batch, k].
        var w: String
        if a.string("weights", "uniform") == "distance" {
            var d = ins[1]
            if a.bool("squared", true) { let s = fresh("dist"); node("Sqrt", [d], [s]); d = s }
            let zero = try floats([0], shape: []), one = try floats([1], shape: [])
            let isZero = fresh("exact"), zf = cast(isZero, to: Self.onnxFloat), any = fresh("any_exact"), anyB = fresh("any_exact")
            let inv = fresh("inv"), wv = fresh("weights")
            node("Equal", [d, zero], [isZero])
            node("ReduceMax", [zf], [any], [("axes", .ints([1])), ("keepdims", .int(1))])   // an attribute until opset 18
            node("Greater", [any, zero], [anyB])
            node("Div", [one, d], [inv])
            node("Where", [anyB, zf, inv], [wv])
            w = wv
        } else {
            let wv = fresh("weights"); node("Mul", [lab, try floats([0], shape: [])], [wv])
            let w1 = fresh("weights"); node("Add", [wv, try floats([1], shape: [])], [w1])
            w = w1
        }
        let total = fresh("total")
        node("ReduceSum", [w, int64s([1])], [total], [("keepdims", .int(1))])
        if classes > 0 {
            let lab3 = fresh("labels3"), w3 = fresh("weights3"), hit = fresh("onehot"), hitF = fresh("onehot"), wh = fresh("votes"), p = fresh("votes")
            node("Unsqueeze", [lab, int64s([2])], [lab3])
            node("Unsqueeze", [w, int64s([2])], [w3])
            node("Equal", [lab3, try floats((0..<classes).map { Float($0) }, shape: [classes])], [hit])
            node("Cast", [hit], [hitF], [("to", .int(Self.onnxFloat))])
            node("Mul", [hitF, w3], [wh])
            node("ReduceSum", [wh, int64s([1])], [p], [("keepdims", .int(0))])
            let share = fresh("share"), clamped = fresh("share")
            node("Div", [p, total], [share])
            node("Max", [share, try floats([1e-30], shape: [])], [clamped])
            node("Log", [clamped], [out])
        } else {
            let wl = fresh("weighted"), s = fresh("weighted")
            node("Mul", [w, lab], [wl])
            node("ReduceSum", [wl, int64s([1])], [s], [("keepdims", .int(1))])
            node("Div", [s, total], [out])
        }
    }
}
