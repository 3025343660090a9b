import Foundation
import Graph
import Tensor
import Train

/// `knn`: the training rows and labels become parameters, and the graph is
/// sq_dist(x, points) → top_k (smallest) → knn_vote: exact neighbours, found by one
/// distance product per batch and partial selection. Classifier: log vote shares per class
/// (a softmax of them gives the shares back); regressor: the (weighted) mean label.
public func knnModel(_ data: FitData, k: Int, metric: String, weights: String, classifier: Bool?) throws -> Model {
    let fn = "knn"
    try data.checkFeatures(fn)
    let y = try data.labels(fn)
    guard k >= 1, k <= data.x.rows else { throw ClassicalError("\(fn): k = \(k) must be between 1 and the \(data.x.rows) rows") }
    guard metric == "euclidean" || metric == "cosine" else { throw ClassicalError("\(fn): metric must be \"euclidean\" or \"cosine\", got \"\(metric)\"") }
    guard weights == "uniform" || weights == "distance" else { throw ClassicalError("\(fn): weights must be \"uniform\" or \"distance\", got \"\(weights)\"") }
    let isClassifier = classifier ?? (data.classes != nil || y.allSatisfy { $0 >= 0 && $0 == $0.rounded() && $0 < 65_536 })
    var names: [String] = []
    if isClassifier { names = try data.classCodes(fn).names }
    var g = Graph()
    let x = try g.input("x", shape: [.batch, .fixed(data.x.cols)])
    let pts = try g.param("knn.points", try data.x.tensor(), trainable: false)
    let lab = try g.param("knn.labels", try Tensor(y.map { Float($0) }, shape: [y.count]), trainable: false)
    let dist = try g.op(.sqDist, [x, pts], ["metric": .string(metric)], label: "knn.distances")
    let idx = try g.op(.topK, [dist], ["k": .int(k), "smallest": .bool(true)], label: "knn.neighbours")
    let dv = try g.op(.topKValues, [dist], ["k": .int(k), "smallest": .bool(true)], label: "knn.neighbour_distances")
    g.outputs = [try g.op(.knnVote, [idx, dv, lab], ["classes": .int(names.count), "weights": .string(weights),
                                                     "squared": .bool(metric == "euclidean")], label: "knn.vote")]
    try g.verify()
    var m = Model(graph: g)
    m.task = isClassifier ? ModelTask(kind: names.count == 2 ? .binary : .multiclass, classes: names) : ModelTask(kind: .regression)
    var info = ClassicalInfo(kind: "knn", features: data.features)
    info.scalars["k"] = Double(k)
    info.summary = "k-nearest neighbours \(isClassifier ? "classifier (\(names.count) classes)" : "regressor"): k = \(k), \(metric) distance, \(weights) weights, \(data.x.rows) stored rows of \(data.x.cols) features"
    try info.store(in: &m)
    return m
}

/// The k nearest training rows of each query row (indices best first, and distances:
/// Euclidean, or cosine distance), from a kNN model's stored points.
public func kNeighbors(_ m: Model, _ q: Tensor, k: Int? = nil) throws -> (indices: [[Int]], distances: [[Double]]) {
    guard let pts = m.graph.params["knn.points"], let node = m.graph.nodes.first(where: { $0.op == .topK }),
          let dnode = m.graph.nodes.first(where: { $0.op == .sqDist }) else { throw ClassicalError("kneighbors: the model is not a kNN model") }
    let kk = k ?? node.attrs.int("k", 1)
    guard q.rank == 2, q.shape[1] == pts.shape[1] else { throw ClassicalError("kneighbors: queries must be [n, \(pts.shape[1])], got \(q.shape)") }
    guard kk >= 1, kk <= pts.shape[0] else { throw ClassicalError("kneighbors: k = \(kk) must be between 1 and \(pts.shape[0])") }
    let cosine = dnode.attrs.string("metric", "euclidean") == "cosine"
    let rows = q.shape[0], cols = pts.shape[0]
    // Blocks of queries keep the [block, n] distance matrix near 64 MB whatever the sizes.
    let block = Swift.max(1, Swift.min(rows, (1 << 24) / Swift.max(cols, 1)))
    var indices: [[Int]] = [], distances: [[Double]] = []
    var lo = 0
    while lo < rows {
        let hi = Swift.min(rows, lo + block)
        let d = try pairwiseDistances(try q.slice(axis: 0, start: lo, stop: hi), pts, cosine: cosine)
        let r = topKRows(d.toFloats(), rows: hi - lo, cols: cols, k: kk, smallest: true)
        for i in 0..<(hi - lo) {
            indices.append((0..<kk).map { Int(r.indices[i * kk + $0]) })
            distances.append((0..<kk).map { cosine ? Double(r.values[i * kk + $0]) : Double(r.values[i * kk + $0]).squareRoot() })
        }
        lo = hi
    }
    return (indices, distances)
}
