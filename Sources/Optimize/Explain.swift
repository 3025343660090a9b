import Foundation
import FileIO
import Graph
import Tensor
import Train

private func opLabel(_ n: Node) -> String {
    let act = n.attrs.string("activation", Activation.none.rawValue)
    if n.op == .elementwise { return "\(n.op)[\(ChainStep.text(n.attrs.chain("steps") ?? []))]" }
    return act == Activation.none.rawValue ? n.op.rawValue : "\(n.op)+\(act)"
}

private func paramCount(_ g: Graph, _ n: Node) -> Int {
    n.inputs.filter { g.isParam($0) }.reduce(0) { $0 + (g.param(of: $1)?.count ?? 0) }
}

/// A text table of a model: node, op, inputs (parameters shown by count), shape, dtype,
/// parameters and FLOPs per sample, then totals and the activation memory plan. For an
/// optimized model it ends with the optimizer's report (which pass changed what).
///
///     print(explain(try optimize(model).0))
public func explain(_ model: Model, batch: Int = 1) -> String {
    let g = model.graph
    var rows: [[String]] = [["id", "node", "op", "inputs", "shape", "dtype", "params", "FLOPs"]]
    for i in g.neededNodes() where !g.isParam(i) {
        let n = g.nodes[i]
        let ins = n.inputs.filter { !g.isParam($0) }.map { g.nodes[$0].name }.joined(separator: ", ")
        let p = paramCount(g, n)
        rows.append(["\(i)", n.name, opLabel(n), ins, formatShape(n.shape), n.dtype.rawValue, p == 0 ? "" : "\(p)", "\(nodeFLOPs(g, i, batch: batch))"])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    var s = rows.map { r in zip(r, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ") }.joined(separator: "\n")
    let plan = planMemory(g, batch: batch)
    s += "\n\(rows.count - 1) nodes, \(g.params.values.reduce(0) { $0 + $1.count }) parameter values, \(totalFLOPs(g, batch: batch)) FLOPs at batch \(batch)"
    s += "\nactivations: \(plan)"
    if let r = model.blobs["optimize_report"] { s += "\n" + r }
    return s
}

private func dotEscape(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }

/// Graphviz source: inputs as ellipses, ops as boxes (op, shape, parameter count),
/// outputs double-bordered; parameters are folded into their op's label.
public func dotSource(_ model: Model) -> String {
    let g = model.graph
    var s = "digraph mlw {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
    for i in g.neededNodes() where !g.isParam(i) {
        let n = g.nodes[i], p = paramCount(g, n)
        var label = n.op == .input ? "\(n.name)\\n\(formatShape(n.shape))" : "\(dotEscape(n.name))\\n\(dotEscape(opLabel(n)))  \(formatShape(n.shape))"
        if p > 0 { label += "\\n\(p) params" }
        let shape = n.op == .input ? "ellipse" : g.outputs.contains(i) ? "doubleoctagon" : "box"
        s += "  n\(i) [label=\"\(label)\", shape=\(shape)];\n"
        for j in n.inputs where !g.isParam(j) { s += "  n\(j) -> n\(i);\n" }
    }
    return s + "}\n"
}

/// Writes the Graphviz file: `try toDot(model, "g.dot")`.
public func toDot(_ model: Model, _ path: String) throws {
    try SafeWrite.write(dotSource(model), to: path)
}

/// The `dot` executable on PATH, if Graphviz is installed.
public func graphvizDot() -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/dot"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// Renders through Graphviz; the format comes from the extension (svg, png, pdf).
/// `try render(model, "g.svg")`. Errors when `dot` is missing.
public func render(_ model: Model, _ path: String) throws {
    guard let dot = graphvizDot() else { throw GraphError("render: Graphviz 'dot' is not installed (apt-get install graphviz), or write the .dot file with to_dot") }
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    let format = ["svg", "png", "pdf"].contains(ext) ? ext : "svg"
    let src = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).dot").path
    try toDot(model, src)
    defer { try? FileManager.default.removeItem(atPath: src) }
    let p = Process(); p.executableURL = URL(fileURLWithPath: dot); p.arguments = ["-T\(format)", src, "-o", path]
    let err = Pipe(); p.standardError = err
    try p.run(); p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw GraphError("render: dot failed: \(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
    }
}
