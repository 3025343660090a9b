import Foundation
import Logging
import Registry

/// The models a server answers for, keyed by model name, plus its metrics and logger.
/// Build it from registry references (`load(refs:registry:loader:)`) or, in tests, from
/// models in memory (`add`); then `application()` or `router()`.
///
///     let server = InferenceServer(config: ServeConfig())
///     try server.add(model)   // any ServableModel, e.g. ServeModels' GraphServable
public final class InferenceServer: @unchecked Sendable {
    public let config: ServeConfig
    public let metrics: ServeMetrics
    public let logger: Logger
    private let lock = NSLock()
    private var slots: [String: ModelSlot] = [:]
    private var failedVersions: [String: Int] = [:]
    /// False once shutdown starts, so load balancers stop sending traffic.
    private var accepting = true
    /// True while PostgreSQL alias notifications are being received (`watch`).
    let aliasListening = LockedFlag()

    public init(config: ServeConfig, metrics: ServeMetrics = ServeMetrics(), logger: Logger = Logger(label: "mlw.serve")) {
        self.config = config; self.metrics = metrics; self.logger = logger
    }

    func slot(_ name: String) -> ModelSlot? { lock.withLock { slots[name] } }
    var allSlots: [ModelSlot] { lock.withLock { slots.values.sorted { $0.name < $1.name } } }
    var isAccepting: Bool { lock.withLock { accepting } }
    func stopAccepting() { lock.withLock { accepting = false } }

    private func served(_ m: ServableModel) throws -> ServedModel {
        try ServedModel.warmUp(m)
        return ServedModel(model: m, config: config, metrics: metrics, logger: logger)
    }

    /// Serves `model` (in memory) under its name; `canary` takes `percent`% of its traffic.
    public func add(_ model: ServableModel, ref: String? = nil, canary: ServableModel? = nil, percent: Double = 0) throws {
        let p = try served(model)
        let c = try canary.map { try served($0) }
        let slot = ModelSlot(name: model.name, ref: ref ?? model.name, primary: p,
                             canaryRef: canary.map { "\($0.name):\($0.version)" }, canary: c, percent: c == nil ? 0 : percent)
        lock.withLock { slots[model.name] = slot }
        metrics.servingVersion(model: model.name, role: "primary", version: model.version)
        if let canary { metrics.servingVersion(model: model.name, role: "canary", version: canary.version) }
    }

    /// Replaces the primary (or canary) version of a served model, atomically.
    public func replace(_ model: ServableModel, canary: Bool = false) throws {
        guard let slot = slot(model.name) else { throw ServeError.notFound("unknown model '\(model.name)'") }
        slot.swap(try served(model), canary: canary)
        metrics.servingVersion(model: model.name, role: canary ? "canary" : "primary", version: model.version)
        logger.info("serving new version", metadata: ["model": "\(model.name)", "version": "\(model.version)", "role": "\(canary ? "canary" : "primary")"])
    }

    /// Loads every reference from the registry (startup: any failure is fatal).
    public func load(refs: [String], registry: Registry, loader: any ModelLoader) throws {
        for ref in refs {
            let v = try registry.resolve(ref)
            let m = try load(v, loader: loader)
            var canary: ServableModel?
            var percent = 0.0
            if let c = config.canary, try ModelReference.parse(c.ref).model == v.modelName {
                canary = try load(try registry.resolve(c.ref), loader: loader)
                percent = c.percent
            }
            let p = try served(m)
            let cs = try canary.map { try served($0) }
            let slot = ModelSlot(name: v.modelName, ref: ref, primary: p, canaryRef: canary == nil ? nil : config.canary?.ref,
                                 canary: cs, percent: percent)
            lock.withLock { slots[v.modelName] = slot }
            metrics.servingVersion(model: v.modelName, role: "primary", version: v.version)
            if let canary { metrics.servingVersion(model: v.modelName, role: "canary", version: canary.version) }
            logger.info("serving", metadata: ["ref": "\(ref)", "version": "\(v.version)", "canary": "\(canary.map { "\($0.version) at \(percent)%" } ?? "none")"])
        }
    }

