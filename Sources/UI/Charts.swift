import Foundation
import Registry
import Workbench

// Metric curves for the run and compare pages, drawn by Workbench's curvesSVG (the same
// chart `save_history` writes).

let chartPalette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

/// The name a train/validation pair shares: `val_loss` and `loss` -> `loss`.
func metricBase(_ key: String) -> (base: String, validation: Bool) {
    for p in ["val_", "valid_", "validation_"] where key.hasPrefix(p) && key.count > p.count { return (String(key.dropFirst(p.count)), true) }
    if key.hasPrefix("train_"), key.count > 6 { return (String(key.dropFirst(6)), false) }
    return (key, false)
}

/// Points per key, by step.
func seriesByKey(_ points: [MetricPoint]) -> [String: [(x: Double, y: Double)]] {
    var out: [String: [(x: Double, y: Double)]] = [:]
    for p in points { out[p.key, default: []].append((Double(p.step), p.value)) }
    return out
}

/// One chart per metric base name: the training curve solid, the validation one dashed on
/// the same axes. Keys with a single point are left to the table.
func runCharts(_ points: [MetricPoint]) -> [(title: String, svg: String)] {
    let byKey = seriesByKey(points)
    var groups: [String: [String]] = [:]
    for key in byKey.keys { groups[metricBase(key).base, default: []].append(key) }
    var charts: [(title: String, svg: String)] = []
    for base in groups.keys.sorted() {
        let keys = groups[base]!.sorted { (metricBase($0).validation ? 1 : 0, $0) < (metricBase($1).validation ? 1 : 0, $1) }
        guard keys.contains(where: { byKey[$0]!.count >= 2 }) else { continue }
        let series = keys.enumerated().map { i, key in
            CurveSeries(name: key, color: chartPalette[i % chartPalette.count], points: byKey[key]!, dashed: metricBase(key).validation)
        }
        charts.append((keys.joined(separator: " / "), curvesSVG(series, xLabel: "step")))
    }
    return charts
}

/// One chart per metric key with one line per run (same colour per run on every chart).
func compareCharts(_ runs: [(id: String, points: [MetricPoint])]) -> [(title: String, svg: String)] {
    let perRun = runs.map { (id: $0.id, series: seriesByKey($0.points)) }
    let keys = Set(perRun.flatMap { $0.series.keys }).sorted()
    var charts: [(title: String, svg: String)] = []
    for key in keys {
        var series: [CurveSeries] = []
        for (i, r) in perRun.enumerated() {
            guard let pts = r.series[key] else { continue }
            series.append(CurveSeries(name: r.id, color: chartPalette[i % chartPalette.count], points: pts, dashed: metricBase(key).validation))
        }
        guard series.contains(where: { $0.points.count >= 2 }) else { continue }
        charts.append((key, curvesSVG(series, xLabel: "step")))
    }
    return charts
}

/// Whether a smaller value is better for this metric key (losses, errors, times).
func lowerIsBetter(_ key: String) -> Bool {
    let k = key.lowercased()
    return ["loss", "error", "mse", "mae", "rmse", "perplexity", "latency", "time", "seconds", "ms"].contains { k.contains($0) }
}
