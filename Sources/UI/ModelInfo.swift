import Foundation
import Optimize
import Registry
import Train

/// What the run and model pages show of a model artifact: `explain`'s summary, the graph as
/// SVG and the Graphviz source (`to_dot`).
struct ModelInfo: Sendable {
    var summary: String
    var graphSVG: String?
    var dot: String
    var error: String?
}

/// Loaded model summaries by artifact hash (an artifact never changes), at most `capacity`.
final class ModelInfoCache: @unchecked Sendable {
    static let capacity = 32
    /// Larger files are not loaded by the UI (their summary would stall a page).
    static let maxBytes: Int64 = 512 << 20
    private let lock = NSLock()
    private var entries: [String: ModelInfo] = [:]
    private var order: [String] = []

    func info(for artifact: Artifact, registry: Registry) -> ModelInfo {
        lock.lock()
        if let hit = entries[artifact.sha256] { lock.unlock(); return hit }
        lock.unlock()
        let info: ModelInfo
        if artifact.size > Self.maxBytes {
            info = ModelInfo(summary: "", graphSVG: nil, dot: "", error: "model file of \(Format.bytes(artifact.size)) not loaded by the UI")
        } else {
            do {
                let model = try loadModel(registry.artifactURL(sha256: artifact.sha256).path)
                info = ModelInfo(summary: explain(model), graphSVG: graphSVG(model), dot: dotSource(model), error: nil)
            } catch {
                info = ModelInfo(summary: "", graphSVG: nil, dot: "", error: "not loadable as a model: \(error)")
            }
        }
        lock.lock(); defer { lock.unlock() }
        if entries[artifact.sha256] == nil {
            entries[artifact.sha256] = info; order.append(artifact.sha256)
            if order.count > Self.capacity { entries[order.removeFirst()] = nil }
        }
        return info
    }
}
