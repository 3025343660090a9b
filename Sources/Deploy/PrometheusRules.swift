import Foundation

/// `mlw deploy prometheus NAME`: alerting rules for one served model over the metrics
/// `mlw serve` exports, and a `promtool test rules` file with series that fire each alert
/// and series that do not.
///
///     let rules = try PrometheusRules(model: "digits"); print(rules.rules().text())
public struct PrometheusRules: Sendable {
    public var model: String
    /// Share of requests answered 5xx over 5 minutes.
    public var errorRate = 0.05
    /// p99 request latency in seconds over 5 minutes.
    public var p99Seconds = 0.25
    /// Input drift score (per feature) held for 10 minutes.
    public var driftScore = 3.0

    public init(model: String) throws {
        guard DeployName.isModelName(model) else { throw DeployError("expected a model name (letters, digits, '_', '.', '-'), got '\(model)'") }
        self.model = model
    }

    var sel: String { "model=\"\(model)\"" }

    /// (alert, expression, for, severity, summary)
    var alerts: [(name: String, expr: String, for: String, severity: String, summary: String)] {
        [
            ("MLWHighErrorRate",
             "sum(rate(mlw_requests_total{\(sel),status=~\"5..\"}[5m])) / sum(rate(mlw_requests_total{\(sel)}[5m])) > \(errorRate)",
             "5m", "critical", "\(model): more than \(Int(errorRate * 100))% of requests fail"),
            ("MLWHighP99Latency",
             "histogram_quantile(0.99, sum by (le) (rate(mlw_request_duration_seconds_bucket{\(sel)}[5m]))) > \(p99Seconds)",
             "5m", "warning", "\(model): p99 latency above \(p99Seconds) s"),
            ("MLWModelLoadFailures",
             "increase(mlw_model_load_failures_total{\(sel)}[10m]) > 0",
             "0m", "critical", "\(model): a model version failed to load"),
            ("MLWFeatureDrift",
             "max by (feature) (mlw_input_drift_score{\(sel)}) > \(driftScore)",
             "10m", "warning", "\(model): input feature {{ $labels.feature }} drifted (score above \(driftScore))"),
            ("MLWNoTraffic",
             "(sum(rate(mlw_requests_total{\(sel)}[10m])) or vector(0)) == 0",
             "10m", "warning", "\(model): no requests for 10 minutes"),
        ]
    }

    public var fileName: String { "mlw-\(DeployName.dnsLabel(model))-rules.yaml" }
    public var testFileName: String { "mlw-\(DeployName.dnsLabel(model))-rules.test.yaml" }

    public func rules() -> YAML {
        .map([("groups", .list([.map([
            ("name", .string("mlw-\(model)")),
            ("rules", .list(alerts.map { a in
                .map([("alert", .string(a.name)), ("expr", .string(a.expr)), ("for", .string(a.for)),
                      ("labels", .map([("severity", .string(a.severity)), ("model", .string(model))])),
                      ("annotations", .map([("summary", .string(a.summary))]))])
            })),
        ])]))])
    }

    /// One promtool test per alert: a case where it fires (with its labels) and one where
    /// the same series stay healthy and nothing fires.
    public func tests() -> YAML {
        func series(_ s: String, _ values: String) -> YAML { .map([("series", .string(s)), ("values", .string(values))]) }
        func test(_ input: [YAML], alert: String, at: String, firing: [YAML]) -> YAML {
            .map([("interval", .string("1m")), ("input_series", .list(input)),
                  ("alert_rule_test", .list([.map([("eval_time", .string(at)), ("alertname", .string(alert)), ("exp_alerts", .list(firing))])]))])
        }
        func fired(_ extra: [(String, YAML)] = [], severity: String, alert: String, feature: String = "") -> YAML {
            let summary = alerts.first { $0.name == alert }!.summary.replacingOccurrences(of: "{{ $labels.feature }}", with: feature)
            return .map([("exp_labels", .map([("severity", .string(severity)), ("model", .string(model))] + extra)),
                         ("exp_annotations", .map([("summary", .string(summary))]))])
        }
        let ok = "mlw_requests_total{\(sel),version=\"1\",endpoint=\"infer\",status=\"200\"}"
        let bad = "mlw_requests_total{\(sel),version=\"1\",endpoint=\"infer\",status=\"500\"}"
        func bucket(_ le: String) -> String { "mlw_request_duration_seconds_bucket{\(sel),endpoint=\"infer\",le=\"\(le)\"}" }
        let load = "mlw_model_load_failures_total{\(sel)}"
        let drift = "mlw_input_drift_score{\(sel),feature=\"pixel_3\"}"
        let calm = "mlw_input_drift_score{\(sel),feature=\"pixel_4\"}"
        return .map([
            ("rule_files", .list([.string(fileName)])),
            ("evaluation_interval", .string("1m")),
            ("tests", .list([
                // 20% of requests fail: fires; then no failures: quiet.
                test([series(ok, "0+80x20"), series(bad, "0+20x20")], alert: "MLWHighErrorRate", at: "15m", firing: [fired(severity: "critical", alert: "MLWHighErrorRate")]),
                test([series(ok, "0+100x20"), series(bad, "0+0x20")], alert: "MLWHighErrorRate", at: "15m", firing: []),
                // Every request slower than 0.5 s: fires; every one under 0.1 s: quiet.
                test([series(bucket("0.1"), "0+0x20"), series(bucket("0.5"), "0+0x20"), series(bucket("+Inf"), "0+60x20")],
                     alert: "MLWHighP99Latency", at: "15m", firing: [fired(severity: "warning", alert: "MLWHighP99Latency")]),
                test([series(bucket("0.1"), "0+60x20"), series(bucket("0.5"), "0+60x20"), series(bucket("+Inf"), "0+60x20")],
                     alert: "MLWHighP99Latency", at: "15m", firing: []),
                test([series(load, "0 0 0 1 1 1")], alert: "MLWModelLoadFailures", at: "5m", firing: [fired(severity: "critical", alert: "MLWModelLoadFailures")]),
                test([series(load, "0 0 0 0 0 0")], alert: "MLWModelLoadFailures", at: "5m", firing: []),
                // One feature over the threshold for 15 minutes fires (with its label); one
                // that crossed only for 5 minutes, and one that stays low, do not.
                test([series(drift, "5+0x20"), series(calm, "0.5+0x20")], alert: "MLWFeatureDrift", at: "15m",
                     firing: [fired([("feature", .string("pixel_3"))], severity: "warning", alert: "MLWFeatureDrift", feature: "pixel_3")]),
                test([series(drift, "0.5+0x10 5+0x5"), series(calm, "0.5+0x20")], alert: "MLWFeatureDrift", at: "15m", firing: []),
                test([series(ok, "100+0x30")], alert: "MLWNoTraffic", at: "25m", firing: [fired(severity: "warning", alert: "MLWNoTraffic")]),
                test([series(ok, "0+10x30")], alert: "MLWNoTraffic", at: "25m", firing: []),
            ])),
        ])
    }

    public func files() -> [(name: String, text: String)] {
        [(fileName, rules().text()), (testFileName, tests().text())]
    }
}