    private func load(_ v: ModelVersion, loader: any ModelLoader) throws -> ServableModel {
        // Registered as a plain file (it did not say it is a model): refused before reading it.
        if v.kind == .file { throw ServeError.notAModel(v.reference) }
        guard let path = v.artifactPath else { throw ServeError.badModel("\(v.reference) has no artifact file") }
        return try loader.load(artifactPath: path, name: v.modelName, version: v.version)
    }

    /// Follows alias moves until cancelled: on a PostgreSQL registry through `LISTEN`
    /// (a move reaches this replica as it commits; a slow poll every `listenPollInterval`
    /// stays as a safety net), otherwise, or while the listening connection is down, by
    /// polling every `pollInterval`. When a followed reference resolves to another
    /// version, it is loaded, warmed up (one inference) and swapped in. A version that
    /// fails to load is logged, counted and reported by readiness, and not retried until
    /// the reference moves again; the old version keeps serving.
    public func watch(registry: Registry, loader: any ModelLoader) async {
        let wake = Wakeup()
        let listening = aliasListening
        let listener: Task<Void, Never>? = registry.isPostgres ? Task.detached { [logger, self] in
            await registry.listenForAliasMoves { event in
                switch event {
                case .listening:
                    listening.set(true)
                    logger.info("listening for alias moves", metadata: ["registry": "\(registry.locationDescription)"])
                    wake.signal()
                case let .moved(model): if self.slot(model) != nil { wake.signal() }
                case let .lost(why):
                    listening.set(false)
                    logger.warning("alias notifications lost; polling until they are back", metadata: ["reason": "\(why)"])
                }
            }
        } : nil
        defer { listener?.cancel() }
        while !Task.isCancelled {
            await wake.wait(for: listening.value ? config.listenPollInterval : config.pollInterval)
            if Task.isCancelled { break }
            checkAll(registry: registry, loader: loader)
        }
    }

    /// Re-resolves every followed reference once (a registry read per reference).
    func checkAll(registry: Registry, loader: any ModelLoader) {
        for slot in allSlots {
            let cur = slot.current
            checkMove(slot: slot, ref: slot.ref, serving: cur.primary.model.version, canary: false, registry: registry, loader: loader)
            if let cref = slot.canaryRef, let c = cur.canary {
                checkMove(slot: slot, ref: cref, serving: c.model.version, canary: true, registry: registry, loader: loader)
            }
        }
    }

    func checkMove(slot: ModelSlot, ref: String, serving: Int, canary: Bool, registry: Registry, loader: any ModelLoader) {
        let v: ModelVersion
        do { v = try registry.resolve(ref) } catch {
            logger.warning("cannot resolve reference", metadata: ["ref": "\(ref)", "error": "\(error)"])
            return
        }
        guard v.version != serving, lock.withLock({ failedVersions[ref] }) != v.version else { return }
        do {
            let m = try load(v, loader: loader)
            try replace(m, canary: canary)
            lock.withLock { _ = failedVersions.removeValue(forKey: ref) }
            logger.info("reference moved", metadata: ["ref": "\(ref)", "from": "\(serving)", "to": "\(v.version)"])
        } catch {
            lock.withLock { failedVersions[ref] = v.version }
            let msg = "loading \(v.reference) for \(ref) failed: \(error); still serving version \(serving)"
            slot.recordFailure(msg)
            metrics.loadFailure(model: slot.name)
            logger.error("model load failed", metadata: ["ref": "\(ref)", "version": "\(v.version)", "error": "\(error)"])
        }
    }

    /// Stops every batcher once its queue drains.
    public func retireAll() { for s in allSlots { s.retireAll() } }
}
