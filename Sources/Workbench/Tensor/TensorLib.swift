import Foundation
import Lang
import Tensor

/// The tensor library: constructors, math, reductions, shape ops, conv/pool, safetensors.
/// Every op is a function and, through method fallback, a method: `sum(t, axis: 0)` and
/// `t.sum(axis: 0)` are the same call.
let tensorLibrary = Library("tensor", doc: "Tensors: construction, math, reductions, matmul, shapes, conv/pool, random, safetensors.",
                            tensorConstructors + tensorMath + tensorShapeOps + tensorIO)

/// Runs a tensor operation, turning its errors (which name the op and the shapes) into MLW errors.
func op(_ body: () throws -> Tensor) throws -> Value {
    return wrap(try body())
}

func tn(_ a: Args, _ name: String = "t") throws -> Tensor {
    try a.native(name, as: TensorValue.self, "tensor").t
}

/// A tensor argument that may also be given as a (nested) list or a number.
func tensorArg(_ a: Args, _ name: String, like: Tensor? = nil) throws -> Tensor {
    switch a[name] {
    case .native(let n as TensorValue): return n.t
    case .list: return try tensorFromList(a[name], dtype: like?.dtype)
    case .int, .float:
        return Tensor(scalar: a[name].asDouble!, dtype: like.map { $0.dtype.isFloatingPoint ? $0.dtype : .float32 } ?? .float32)
    default: throw a.bad(name, "tensor, list or number", a[name])
    }
}

