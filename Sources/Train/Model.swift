import Graph
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// A trained or untrained model: its graph (with weights) and attached blobs — named
/// strings that travel with the model file (fitted data transforms JSON, training-data
/// statistics) so a server can take raw records.
public struct Model {
    /// Any change to the graph — training's result, pruning, quantization, an edited weight —
    /// gives the model a new `revision`.
    public var graph: Graph { didSet { revision = nextRevision() } }
    public var blobs: [String: String] = [:]
    /// Unique in the process per graph state: made when a model is created (built, loaded)
    /// and again whenever its graph changes, so two values with the same revision hold the
    /// same graph and weights. Inference caches its compiled form by it (not by the
    /// addresses of weight buffers, which a later tensor may reuse).
    public private(set) var revision: UInt64
    public init(graph: Graph, blobs: [String: String] = [:]) { self.graph = graph; self.blobs = blobs; revision = nextRevision() }

    public var inputName: String { graph.inputNames.first ?? "x" }
    public var inputShape: SymShape { graph.nodes[graph.inputs[0]].shape }
    public var outputShape: SymShape { graph.nodes[graph.outputs[0]].shape }
}

/// Errors from building, training, evaluating or loading models.
public struct TrainError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Weight initialisers. All draw from the Tensor engine's counter-based `randn`, so a
/// weight is a pure function of (model seed, layer index).
public enum Initializer: Sendable {
    case he, glorot, zeros
    func make(_ shape: [Int], fanIn: Int, fanOut: Int, seed: UInt64) throws -> Tensor {
        switch self {
        case .zeros: return try Tensor.zeros(shape)
        case .he: return try Tensor.randn(shape, seed: seed, dtype: .float32) * (2.0 / Double(max(fanIn, 1))).squareRoot()
        case .glorot: return try Tensor.randn(shape, seed: seed, dtype: .float32) * (2.0 / Double(max(fanIn + fanOut, 1))).squareRoot()
        }
    }
}

/// Number of trainable parameters.
public func params(_ m: Model) -> Int { m.graph.parameterCount }

/// A table of layers: name, op, output shape, parameter count.
public func summary(_ m: Model) -> String {
    let g = m.graph
    var rows: [(String, String, String, Int)] = []
    for n in g.nodes where n.op != .param {
        let count = n.inputs.filter { g.nodes[$0].op == .param && !g.buffers.contains(g.nodes[$0].name) }
            .reduce(0) { $0 + (g.params[g.nodes[$1].name]?.count ?? 0) }
        rows.append((n.name, n.op == .dense && n.attrs.activation != Activation.none ? "dense+relu" : n.op.rawValue, formatShape(n.shape), count))
    }
    let w0 = max(5, rows.map(\.0.count).max() ?? 0), w1 = max(2, rows.map(\.1.count).max() ?? 0), w2 = max(12, rows.map(\.2.count).max() ?? 0)
    func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
    var out = pad("layer", w0) + "  " + pad("op", w1) + "  " + pad("output shape", w2) + "  params\n"
    for r in rows { out += pad(r.0, w0) + "  " + pad(r.1, w1) + "  " + pad(r.2, w2) + "  \(r.3)\n" }
    out += "total trainable parameters: \(params(m))"
    if let t = m.task { out += "\ntask: " + t.summary(outputWidth: m.outputShape.last?.size ?? 1) }
    return out
}

/// The last revision handed out, under `revisionLock` (models are made on any thread).
nonisolated(unsafe) private var lastRevision: UInt64 = 0
nonisolated(unsafe) private let revisionLock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
}()

func nextRevision() -> UInt64 {
    pthread_mutex_lock(revisionLock)
    defer { pthread_mutex_unlock(revisionLock) }
    lastRevision += 1
    return lastRevision
}
