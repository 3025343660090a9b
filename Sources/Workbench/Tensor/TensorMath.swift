import Foundation
import Lang
import Tensor

let tParam = Param("t", .native("tensor"))

/// Elementwise math and activations: one entry each, applied to `t`.
private func unaryOp(_ name: String, _ doc: String, _ example: String, _ result: String?, _ f: @escaping (Tensor) throws -> Tensor) -> NativeFunction {
    NativeFunction(name, [tParam], doc: doc, example: example, result: result) { a in try op { try f(try tn(a)) } }
}

/// Reductions over `axis` (nil: all; an integer; or a list) with `keepdims`.
private func reduction(_ name: String, _ doc: String, _ f: @escaping (Tensor, [Int]?, Bool) throws -> Tensor, example: String, result: String) -> NativeFunction {
    NativeFunction(name, [tParam, Param("axis", .any, .nil), Param("keepdims", .bool, .bool(false))], doc: doc, example: example, result: result) { a in
        let r = try op { try f(try tn(a), try axesArg(a), try a.bool("keepdims")) }
        if case .native(let n as TensorValue) = r, n.t.rank == 0 { return scalarValue(n.t) }
        return r
    }
}

let tensorMath: [NativeFunction] = [
    unaryOp("neg", "Elementwise negation (also -t).", "neg(tensor([1])).to_list()", "[-1.0]") { $0.neg() },
    unaryOp("abs", "Elementwise absolute value.", "abs(tensor([-2, 3])).to_list()", "[2.0, 3.0]") { $0.abs() },
    unaryOp("exp", "Elementwise e^x.", "exp(zeros([1])).to_list()", "[1.0]") { $0.exp() },
    unaryOp("log", "Elementwise natural logarithm.", "log(ones([1])).to_list()", "[0.0]") { $0.log() },
    unaryOp("sqrt", "Elementwise square root.", "sqrt(tensor([4, 9])).to_list()", "[2.0, 3.0]") { $0.sqrt() },
    unaryOp("tanh", "Elementwise tanh.", "tanh(zeros([1])).to_list()", "[0.0]") { $0.tanh() },
    unaryOp("sigmoid", "Elementwise logistic sigmoid.", "sigmoid(zeros([1])).to_list()", "[0.5]") { $0.sigmoid() },
    unaryOp("relu", "Elementwise max(x, 0).", "relu(tensor([-1, 2])).to_list()", "[0.0, 2.0]") { $0.relu() },
    NativeFunction("gelu", [tParam, Param("approximate", .string, .string("tanh"))],
                   doc: "GELU activation; approximate \"tanh\" (PyTorch's approximate=\"tanh\") or \"none\" (exact, with erf).",
                   example: "gelu(zeros([1])).to_list()", result: "[0.0]") { a in
        let mode = try a.string("approximate")
        guard mode == "tanh" || mode == "none" else { throw a.invalid("approximate", "must be \"tanh\" or \"none\"") }
        return try op { try tn(a).gelu(mode == "tanh" ? .tanh : .erf) }
    },
    NativeFunction("pow", [tParam, Param("exponent")], doc: "Elementwise power (also t ** e).",
                   example: "pow(tensor([2, 3]), 2).to_list()", result: "[4.0, 9.0]") { a in
        let t = try tn(a)
        return try op { try Tensor.binary(t, try tensorArg(a, "exponent", like: t), .pow) }
    },
    NativeFunction("clip", [tParam, Param("min", .optional(.number), .nil), Param("max", .optional(.number), .nil)],
                   doc: "Limit values to [min, max].", example: "clip(tensor([-5, 0, 5]), min: -1, max: 1).to_list()", result: "[-1.0, 0.0, 1.0]") { a in
        try op { try tn(a).clip(min: a.isNil("min") ? nil : try a.double("min"), max: a.isNil("max") ? nil : try a.double("max")) }
    },
    NativeFunction("maximum", [Param("a"), Param("b")], doc: "Elementwise larger of a and b (tensors or numbers, broadcast).",
                   example: "maximum(tensor([1, 5]), 3).to_list()", result: "[3.0, 5.0]") { a in
        let x = try tensorArg(a, "a")
        return try op { try Tensor.maximum(x, try tensorArg(a, "b", like: x)) }
    },
    NativeFunction("minimum", [Param("a"), Param("b")], doc: "Elementwise smaller of a and b.",
                   example: "minimum(tensor([1, 5]), 3).to_list()", result: "[1.0, 3.0]") { a in
        let x = try tensorArg(a, "a")
        return try op { try Tensor.minimum(x, try tensorArg(a, "b", like: x)) }
    },
    NativeFunction("where", [Param("cond", .native("tensor")), Param("a"), Param("b")],
                   doc: "Elementwise: a where cond is true, else b.", example: "where(tensor([1, -1]) > 0, 1, 0).to_list()", result: "[1.0, 0.0]") { a in
        let c = try tn(a, "cond")
        let x = try tensorArg(a, "a")
        return try op { try Tensor.where(c, x, try tensorArg(a, "b", like: x)) }
    },
    NativeFunction("matmul", [Param("a", .native("tensor")), Param("b", .native("tensor"))],
                   doc: "Matrix product (2-D, batched with broadcasting, or matrix-vector); also a @ b.",
                   example: "matmul(ones([2, 3]), ones([3, 4])).shape", result: "[2, 4]") { a in
        try op { try Tensor.matmul(try tn(a, "a"), try tn(a, "b")) }
    },
    reduction("sum", "Sum over axes.", { try $0.sum(axes: $1, keepDims: $2) }, example: "sum(ones([2, 3]), axis: 0).to_list()", result: "[2.0, 2.0, 2.0]"),
    reduction("mean", "Mean over axes.", { try $0.mean(axes: $1, keepDims: $2) }, example: "mean(tensor([1, 2, 3]))", result: "2.0"),
    reduction("max", "Maximum over axes.", { try $0.max(axes: $1, keepDims: $2) }, example: "tensor([1, 5, 2]).max()", result: "5.0"),
    reduction("min", "Minimum over axes.", { try $0.min(axes: $1, keepDims: $2) }, example: "tensor([1, 5, 2]).min()", result: "1.0"),
    reduction("variance", "Variance over axes (population).", { try $0.variance(axes: $1, keepDims: $2) }, example: "variance(tensor([1, 3]))", result: "1.0"),
    reduction("std", "Standard deviation over axes (population).", { try $0.std(axes: $1, keepDims: $2) }, example: "std(tensor([1, 3]))", result: "1.0"),
    reduction("logsumexp", "log(sum(exp(t))) over axes, computed stably.", { try $0.logsumexp(axes: $1, keepDims: $2) },
              example: "round(logsumexp(zeros([2])), digits: 4)", result: "0.6931"),
    NativeFunction("argmax", [tParam, Param("axis", .optional(.int), .nil), Param("keepdims", .bool, .bool(false))],
                   doc: "Index of the largest value (over all, or along an axis).", example: "argmax(tensor([1, 9, 3]))", result: "1") { a in
        let r = try op { try tn(a).argmax(axis: a.isNil("axis") ? nil : try a.int("axis"), keepDims: try a.bool("keepdims")) }
        if case .native(let n as TensorValue) = r, n.t.rank == 0 { return scalarValue(n.t) }
        return r
    },
    NativeFunction("argmin", [tParam, Param("axis", .optional(.int), .nil), Param("keepdims", .bool, .bool(false))],
                   doc: "Index of the smallest value.", example: "argmin(tensor([4, 1, 3]))", result: "1") { a in
        let r = try op { try tn(a).argmin(axis: a.isNil("axis") ? nil : try a.int("axis"), keepDims: try a.bool("keepdims")) }
        if case .native(let n as TensorValue) = r, n.t.rank == 0 { return scalarValue(n.t) }
        return r
    },
    NativeFunction("softmax", [tParam, Param("axis", .int, .int(-1))], doc: "Softmax along an axis.",
                   example: "softmax(zeros([2])).to_list()", result: "[0.5, 0.5]") { a in
        try op { try tn(a).softmax(axis: try a.int("axis")) }
    },
    NativeFunction("log_softmax", [tParam, Param("axis", .int, .int(-1))], doc: "log(softmax) along an axis, computed stably.",
                   example: "log_softmax(zeros([1])).to_list()", result: "[0.0]") { a in
        try op { try tn(a).logSoftmax(axis: try a.int("axis")) }
    },
]
