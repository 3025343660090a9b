import Foundation
import Lang
import Tensor

let tensorShapeOps: [NativeFunction] = [
    NativeFunction("reshape", [tParam, Param("shape")], doc: "Same values, new shape (-1 infers one size); a view when possible.",
                   example: "reshape(arange(6), [2, -1]).shape", result: "[2, 3]") { a in
        try op { try tn(a).reshape(try shapeArg(a)) }
    },
    NativeFunction("flatten", [tParam], doc: "All values as one axis.", example: "flatten(ones([2, 3])).shape", result: "[6]") { a in
        try op { try tn(a).reshape([-1]) }
    },
    NativeFunction("transpose", [tParam, Param("a", .int, .int(-2)), Param("b", .int, .int(-1))],
                   doc: "Swap two axes (default the last two); also t.T for all axes reversed.",
                   example: "transpose(ones([2, 3])).shape", result: "[3, 2]") { a in
        try op { try tn(a).transpose(try a.int("a"), try a.int("b")) }
    },
    NativeFunction("permute", [tParam, Param("order", .list)], doc: "Reorder axes.", example: "permute(ones([2, 3, 4]), [2, 0, 1]).shape", result: "[4, 2, 3]") { a in
        try op { try tn(a).permute(try shapeArg(a, "order")) }
    },
    NativeFunction("squeeze", [tParam, Param("axis", .any, .nil)], doc: "Drop axes of size 1 (all, or the given ones).",
                   example: "squeeze(ones([1, 3, 1])).shape", result: "[3]") { a in
        try op { try tn(a).squeeze(try axesArg(a)) }
    },
    NativeFunction("unsqueeze", [tParam, Param("axis", .int)], doc: "Insert an axis of size 1.",
                   example: "unsqueeze(ones([3]), 0).shape", result: "[1, 3]") { a in
        try op { try tn(a).unsqueeze(try a.int("axis")) }
    },
    NativeFunction("concat", [Param("tensors", .list), Param("axis", .int, .int(0))], doc: "Join tensors along an existing axis.",
                   example: "concat([ones([2]), zeros([1])]).to_list()", result: "[1.0, 1.0, 0.0]") { a in
        // A list of datasets: rows one after another (Frames/WrangleLib.swift).
        if case .native(let n)? = try a.list("tensors").first, n is DatasetValue { return try concatDatasets(try a.list("tensors")) }
        return try op { try Tensor.concat(try tensorList(a), axis: try a.int("axis")) }
    },
    NativeFunction("stack", [Param("tensors", .list), Param("axis", .int, .int(0))], doc: "Join tensors along a new axis.",
                   example: "stack([ones([2]), zeros([2])]).shape", result: "[2, 2]") { a in
        try op { try Tensor.stack(try tensorList(a), axis: try a.int("axis")) }
    },
    NativeFunction("gather", [tParam, Param("axis", .int), Param("index")], doc: "Values at index along an axis (index has t's rank).",
                   example: "gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]], dtype: \"int32\")).to_list()", result: "[[2.0], [3.0]]") { a in
        try op { try tn(a).gather(axis: try a.int("axis"), index: try tensorArg(a, "index")) }
    },
    NativeFunction("index_select", [tParam, Param("axis", .int), Param("indices")], doc: "Rows (or slices along axis) at the given indices.",
                   example: "index_select(tensor([10, 20, 30]), 0, [2, 0]).to_list()", result: "[30.0, 10.0]") { a in
        let idx: Tensor
        if case .list(let xs) = a["indices"] { idx = try tensorFromList(.list(xs), dtype: .int32) } else { idx = try tensorArg(a, "indices") }
        return try op { try tn(a).indexSelect(axis: try a.int("axis"), indices: idx) }
    },
    NativeFunction("one_hot", [Param("indices"), Param("depth", .int), dtypeParam], doc: "One-hot rows for integer class indices.",
                   example: "one_hot([0, 2], 3).to_list()", result: "[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]") { a in
        let idx: Tensor
        if case .list(let xs) = a["indices"] { idx = try tensorFromList(.list(xs), dtype: .int32) } else { idx = try tensorArg(a, "indices") }
        return try op { try Tensor.oneHot(idx, depth: try a.int("depth"), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("conv2d", [Param("x", .native("tensor")), Param("weight", .native("tensor")), Param("bias", .optional(.native("tensor")), .nil),
                              Param("stride", .any, .int(1)), Param("padding", .any, .int(0)), Param("dilation", .any, .int(1)), Param("groups", .int, .int(1))],
                   doc: "2-D convolution, NCHW input, weight [out, in/groups, kh, kw]; stride/padding/dilation are an int or [h, w].",
                   example: "conv2d(ones([1, 1, 4, 4]), ones([2, 1, 3, 3]), padding: 1).shape", result: "[1, 2, 4, 4]") { a in
        try op {
            try Tensor.conv2d(try tn(a, "x"), weight: try tn(a, "weight"), bias: a.isNil("bias") ? nil : try tn(a, "bias"),
                              stride: try pair(a, "stride"), padding: try pair(a, "padding"), dilation: try pair(a, "dilation"),
                              groups: try a.int("groups"))
        }
    },
    NativeFunction("max_pool", [tParam, Param("kernel", .any), Param("stride", .any, .nil), Param("padding", .any, .int(0))],
                   doc: "2-D max pooling over NCHW input (stride defaults to the kernel).",
                   example: "max_pool(ones([1, 1, 4, 4]), 2).shape", result: "[1, 1, 2, 2]") { a in
        try op { try tn(a).maxPool2d(kernel: try pair(a, "kernel"), stride: a.isNil("stride") ? nil : try pair(a, "stride"), padding: try pair(a, "padding")) }
    },
    NativeFunction("avg_pool", [tParam, Param("kernel", .any), Param("stride", .any, .nil), Param("padding", .any, .int(0))],
                   doc: "2-D average pooling over NCHW input.", example: "avg_pool(ones([1, 1, 4, 4]), 2).shape", result: "[1, 1, 2, 2]") { a in
        try op { try tn(a).avgPool2d(kernel: try pair(a, "kernel"), stride: a.isNil("stride") ? nil : try pair(a, "stride"), padding: try pair(a, "padding")) }
    },
]

func tensorList(_ a: Args) throws -> [Tensor] {
    try a.list("tensors").map { v in
        guard case .native(let n as TensorValue) = v else { throw a.invalid("tensors", "must be a list of tensors, found \(v.typeName)") }
        return n.t
    }
}

/// An int `k` as (k, k), or a list [h, w].
func pair(_ a: Args, _ name: String) throws -> (Int, Int) {
    switch a[name] {
    case .int(let k): return (k, k)
    case .list(let xs) where xs.count == 2:
        guard case .int(let h) = xs[0], case .int(let w) = xs[1] else { throw a.invalid(name, "must be an integer or [h, w]") }
        return (h, w)
    default: throw a.invalid(name, "must be an integer or [h, w]")
    }
}