func dtypeArg(_ a: Args, _ name: String = "dtype") throws -> DType? {
    if a.isNil(name) { return nil }
    let s = try a.string(name)
    guard let d = DType(rawValue: s) else {
        throw a.invalid(name, "unknown dtype '\(s)' (use " + DType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
    }
    return d
}

func shapeArg(_ a: Args, _ name: String = "shape") throws -> [Int] {
    if case .int(let n) = a[name] { return [n] }
    return try a.list(name).map { v in
        guard case .int(let n) = v else { throw a.invalid(name, "must be a list of integers, found \(v.typeName)") }
        return n
    }
}

/// A shape for a random constructor, checked against the creation limits before anything
/// is allocated (see `Tensor.checkCreationSize`); `scratch`: bytes of temporary arrays per
/// element the constructor builds (randint's Int64s, permutation's keys and order).
func creationShape(_ a: Args, op: String, dtype: DType, scratch: Int = 0) throws -> [Int] {
    let shape = try shapeArg(a)
    try Tensor.checkCreationSize(shape, dtype: dtype, op: op, scratchPerElement: scratch)
    return shape
}

/// `axis: nil | int | [ints]` as the list of axes (nil: all).
func axesArg(_ a: Args, _ name: String = "axis") throws -> [Int]? {
    switch a[name] {
    case .nil: return nil
    case .int(let i): return [i]
    case .list: return try shapeArg(a, name)
    default: throw a.bad(name, "integer, list of integers or nil", a[name])
    }
}

func seedArg(_ a: Args) throws -> UInt64 { UInt64(bitPattern: Int64(try a.int("seed"))) }

let dtypeParam = Param("dtype", .optional(.string), .nil)

let tensorConstructors: [NativeFunction] = [
    NativeFunction("tensor", [Param("data"), dtypeParam], doc: "A tensor from (nested) lists of numbers; float32 unless dtype is given.",
                   example: "tensor([[1, 2], [3, 4]]).shape", result: "[2, 2]") { a in
        if case .native(let n as TensorValue) = a["data"] { return try op { (try dtypeArg(a)).map { n.t.astype($0) } ?? n.t } }
        return wrap(try tensorFromList(a["data"], dtype: try dtypeArg(a)))
    },
    NativeFunction("zeros", [Param("shape"), dtypeParam], doc: "A tensor of zeros.", example: "zeros([2, 3], dtype: \"int8\").dtype", result: "\"int8\"") { a in
        try op { try Tensor.zeros(try shapeArg(a), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("ones", [Param("shape"), dtypeParam], doc: "A tensor of ones.", example: "ones([2]).to_list()", result: "[1.0, 1.0]") { a in
        try op { try Tensor.ones(try shapeArg(a), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("full", [Param("shape"), Param("value", .number), dtypeParam], doc: "A tensor filled with value.",
                   example: "full([2], 7).to_list()", result: "[7.0, 7.0]") { a in
        try op { try Tensor.full(try shapeArg(a), try a.double("value"), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("arange", [Param("start", .number), Param("stop", .optional(.number), .nil), Param("step", .number, .int(1)), dtypeParam],
                   doc: "Evenly spaced values in [start, stop) (or [0, start)).", example: "arange(4).to_list()", result: "[0.0, 1.0, 2.0, 3.0]") { a in
        var lo = 0.0, hi = try a.double("start")
        if !a.isNil("stop") { lo = hi; hi = try a.double("stop") }
        return try op { try Tensor.arange(lo, hi, step: try a.double("step"), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("linspace", [Param("start", .number), Param("end", .number), Param("count", .int), dtypeParam],
                   doc: "count evenly spaced values from start to end inclusive.", example: "linspace(0, 1, 3).to_list()", result: "[0.0, 0.5, 1.0]") { a in
        try op { try Tensor.linspace(try a.double("start"), try a.double("end"), count: try a.int("count"), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("eye", [Param("n", .int), Param("m", .optional(.int), .nil), dtypeParam], doc: "Identity matrix (n x m).",
                   example: "eye(2).to_list()", result: "[[1.0, 0.0], [0.0, 1.0]]") { a in
        try op { try Tensor.eye(try a.int("n"), a.isNil("m") ? nil : try a.int("m"), dtype: try dtypeArg(a) ?? .float32) }
    },
    NativeFunction("randn", [Param("shape"), Param("seed", .int, .int(0)), dtypeParam],
                   doc: "Standard normal samples from a counter-based RNG: the same seed gives the same values, whatever else runs.",
                   example: "randn([64, 784], seed: 1).shape", result: "[64, 784]") { a in
        let dt = try dtypeArg(a) ?? .float32
        return try op { try Tensor.randn(try creationShape(a, op: "randn", dtype: dt.isFloatingPoint ? dt : .float32), seed: try seedArg(a), dtype: dt) }
    },
    NativeFunction("rand", [Param("shape"), Param("seed", .int, .int(0)), dtypeParam], doc: "Uniform samples in [0, 1), seeded.",
                   example: "rand([3], seed: 2).shape", result: "[3]") { a in
        let dt = try dtypeArg(a) ?? .float32
        return try op { try Tensor.rand(try creationShape(a, op: "rand", dtype: dt.isFloatingPoint ? dt : .float32), seed: try seedArg(a), dtype: dt) }
    },
    NativeFunction("randint", [Param("low", .int), Param("high", .int), Param("shape"), Param("seed", .int, .int(0)), dtypeParam],
                   doc: "Uniform integers in [low, high), seeded.", example: "randint(0, 10, [5], seed: 3).dtype", result: "\"int32\"") { a in
        let dt = try dtypeArg(a) ?? .int32
        return try op { try Tensor.randint(try a.int("low"), try a.int("high"), shape: try creationShape(a, op: "randint", dtype: dt, scratch: 8),
                                           seed: try seedArg(a), dtype: dt) }
    },
    NativeFunction("permutation", [Param("n", .int), Param("seed", .int, .int(0))], doc: "A seeded random permutation of 0..n-1.",
                   example: "sort(permutation(5, seed: 1).to_list())", result: "[0, 1, 2, 3, 4]") { a in
        let n = try a.int("n")
        return try op {
            try Tensor.checkCreationSize([Swift.max(n, 0)], dtype: .int32, op: "permutation", scratchPerElement: 40)
            return try Tensor.permutation(n, seed: try seedArg(a))
        }
    },
    NativeFunction("to_list", [Param("t", .native("tensor"))], doc: "Nested lists of the tensor's values.",
                   example: "tensor([[1, 2]], dtype: \"int32\").to_list()", result: "[[1, 2]]") { a in
        tensorToList(try tn(a))
    },
    NativeFunction("item", [Param("t", .native("tensor"))], doc: "The single value of a one-element tensor.",
                   example: "tensor([3.5]).item()", result: "3.5") { a in
        let t = try tn(a)
        guard t.count == 1 else { throw a.invalid("t", "item() needs exactly one element, the shape is \(t.shape)") }
        return scalarValue(try t.reshape([]))
    },
    NativeFunction("astype", [Param("t", .native("tensor")), Param("dtype", .string)], doc: "A copy converted to another dtype.",
                   example: "tensor([1.7]).astype(\"int32\").to_list()", result: "[1]") { a in
        guard let d = try dtypeArg(a) else { throw a.invalid("dtype", "required") }
        return wrap(try tn(a).astype(d))
    },
    NativeFunction("set_threads", [Param("n", .int)], doc: "Threads used by the kernels (results do not depend on it).",
                   example: "set_threads(2)") { a in
        guard try a.int("n") >= 1 else { throw a.invalid("n", "must be at least 1") }
        Tensor.setThreads(try a.count("n", min: 1, max: 1024))
        return .nil
    },
    NativeFunction("threads", [], doc: "Threads the kernels use (MLW_THREADS, or set_threads).", example: "threads() >= 1", result: "true") { _ in
        .int(Tensor.threads)
    },
]
