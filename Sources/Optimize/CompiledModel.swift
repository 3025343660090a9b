import Foundation
import Graph
import Tensor
import Train

/// A model compiled for inference: its level-2 optimized graph and the executor that runs
/// it, which keeps a static program per batch size (and the single-input fast path for the
/// last one). Made once per model revision; `predict`, `evaluate`, `compare`, distillation's
/// teacher, serving and the REPL all run models through it, so they give the same bits.
///
///     let c = try CompiledModel.of(model); let y = try c.predict(x); let e = try c.evaluate(x: x, y: labels)
public final class CompiledModel: @unchecked Sendable {
    /// The revision of the model this was compiled from (`Model.revision`).
    public let revision: UInt64
    /// The optimized model whose graph runs.
    public let optimized: Model
    public let inputName: String
    private let executor: Executor
    /// The executor keeps per-call state (plans, feed scratch), so calls are serialized;
    /// the server's batcher already gathers concurrent requests into one call.
    private let lock = NSLock()

    /// Compiles `model` (not cached; `of` is).
    public init(_ model: Model) throws {
        revision = model.revision
        (optimized, _) = try optimize(model, level: 2)
        executor = try Executor(optimized.graph)
        inputName = model.inputName
    }

    /// The compiled form of `model`, made on first use and kept for its revision (the last
    /// 16 models used): a model whose weights changed has a new revision, so it compiles again.
    public static func of(_ model: Model) throws -> CompiledModel {
        if let hit = cache.lookup(model.revision) { return hit }
        let c = try CompiledModel(model)
        cache.insert(c)
        return c
    }

    /// Eval-mode outputs of the model for the rows of `x`.
    public func predict(_ x: Tensor) throws -> Tensor { try run([inputName: x])[0] }

    /// All outputs for named feeds (built by the caller, e.g. once before a timing loop).
    public func run(_ feeds: [String: Tensor]) throws -> [Tensor] {
        lock.lock()
        defer { lock.unlock() }
        return try executor.run(feeds)
    }

    /// Metrics of `predict(x)` against `y` for the model's task (`Model.task`, given by the
    /// caller: it lives in the blobs, which do not change the revision): a binary one-logit
    /// model gets accuracy at its threshold, ROC/PR AUC, F1, log loss and the confusion
    /// matrix; a regression model MAE/RMSE/R²/MAPE in the label's units (`Train.metrics`).
    public func evaluate(x: Tensor, y: Tensor, task: ModelTask? = nil) throws -> Evaluation {
        try metrics(outputs: try predict(x), labels: y, task: task)
    }

    /// Batch sizes that ran as a static program so far.
    public var staticBatchSizes: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return executor.staticBatchSizes
    }

    private static let cache = CompiledCache()
}

/// The most recently used compiled models, by revision.
private final class CompiledCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [CompiledModel] = []
    private let capacity = 16

    func lookup(_ revision: UInt64) -> CompiledModel? {
        lock.lock(); defer { lock.unlock() }
        guard let k = entries.firstIndex(where: { $0.revision == revision }) else { return nil }
        let e = entries.remove(at: k); entries.append(e)   // most recently used last
        return e
    }

    func insert(_ c: CompiledModel) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.revision == c.revision }
        entries.append(c)
        if entries.count > capacity { entries.removeFirst() }
    }
}

/// Eval-mode outputs of `m` through its compiled form: `let y = try predict(model, x)`.
public func predict(_ m: Model, _ x: Tensor) throws -> Tensor { try CompiledModel.of(m).predict(x) }

/// Metrics of `m` on (x, y) from the same outputs `predict(m, x)` gives, by the model's task
/// (without one: classification when the output has > 1 column, regression otherwise).
public func evaluate(_ m: Model, x: Tensor, y: Tensor) throws -> Evaluation { try CompiledModel.of(m).evaluate(x: x, y: y, task: m.task) }
