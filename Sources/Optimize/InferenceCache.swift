import Foundation
import Graph
import Tensor
import Train

/// The optimized (level 2) form of a model, cached: serving and predict paths call this
/// on every request, so the rewrite runs once per model. A cache entry keeps the source
/// model's tensors alive, so matching by structure plus weight-buffer addresses is exact
/// (an address cannot be reused while the entry holds its tensor).
///
///     let fast = try optimizedForInference(model); let y = try Executor(fast.graph).run(["x": x])
public func optimizedForInference(_ model: Model) throws -> Model {
    let key = try InferenceCache.key(model)
    if let hit = InferenceCache.shared.lookup(key) { return hit }
    let (fast, _) = try optimize(model, level: 2)
    InferenceCache.shared.insert(key, source: model, optimized: fast)
    return fast
}

final class InferenceCache: @unchecked Sendable {
    static let shared = InferenceCache()
    private let lock = NSLock()
    private var entries: [(key: String, source: Model, optimized: Model)] = []
    private let capacity = 16

    /// Structure (ops, inputs, attrs, shapes) and the address of every weight buffer.
    static func key(_ m: Model) throws -> String {
        var s = ""
        for n in m.graph.nodes { s += "\(n.op)|\(n.name)|\(n.inputs)|\(n.attrs.sorted { $0.key < $1.key })|\(n.shape);" }
        s += "\(m.graph.outputs)"
        for name in m.graph.params.keys.sorted() {
            let t = m.graph.params[name]!
            let addr = t.dtype == .float32 ? try t.withFloats { UInt(bitPattern: $0.baseAddress) } : UInt(bitPattern: t.toDoubles().hashValue)
            s += "\(name)@\(addr)"
        }
        return s
    }

    func lookup(_ key: String) -> Model? {
        lock.lock(); defer { lock.unlock() }
        guard let k = entries.firstIndex(where: { $0.key == key }) else { return nil }
        let e = entries.remove(at: k); entries.append(e)   // most recently used last
        return e.optimized
    }

    func insert(_ key: String, source: Model, optimized: Model) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.key == key }
        entries.append((key, source, optimized))
        if entries.count > capacity { entries.removeFirst() }
    }
}

/// `predict` on the optimized graph: `let y = try predictOptimized(model, x)`.
public func predictOptimized(_ model: Model, _ x: Tensor) throws -> Tensor {
    try Executor(try optimizedForInference(model).graph).run([model.inputName: x])[0]
}
