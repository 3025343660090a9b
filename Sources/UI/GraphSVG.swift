import Foundation
import Graph
import Train
import Workbench

/// A model's graph as SVG without Graphviz: the nodes `dotSource` draws (inputs, ops with
/// their shapes and parameter counts, outputs; parameters folded into their op), in layers
/// by longest path from the inputs, edges as straight lines.
func graphSVG(_ model: Model, maxNodes: Int = 400) -> String? {
    let g = model.graph
    let nodes = g.neededNodes().filter { !g.isParam($0) }
    guard !nodes.isEmpty, nodes.count <= maxNodes else { return nil }
    var rank: [Int: Int] = [:]
    for i in nodes {   // neededNodes is in topological order
        rank[i] = (g.nodes[i].inputs.compactMap { rank[$0] }.max() ?? -1) + 1
    }
    var layers: [[Int]] = []
    for i in nodes {
        let r = rank[i]!
        while layers.count <= r { layers.append([]) }
        layers[r].append(i)
    }
    let boxW = 200.0, boxH = 46.0, gapX = 20.0, gapY = 34.0, margin = 10.0
    let widest = Double(layers.map(\.count).max() ?? 1)
    let width = margin * 2 + widest * boxW + (widest - 1) * gapX
    let height = margin * 2 + Double(layers.count) * boxH + Double(layers.count - 1) * gapY
    var pos: [Int: (x: Double, y: Double)] = [:]
    for (r, layer) in layers.enumerated() {
        let rowW = Double(layer.count) * boxW + Double(layer.count - 1) * gapX
        for (k, i) in layer.enumerated() {
            pos[i] = (x: (width - rowW) / 2 + Double(k) * (boxW + gapX), y: margin + Double(r) * (boxH + gapY))
        }
    }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
    for i in nodes {
        for j in g.nodes[i].inputs where !g.isParam(j) {
            guard let a = pos[j], let b = pos[i] else { continue }
            s += String(format: "<line class=\"edge\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                        a.x + boxW / 2, a.y + boxH, b.x + boxW / 2, b.y)
        }
    }
    for i in nodes {
        let n = g.nodes[i], p = pos[i]!
        let params = n.inputs.filter { g.isParam($0) }.reduce(0) { $0 + (g.param(of: $1)?.count ?? 0) }
        let kind = n.op == .input ? "input" : g.outputs.contains(i) ? "output" : "op"
        let rx = n.op == .input ? 20 : 3
        s += String(format: "<rect class=\"node %@\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" rx=\"%d\" fill=\"%@\" stroke=\"#333\"/>\n",
                    kind, p.x, p.y, boxW, boxH, rx, kind == "input" ? "#e8f0fe" : kind == "output" ? "#fde8e8" : "#f4f4f4")
        let line1 = n.name.count > 30 ? String(n.name.prefix(29)) + "…" : n.name
        var line2 = "\(n.op.rawValue) \(formatShape(n.shape))"
        if params > 0 { line2 += " · \(params) params" }
        if line2.count > 34 { line2 = String(line2.prefix(33)) + "…" }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">", p.x + boxW / 2, p.y + 18) + svgEscape(line1) + "</text>\n"
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", p.x + boxW / 2, p.y + 35) + svgEscape(line2) + "</text>\n"
    }
    return s + "</svg>\n"
}
