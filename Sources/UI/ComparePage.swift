import Foundation
import Hummingbird
import Registry

// `/compare?runs=a,b[,c...]`: what differs between runs, their curves overlaid, and the final
// metrics with the best value of each highlighted.

extension UIApp {
    static let maxCompared = 10

    func comparePage(_ req: Request) throws -> Page {
        let ids = req.uri.queryParameters.getAll("runs").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard ids.count >= 2 else { throw UIError.badRequest("compare needs at least two runs: /compare?runs=ID,ID") }
        guard ids.count <= Self.maxCompared else { throw UIError.badRequest("compare takes at most \(Self.maxCompared) runs, got \(ids.count)") }
        let runs = try ids.map { try registry.run($0) }
        let points = try runs.map { try registry.metrics(run: $0.id) }
        let finals = try runs.map { try registry.finalMetrics(run: $0.id) }

        // Fields and parameters whose text differs between any two runs.
        let fields: [(String, (Run) -> String)] = [("script", \.script), ("script sha256", { String($0.scriptSha256.prefix(12)) }),
                                                   ("status", { $0.status.rawValue }), ("git commit", { $0.gitCommit ?? "-" }),
                                                   ("seed", { $0.seed.map(String.init) ?? "-" }), ("mlw version", \.mlwVersion)]
        var diff: [(key: String, values: [String])] = fields.map { f in (f.0, runs.map(f.1)) }.filter { Set($0.1).count > 1 }
        let paramKeys = Set(runs.flatMap { $0.params.keys }).sorted()
        diff += paramKeys.map { k in (k, runs.map { $0.params[k]?.description ?? "-" }) }.filter { Set($0.values).count > 1 }
        let sameParams = paramKeys.filter { k in Set(runs.map { $0.params[k]?.description ?? "-" }).count == 1 }

        let metricKeys = Set(finals.flatMap(\.keys)).sorted()
        let metricRows: [(key: String, values: [Double?], best: Int?)] = metricKeys.map { k in
            let vs = finals.map { $0[k] }
            let present = vs.enumerated().compactMap { i, v in v.map { (i, $0) } }.filter { !$0.1.isNaN }
            let best = lowerIsBetter(k) ? present.min { $0.1 < $1.1 } : present.max { $0.1 < $1.1 }
            // No highlight when every run has the same value.
            let distinct = Set(present.map(\.1)).count > 1
            return (k, vs, distinct ? best?.0 : nil)
        }
        let charts = compareCharts(zip(runs, points).map { (id: $0.0.id, points: $0.1) })

        let json: [String: Any] = [
            "runs": runs.map(\.id),
            "differences": diff.map { ["key": $0.key, "values": $0.values] },
            "same_params": sameParams,
            "metrics": metricRows.map { ["key": $0.key, "values": $0.values.map { Format.json($0) }, "best": orNull($0.best.map { runs[$0].id }),
                                         "lower_is_better": lowerIsBetter($0.key)] as [String: Any] },
        ]
        var view: [String: Any] = [
            "runs": runs.enumerated().map { ["id": $0.element.id, "script": $0.element.script, "color": chartPalette[$0.offset % chartPalette.count]] },
            "differences": diff.map { ["key": $0.key, "values": $0.values.map { ["value": $0] }] },
            "has_differences": !diff.isEmpty,
            "metrics": metricRows.map { row in
                ["key": row.key, "direction": lowerIsBetter(row.key) ? "lower is better" : "higher is better",
                 "values": row.values.enumerated().map { ["value": Format.number($0.element), "best": $0.offset == row.best] }]
            },
            "has_metrics": !metricRows.isEmpty,
            "charts": charts.map { ["title": $0.title, "svg": $0.svg] },
        ]
        if !sameParams.isEmpty { view["same_params"] = sameParams.joined(separator: ", ") }
        return Page(title: "Compare \(runs.count) runs", template: "compare", json: json, view: view)
    }
}
