import Foundation
import Lang
import Tensor

/// safetensors files, readable and writable by Python's `safetensors` and numpy.
let tensorIO: [NativeFunction] = [
    NativeFunction("save_tensors", [Param("path", .string), Param("tensors", .record), Param("metadata", .optional(.record), .nil)],
                   doc: "Write named tensors to a safetensors file, with optional string metadata.",
                   example: "save_tensors(\"/tmp/mlw-example.safetensors\", {w: ones([2, 2])}, metadata: {note: \"demo\"})") { a in
        let r = try a.record("tensors")
        var items: [(String, Tensor)] = []
        for (k, v) in zip(r.keys, r.values) {
            guard case .native(let n as TensorValue) = v else { throw a.invalid("tensors", "'\(k)' is a \(v.typeName), not a tensor") }
            items.append((k, n.t))
        }
        var meta: [String: String] = [:]
        if !a.isNil("metadata") {
            let m = try a.record("metadata")
            for (k, v) in zip(m.keys, m.values) { meta[k] = v.text }
        }
        try Safetensors.save(try a.string("path"), items, metadata: meta)
        return .nil
    },
    NativeFunction("load_tensors", [Param("path", .string)],
                   doc: "Read a safetensors file: a record of its tensors in file order, plus __metadata__ when present.",
                   example: "save_tensors(\"/tmp/mlw-ex2.safetensors\", {b: zeros([3])}); load_tensors(\"/tmp/mlw-ex2.safetensors\").b.shape",
                   result: "[3]") { a in
        let (tensors, meta) = try Safetensors.load(try a.string("path"))
        var pairs = tensors.map { ($0.0, wrap($0.1)) }
        if !meta.isEmpty {
            pairs.append(("__metadata__", .record(meta.keys.sorted().map { ($0, .string(meta[$0]!)) })))
        }
        return .record(pairs)
    },
]
