import Foundation
import Train

/// One line of a chart: a legend name, a colour, (x, y) points, dashed for validation.
public struct CurveSeries: Sendable {
    public var name: String
    public var color: String
    public var points: [(x: Double, y: Double)]
    public var dashed: Bool

    public init(name: String, color: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
        self.name = name; self.color = color; self.points = points; self.dashed = dashed
    }

    /// Values at x = 0, 1, 2, ...
    public init(name: String, color: String, values: [Double], dashed: Bool = false) {
        self.init(name: name, color: color, points: values.enumerated().map { (Double($0.offset), $0.element) }, dashed: dashed)
    }
}

/// Escapes text placed inside SVG/XML elements and attributes.
public func svgEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// Line charts as one small standalone SVG: `save_history`'s training curves and the curves
/// of `mlw ui` (runs' metrics per step, several runs overlaid). Non-finite values are left out.
public func curvesSVG(_ series: [CurveSeries], xLabel: String = "epoch", width w: Double = 640, height ht: Double = 360) -> String {
    let pad = 48.0
    let finite = series.map { CurveSeries(name: $0.name, color: $0.color, points: $0.points.filter { $0.x.isFinite && $0.y.isFinite }, dashed: $0.dashed) }
    let ys = finite.flatMap { $0.points.map(\.y) }, xs = finite.flatMap { $0.points.map(\.x) }
    let lo = min(0, ys.min() ?? 0), hi = max(ys.max() ?? 1, lo + 1e-9)
    let x0 = xs.min() ?? 0, x1 = xs.max() ?? 0
    func px(_ x: Double) -> Double { pad + (w - 2 * pad) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) }
    func py(_ v: Double) -> Double { ht - pad - (ht - 2 * pad) * (v - lo) / (hi - lo) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(ht))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<line x1=\"\(pad)\" y1=\"\(ht - pad)\" x2=\"\(w - pad)\" y2=\"\(ht - pad)\" stroke=\"black\"/>\n"
    s += "<line x1=\"\(pad)\" y1=\"\(pad)\" x2=\"\(pad)\" y2=\"\(ht - pad)\" stroke=\"black\"/>\n"
    s += "<text x=\"\(w / 2)\" y=\"\(ht - 12)\" text-anchor=\"middle\">\(svgEscape(xLabel))</text>\n"
    s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", pad - 4, py(hi) + 4, hi)
    s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", pad - 4, py(lo) + 4, lo)
    for (k, line) in finite.enumerated() {
        let pts = line.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
        let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
        s += "<polyline fill=\"none\" stroke=\"\(svgEscape(line.color))\" stroke-width=\"2\"\(dash) points=\"\(pts)\"/>\n"
        s += "<text x=\"\(w - pad - 100)\" y=\"\(pad + 16 * Double(k))\" fill=\"\(svgEscape(line.color))\">\(svgEscape(line.name))</text>\n"
    }
    return s + "</svg>\n"
}

/// Loss (and validation loss/accuracy) per epoch as a small standalone SVG line chart.
func historySVG(_ h: [EpochRecord]) -> String {
    var series = [CurveSeries(name: "loss", color: "#1f77b4", values: h.map(\.loss))]
    let val = h.compactMap(\.valLoss)
    if val.count == h.count { series.append(CurveSeries(name: "val_loss", color: "#ff7f0e", values: val)) }
    let acc = h.compactMap(\.valAccuracy)
    if acc.count == h.count { series.append(CurveSeries(name: "val_accuracy", color: "#2ca02c", values: acc)) }
    return curvesSVG(series)
}
