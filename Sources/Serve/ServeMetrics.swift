import Foundation
import Frames
import Logging
import CoreMetrics
import Metrics
import Prometheus

/// The server's metrics, through swift-metrics handles made by a Prometheus factory that
/// belongs to this server (not the global bootstrap, so in-process tests each get their
/// own registry). Handles are cached by label set: creating one takes the registry's lock.
///
///     metrics.request(model: "digits", version: "2", endpoint: "infer", status: 200, seconds: 0.001)
///     metrics.text()   // Prometheus exposition format for GET /metrics
public final class ServeMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let lock = NSLock()
    private var counters: [String: CoreMetrics.Counter] = [:]
    private var timers: [String: CoreMetrics.Timer] = [:]
    private var recorders: [String: CoreMetrics.Recorder] = [:]
    private var gauges: [String: CoreMetrics.Gauge] = [:]

    public init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        f.valueHistogramBuckets["mlw_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        factory = f
    }

    private func key(_ label: String, _ dims: [(String, String)]) -> String {
        dims.reduce(label) { $0 + "|" + $1.0 + "=" + $1.1 }
    }

    func counter(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Counter {
        let k = key(label, dims)
        return lock.withLock {
            if let c = counters[k] { return c }
            let c = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory); counters[k] = c; return c
        }
    }
    func timer(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Timer {
        let k = key(label, dims)
        return lock.withLock {
            if let t = timers[k] { return t }
            let t = CoreMetrics.Timer(label: label, dimensions: dims, factory: factory); timers[k] = t; return t
        }
    }
    func recorder(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Recorder {
        let k = key(label, dims)
        return lock.withLock {
            if let r = recorders[k] { return r }
            let r = CoreMetrics.Recorder(label: label, dimensions: dims, aggregate: true, factory: factory); recorders[k] = r; return r
        }
    }
    func gauge(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Gauge {
        let k = key(label, dims)
        return lock.withLock {
            if let g = gauges[k] { return g }
            let g = CoreMetrics.Gauge(label: label, dimensions: dims, factory: factory); gauges[k] = g; return g
        }
    }

    /// One answered request: `mlw_requests_total` and `mlw_request_duration_seconds`.
    func request(model: String, version: String, endpoint: String, status: Int, nanos: Int64) {
        let k = RequestKey(model: model, version: version, endpoint: endpoint, status: status)
        // One dictionary probe per request: building the label arrays and string keys of
        // `counter`/`timer` took about 5% of a small V2 request's server time.
        let handles = lock.withLock { requestHandles[k] } ?? {
            let h = (counter("mlw_requests_total", [("model", model), ("version", version), ("endpoint", endpoint), ("status", String(status))]),
                     timer("mlw_request_duration_seconds", [("model", model), ("endpoint", endpoint)]))
            lock.withLock { requestHandles[k] = h }
            return h
        }()
        handles.0.increment()
        handles.1.recordNanoseconds(nanos)
    }

    private struct RequestKey: Hashable {
        let model: String, version: String, endpoint: String, status: Int
    }
    private var requestHandles: [RequestKey: (CoreMetrics.Counter, CoreMetrics.Timer)] = [:]

    func batcherHooks(model: String, version: Int, drift: DriftMonitor?) -> Batcher.Hooks {
        let dims = [("model", model), ("version", String(version))]
        let sizes = recorder("mlw_batch_size", dims)
        let depth = gauge("mlw_queue_depth", dims)
        var h = Batcher.Hooks()
        h.batch = { sizes.record($0) }
        h.queueDepth = { depth.record($0) }
        if let drift { h.observe = { drift.observe($0, rows: $1) } }
        return h
    }

    func loadFailure(model: String) { counter("mlw_model_load_failures_total", [("model", model)]).increment() }

    /// `mlw_model_version{model,role}` = the version number, and
    /// `mlw_model_serving{model,role,version}` = 1 for the version serving now (0 for the one
    /// it replaced), so a dashboard can group replicas by the version label.
    func servingVersion(model: String, role: String, version: Int) {
        gauge("mlw_model_version", [("model", model), ("role", role)]).record(version)
        let key = model + "|" + role
        let previous: Int? = lock.withLock { defer { serving[key] = version }; return serving[key] }
        if let previous, previous != version {
            gauge("mlw_model_serving", [("model", model), ("role", role), ("version", String(previous))]).record(0)
        }
        gauge("mlw_model_serving", [("model", model), ("role", role), ("version", String(version))]).record(1)
    }
    private var serving: [String: Int] = [:]

    /// Prometheus text exposition.
    public func text() -> [UInt8] { registry.emitToBuffer() }
}

/// Input drift for one model version: an exponentially weighted mean and variance of each
/// feature over recent rows (about the last `window`), compared with the training
/// statistics saved with the model. Score = max(|mean shift| / train std, |std ratio - 1|);
/// published as `mlw_input_drift_score{model,feature}`; crossing `threshold` logs a warning
/// once (and again only after it has dropped back below).
final class DriftMonitor: @unchecked Sendable {
    let model: String
    let stats: FeatureStats
    let threshold: Double
    let logger: Logger
    private let alpha: Double
    private let lock = NSLock()
    private var mean: [Double]
    private var variance: [Double]
    private var seen = 0
    private var alerted: [Bool]
    private let gauges: [CoreMetrics.Gauge]

    init?(model: String, stats: FeatureStats?, width: Int, threshold: Double, window: Int = 200,
          metrics: ServeMetrics, logger: Logger) {
        guard let stats, stats.features.count == width, width > 0 else { return nil }
        self.model = model; self.stats = stats; self.threshold = threshold; self.logger = logger
        alpha = 1 / Double(max(window, 1))
        mean = stats.features.map(\.mean)
        variance = stats.features.map { $0.std * $0.std }
        alerted = Array(repeating: false, count: width)
        gauges = stats.features.map { metrics.gauge("mlw_input_drift_score", [("model", model), ("feature", $0.name)]) }
    }

    func observe(_ x: [Float], rows: Int) {
        let w = mean.count
        guard rows > 0, x.count == rows * w else { return }
        var warnings: [String] = []
        var scores: [Double] = []
        lock.lock()
        for r in 0..<rows {
            for f in 0..<w {
                let v = Double(x[r * w + f])
                let d = v - mean[f]
                mean[f] += alpha * d
                variance[f] = (1 - alpha) * (variance[f] + alpha * d * d)
            }
        }
        let before = seen
        seen += rows
        // Publish every 32 rows: the gauges are for dashboards, not per request.
        if seen / 32 != before / 32 || before == 0 {
            scores = (0..<w).map { f in
                let s = stats.features[f], sd = max(s.std, 1e-6)
                return max(abs(mean[f] - s.mean) / sd, abs(variance[f].squareRoot() / sd - 1))
            }
            for f in 0..<w where seen >= 30 {
                if scores[f] > threshold, !alerted[f] {
                    alerted[f] = true
                    warnings.append(stats.features[f].name)
                } else if scores[f] <= threshold { alerted[f] = false }
            }
        }
        lock.unlock()
        for (f, s) in scores.enumerated() { gauges[f].record(s) }
        for name in warnings {
            let s = scores[stats.features.firstIndex { $0.name == name } ?? 0]
            logger.warning("input drift", metadata: ["model": "\(model)", "feature": "\(name)",
                                                     "score": "\(String(format: "%.2f", s))", "threshold": "\(threshold)"])
        }
    }
}
