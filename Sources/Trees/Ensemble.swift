import Foundation
import Graph
import Tensor
import Train

/// A fitted ensemble: trees, the output column each adds to, and how the sums map to
/// outputs (`TreeTransform`). It becomes (and is read back from) one `tree_ensemble` node.
public struct Ensemble: Equatable, Sendable {
    public var trees: [Tree] = []
    public var output: [Int] = []
    public var outputs: Int
    public var features: Int
    public var base: [Double]
    public var transform: TreeTransform
    public var scale = 1.0
    /// Feature names (for rules, importances and contributions); "x0", "x1"... when unknown.
    public var featureNames: [String]
    /// Category names of categorical features (code i is levels[i]); nil for numeric ones
    /// and for categorical features fitted on raw codes. Saved as the blob "categories".
    public var categories: [[String]?]

    public init(outputs: Int, features: Int, base: [Double], transform: TreeTransform, featureNames: [String]? = nil) {
        self.outputs = outputs; self.features = features; self.base = base; self.transform = transform
        self.featureNames = featureNames ?? (0..<features).map { "x\($0)" }
        categories = [[String]?](repeating: nil, count: features)
    }

    /// Largest node count of a model (float32 node indices stay exact below 2^24).
    public static let maxNodes = 1 << 24

    /// The flattened arrays the op reads: nodes [M, 8], trees [T, 2], meta [2 + K]. Each
    /// tree's nodes come first, then the word rows of its categorical nodes' bitsets
    /// (feature -2; see trees.h), so a tree's rows stay contiguous.
    public func tensors() throws -> (nodes: Tensor, trees: Tensor, meta: Tensor) {
        var nodes: [Float] = [], roots: [Float] = []
        var at = 0
        for (i, t) in trees.enumerated() {
            roots += [Float(at), Float(output[i])]
            var words: [Float] = []
            for n in 0..<t.nodeCount {
                let leaf = t.feature[n] < 0
                var threshold = leaf ? 0 : t.threshold[n], missing = Float(t.missingLeft[n])
                if !leaf && t.isCategorical(n) {
                    let rows = Ensemble.wordRows(t.cats[n])
                    threshold = Float(at + t.nodeCount + words.count / 8); missing = -Float(rows.count / 8)
                    words += rows
                }
                nodes += [Float(t.feature[n]), threshold, leaf ? 0 : Float(Int(t.left[n]) + at),
                          leaf ? 0 : Float(Int(t.right[n]) + at), leaf ? Float(t.value[n]) : 0, missing,
                          Float(t.gain[n]), Float(t.cover[n])]
            }
            nodes += words
            at += t.nodeCount + words.count / 8
        }
        guard at <= Ensemble.maxNodes else { throw TrainError("the ensemble has \(at) nodes, more than \(Ensemble.maxNodes)") }
        if trees.isEmpty { nodes = [-1, 0, 0, 0, 0, 0, 0, 0] }   // the op needs one node; no tree reads it
        let meta = [Float(transform.rawValue), Float(scale)] + base.map { Float($0) }
        return (try Tensor(nodes, shape: [Swift.max(at, 1), 8]), try Tensor(roots, shape: [trees.count, 2]), try Tensor(meta, shape: [meta.count]))
    }

    /// Largest category code a categorical node can hold (64 word rows of 7 · 24 bits).
    public static let maxCategoryCode = 64 * 7 * 24 - 1

    /// Word rows of a category set: [-2, seven 24-bit words] each.
    static func wordRows(_ cats: [Int32]) -> [Float] {
        let top = Int(cats.max() ?? 0)
        let count = top / (7 * 24) + 1
        var bits = [Int](repeating: 0, count: count * 7)
        for c in cats { bits[Int(c) / 24] |= 1 << (Int(c) % 24) }
        var out: [Float] = []
        for r in 0..<count { out.append(-2); for w in 0..<7 { out.append(Float(bits[r * 7 + w])) } }
        return out
    }

