import Foundation
import Logging
import Support

/// One loaded model version with its batcher and drift monitor.
public final class ServedModel: @unchecked Sendable {
    public let model: ServableModel
    let batcher: Batcher
    let drift: DriftMonitor?
    /// The raw fields its transforms take (nil: no transforms, or a chain with closures).
    let schema: RecordSchema?
    let task: ServeTask
    let policy: ServePolicy

    init(model: ServableModel, config: ServeConfig, metrics: ServeMetrics, logger: Logger) {
        self.model = model
        schema = model.transforms.flatMap(RecordSchema.init)
        task = model.task
        policy = model.policy
        drift = DriftMonitor(model: model.name, stats: model.trainingStats, width: model.inputWidth,
                             threshold: config.driftThreshold, metrics: metrics, logger: logger)
        batcher = Batcher(model: model, maxBatch: config.maxBatch, maxDelay: .microseconds(config.maxDelayMicros),
                          timeout: config.timeout, hooks: metrics.batcherHooks(model: model.name, version: model.version, drift: drift))
        batcher.start()
    }

    /// The schema raw V2 inputs are read with: nil without transforms, or when a raw column
    /// has the feature tensor's name (the request would be ambiguous).
    var rawInputs: RecordSchema? {
        guard let schema, let t = model.inputs.first?.name, schema.field(t) == nil, !schema.ignored.contains(t) else { return nil }
        return schema
    }

    /// Runs `rows` rows through the batcher; output rows come back in the same order.
    func predict(_ data: [Float], rows: Int) async throws -> ArraySlice<Float> {
        try await batcher.submit(data, rows: rows)
    }

    /// One dummy row, so the first real request does not pay for lazy setup, and a model
    /// that cannot run is refused before it takes traffic.
    static func warmUp(_ model: ServableModel) throws {
        let w = model.inputWidth
        guard w > 0 else { throw ServeError.badModel("input '\(model.inputs.first?.name ?? "?")' has no feature width") }
        let y = try model.predict(try Tensor([Float](repeating: 0, count: w), shape: [1, w]))
        guard y.rank == 2, y.shape[0] == 1 else { throw ServeError.badModel("predict returned shape \(y.shape) for one row") }
    }
}

/// Everything served under one model name: the primary version (from a ref like
/// `digits@production`), an optional canary taking `percent` of traffic, and the last
/// load failure for the readiness response. Swaps happen under the lock, so a request
/// sees either the old or the new version, never a mix.
public final class ModelSlot: @unchecked Sendable {
    public let name: String
    /// The reference this slot follows (`digits@production`, `digits:3`, `digits`).
    public let ref: String
    public let canaryRef: String?
    public let canaryPercent: Double
    private let lock = NSLock()
    private var primary: ServedModel
    private var canary: ServedModel?
    private var lastError: String?

    init(name: String, ref: String, primary: ServedModel, canaryRef: String? = nil, canary: ServedModel? = nil, percent: Double = 0) {
        self.name = name; self.ref = ref; self.primary = primary
        self.canaryRef = canaryRef; self.canary = canary; self.canaryPercent = percent
    }

    var current: (primary: ServedModel, canary: ServedModel?, error: String?) {
        lock.withLock { (primary, canary, lastError) }
    }

    /// The version that answers a request: the canary for `percent`% of traffic, sticky
    /// per request id (FNV-1a hash of the id) when given, random otherwise.
    func pick(requestID: String?) -> ServedModel {
        let (p, c, _) = current
        guard let c, canaryPercent > 0 else { return p }
        let bucket: Double
        if let id = requestID, !id.isEmpty {
            let h = FNV1a.hash(id.utf8)
            bucket = Double(h % 10_000) / 100
        } else {
            bucket = Double.random(in: 0..<100)
        }
        return bucket < canaryPercent ? c : p
    }

    /// A specific loaded version (primary or canary), for `/versions/{v}` routes.
    func version(_ v: Int) -> ServedModel? {
        let (p, c, _) = current
        if p.model.version == v { return p }
        if let c, c.model.version == v { return c }
        return nil
    }

    /// Installs a new version for `role` and retires the old one after a grace period
    /// (requests that chose it a moment ago still queue and get answered).
    func swap(_ new: ServedModel, canary isCanary: Bool) {
        let old: ServedModel? = lock.withLock {
            lastError = nil
            if isCanary { defer { canary = new }; return canary }
            defer { primary = new }; return primary
        }
        if let old, old !== new {
            Task.detached { try? await Task.sleep(for: .seconds(2)); old.batcher.close() }
        }
    }

    func recordFailure(_ message: String) { lock.withLock { lastError = message } }

    func retireAll() {
        let (p, c, _) = current
        p.batcher.close(); c?.batcher.close()
    }
}
