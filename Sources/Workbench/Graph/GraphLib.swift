import Foundation
import Lang
import Optimize
import Train

/// Graph optimization, inspection and ONNX export in MLW (Docs/optimize.md).
let graphLibrary = Library("graph", doc: "Optimize model graphs, inspect them, export to ONNX.", [
    NativeFunction("optimize", [Param("model", .native("model")), Param("level", .int, .int(2)), Param("passes", .optional(.list), .nil),
                                Param("disable", .list, .list([])), Param("check", .bool, .bool(false))],
                   doc: "A new model rewritten by the optimization passes (level 0 none, 1 safe local rewrites, 2 all); check: true compares outputs after every pass. explain(model) shows what changed.",
                   example: "optimize(sequential([dense(4, 8), dense(8, 2)]), check: true).params", result: "58") { a in
        let m = try a.native("model", as: ModelValue.self, "model").model
        let level = try a.int("level")
        guard (0...2).contains(level) else { throw a.invalid("level", "must be 0, 1 or 2") }
        let (out, _) = try Optimize.optimize(m, level: level, passes: a.isNil("passes") ? nil : try stringList(a, "passes"),
                                             disable: try stringList(a, "disable"), check: try a.bool("check"))
        return .native(ModelValue(out))
    },
    NativeFunction("explain", [Param("model", .native("model")), Param("batch", .int, .int(1))],
                   doc: "Print the graph as a table (node, op, inputs, shape, dtype, parameters, FLOPs) and, after optimize, what each pass changed with node counts, FLOPs and peak memory before and after.",
                   example: "explain(sequential([dense(4, 2)]))") { a in
        a.interpreter.output(Optimize.explain(try a.native("model", as: ModelValue.self, "model").model, batch: try a.count("batch", min: 1, max: 1 << 24)) + "\n")
        return .nil
    },
    NativeFunction("to_dot", [Param("model", .native("model")), Param("path", .string)], doc: "Write the graph as a Graphviz file.",
                   example: "to_dot(sequential([dense(4, 2)]), \"/tmp/mlw-model.dot\")") { a in
        do { try Optimize.toDot(try a.native("model", as: ModelValue.self, "model").model, try a.string("path")) }
        catch { throw a.invalid("path", "\(error)") }
        return .nil
    },
    NativeFunction("render", [Param("model", .native("model")), Param("path", .string)],
                   doc: "Draw the graph to an SVG (or PNG) file with Graphviz's dot (Debian package graphviz).",
                   example: "if file_exists(\"/usr/bin/dot\") { render(sequential([dense(4, 2)]), \"/tmp/mlw-model.svg\") }") { a in
        try Optimize.render(try a.native("model", as: ModelValue.self, "model").model, try a.string("path"))
        return .nil
    },
    NativeFunction("export_onnx", [Param("model", .native("model")), Param("path", .string), Param("opset", .int, .int(17))],
                   doc: "Write the model as ONNX (dynamic batch dimension; onnxruntime gives the same outputs).",
                   example: "export_onnx(sequential([dense(4, 2), relu()]), \"/tmp/mlw-model.onnx\")") { a in
        try Optimize.exportONNX(try a.native("model", as: ModelValue.self, "model").model, try a.string("path"), opset: try a.int("opset"))
        return .nil
    },
])