    /// The model: input x [batch, features] -> tree_ensemble -> [batch, outputs], with the
    /// task and feature names stored as blobs.
    public func model(task: ModelTask?) throws -> Model {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(features)])
        let (n, t, m) = try tensors()
        let ids = [try g.param("tree_nodes", n, trainable: false), try g.param("tree_roots", t, trainable: false),
                   try g.param("tree_meta", m, trainable: false)]
        let out = try g.op(.treeEnsemble, [x] + ids, label: "trees")
        g.outputs = [out]
        var model = Model(graph: g)
        model.task = task
        model.blobs[Ensemble.namesBlob] = featureNames.joined(separator: "\n")
        if categories.contains(where: { $0 != nil }) {
            var map: [String: [String]] = [:]
            for (f, levels) in categories.enumerated() { if let levels { map[featureNames[f]] = levels } }
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            model.blobs[Ensemble.categoriesBlob] = String(decoding: try enc.encode(map), as: UTF8.self)
        }
        return model
    }

    public static let namesBlob = "feature_names"
    /// JSON {feature name: [category names]} of the categorical features.
    public static let categoriesBlob = "categories"

    /// The ensemble inside a model (nil when the model has no tree_ensemble node).
    public static func of(_ m: Model) throws -> Ensemble? {
        let g = m.graph
        guard let node = g.nodes.first(where: { $0.op == .treeEnsemble }) else { return nil }
        func param(_ i: Int) throws -> [Float] {
            guard let t = g.params[g.nodes[node.inputs[i]].name] else { throw TrainError("tree_ensemble: input \(i) is not a stored parameter") }
            return t.toFloats()
        }
        let nodes = try param(1), roots = try param(2), meta = try param(3)
        guard let f = g.nodes[node.inputs[0]].shape.last?.size, meta.count >= 3, let tr = TreeTransform(rawValue: Int(meta[0])) else {
            throw TrainError("tree_ensemble: malformed meta")
        }
        var e = Ensemble(outputs: meta.count - 2, features: f, base: meta[2...].map(Double.init), transform: tr)
        e.scale = Double(meta[1])
        if let names = m.blobs[namesBlob]?.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), names.count == f {
            e.featureNames = names
        }
        if let text = m.blobs[categoriesBlob] {
            guard text.utf8.count <= 64 << 20, let map = try? JSONDecoder().decode([String: [String]].self, from: Data(text.utf8)) else {
                throw TrainError("tree model: the blob '\(categoriesBlob)' is not a JSON object of category lists")
            }
            for (name, levels) in map {
                guard let f = e.featureNames.firstIndex(of: name) else { throw TrainError("tree model: categories for unknown feature '\(name)'") }
                e.categories[f] = levels
            }
        }
        let m6 = nodes.count / 8
        for k in 0..<(roots.count / 2) {
            let root = Int(roots[2 * k])
            // Rows of this tree: from its root up to the next tree's root (they are
            // contiguous): its nodes, then the word rows of its categorical nodes.
            let end = k + 1 < roots.count / 2 ? Int(roots[2 * k + 2]) : m6
            guard root >= 0, root < end, end <= m6 else { throw TrainError("tree_ensemble: tree \(k) has bad node range") }
            var last = root
            while last < end && nodes[8 * last] != -2 { last += 1 }
            var t = Tree()
            t.feature = []; t.bin = []; t.threshold = []; t.missingLeft = []; t.left = []; t.right = []; t.value = []; t.gain = []; t.cover = []; t.cats = []
            for i in root..<last {
                let r = Array(nodes[(8 * i)..<(8 * i + 8)])
                let leaf = r[0] < 0
                guard r.allSatisfy({ !$0.isNaN }), r[0] < Float(f), leaf || (r[2] > Float(i) && r[2] < Float(last) && r[3] > Float(i) && r[3] < Float(last)) else {
                    throw TrainError("tree_ensemble: node \(i) is malformed")
                }
                var cats: [Int32] = []
                if !leaf && r[5] < 0 {
                    let first = Int(r[1]), count = Int(-r[5])
                    guard r[1] == r[1].rounded(), first >= last, count >= 1, count <= 64, first + count <= end else {
                        throw TrainError("tree_ensemble: categorical node \(i) points outside its tree's word rows")
                    }
                    for q in 0..<(count * 7) {
                        let w = nodes[8 * (first + q / 7) + 1 + q % 7]
                        guard w >= 0, w < 16_777_216, w == w.rounded() else { throw TrainError("tree_ensemble: word row of node \(i) is malformed") }
                        let bits = Int(w)
                        for b in 0..<24 where bits & (1 << b) != 0 { cats.append(Int32(q * 24 + b)) }
                    }
                    guard !cats.isEmpty else { throw TrainError("tree_ensemble: categorical node \(i) has no categories") }
                }
                t.feature.append(Int32(r[0])); t.bin.append(cats.isEmpty ? 0 : -1); t.threshold.append(cats.isEmpty ? r[1] : 0)
                t.missingLeft.append(cats.isEmpty ? UInt8(Swift.min(Swift.max(r[5], 0), 1)) : 0)
                t.left.append(leaf ? -1 : Int32(Int(r[2]) - root)); t.right.append(leaf ? -1 : Int32(Int(r[3]) - root))
                t.value.append(Double(r[4])); t.gain.append(Double(r[6])); t.cover.append(Double(r[7])); t.cats.append(cats)
            }
            e.trees.append(t); e.output.append(Int(roots[2 * k + 1]))
        }
        return e
    }

    /// Per-output scores before the op's nonlinear transform: base + sum (raw), base + sum ·
    /// scale (mean), the plain sum of leaf values (isolation: path lengths; logMean).
    public func rawScores(_ x: [Float], rows: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { xp in
            for i in 0..<rows {
                for (k, t) in trees.enumerated() { out[i * outputs + output[k]] += t.value[t.leaf(xp.baseAddress! + i * features)] }
                for c in 0..<outputs {
                    let v = out[i * outputs + c]
                    switch transform {
                    case .raw: out[i * outputs + c] = base[c] + v
                    case .mean: out[i * outputs + c] = base[c] + v * scale
                    case .isolation, .logMean: break
                    }
                }
            }
        }
        return out
    }
}
