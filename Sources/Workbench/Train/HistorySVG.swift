import Foundation
import Train

/// Loss (and validation loss/accuracy) per epoch as a small standalone SVG line chart.
func historySVG(_ h: [EpochRecord]) -> String {
    let w = 640.0, ht = 360.0, pad = 48.0
    var series: [(String, String, [Double])] = [("loss", "#1f77b4", h.map(\.loss))]
    let val = h.compactMap(\.valLoss)
    if val.count == h.count { series.append(("val_loss", "#ff7f0e", val)) }
    let acc = h.compactMap(\.valAccuracy)
    if acc.count == h.count { series.append(("val_accuracy", "#2ca02c", acc)) }
    let all = series.flatMap(\.2)
    let lo = min(0, all.min() ?? 0), hi = max(all.max() ?? 1, lo + 1e-9)
    func px(_ i: Int) -> Double { pad + (w - 2 * pad) * (h.count > 1 ? Double(i) / Double(h.count - 1) : 0.5) }
    func py(_ v: Double) -> Double { ht - pad - (ht - 2 * pad) * (v - lo) / (hi - lo) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(ht))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<line x1=\"\(pad)\" y1=\"\(ht - pad)\" x2=\"\(w - pad)\" y2=\"\(ht - pad)\" stroke=\"black\"/>\n"
    s += "<line x1=\"\(pad)\" y1=\"\(pad)\" x2=\"\(pad)\" y2=\"\(ht - pad)\" stroke=\"black\"/>\n"
    s += "<text x=\"\(w / 2)\" y=\"\(ht - 12)\" text-anchor=\"middle\">epoch</text>\n"
    s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", pad - 4, py(hi) + 4, hi)
    s += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", pad - 4, py(lo) + 4, lo)
    for (k, (name, color, ys)) in series.enumerated() {
        let pts = ys.enumerated().map { String(format: "%.1f,%.1f", px($0.offset), py($0.element)) }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts)\"/>\n"
        s += "<text x=\"\(w - pad - 100)\" y=\"\(pad + 16 * Double(k))\" fill=\"\(color)\">\(name)</text>\n"
    }
    return s + "</svg>\n"
}
