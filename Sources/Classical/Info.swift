import Foundation
import Graph
import Tensor
import Train

/// What a fitted classical model remembers beside its graph (model blob "classical",
/// JSON): its kind, feature names, the scalars and vectors it reports (inertia, explained
/// variance...) and its printed summary. Travels with save/load and the registry.
public struct ClassicalInfo: Codable, Equatable, Sendable {
    /// "linear_regression", "logistic_regression", "kmeans", "pca", "knn", "naive_bayes".
    public var kind: String
    public var features: [String]
    public var scalars: [String: Double] = [:]
    public var vectors: [String: [Double]] = [:]
    public var summary: String = ""

    public init(kind: String, features: [String]) { self.kind = kind; self.features = features }

    public static let blobName = "classical"

    public static func stored(in m: Model) -> ClassicalInfo? {
        guard let text = m.blobs[blobName] else { return nil }
        return try? JSONDecoder().decode(ClassicalInfo.self, from: Data(text.utf8))
    }

    public func store(in m: inout Model) throws {
        var info = self
        // Table columns are padded; no line ends in spaces.
        info.summary = summary.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in String(line.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        m.blobs[Self.blobName] = String(decoding: try enc.encode(info), as: UTF8.self)
    }
}

/// Training data as the fitters take it: features (float64), optional labels, their class
/// names, and feature names for summaries.
public struct FitData {
    public var x: Matrix
    public var y: [Double]?
    public var classes: [String]?
    public var features: [String]
    public init(x: Matrix, y: [Double]? = nil, classes: [String]? = nil, features: [String]? = nil) {
        self.x = x; self.y = y; self.classes = classes
        self.features = features ?? (0..<x.cols).map { "f\($0)" }
    }

    func labels(_ fn: String) throws -> [Double] {
        guard let y else { throw ClassicalError("\(fn): the data has no labels (give a dataset with a label)") }
        guard y.count == x.rows else { throw ClassicalError("\(fn): \(y.count) labels for \(x.rows) rows") }
        for (i, v) in y.enumerated() where !v.isFinite { throw ClassicalError("\(fn): label at row \(i) is not a finite number") }
        return y
    }

    func checkFeatures(_ fn: String) throws {
        guard x.rows > 0, x.cols > 0 else { throw ClassicalError("\(fn): the data is empty (\(x.rows) rows, \(x.cols) features)") }
        for (k, v) in x.data.enumerated() where !v.isFinite {
            throw ClassicalError("\(fn): feature '\(features[k % x.cols])' at row \(k / x.cols) is not a finite number (impute it first)")
        }
    }

    /// Class codes 0..<C from the labels; C from the class names when known.
    func classCodes(_ fn: String) throws -> (codes: [Int], names: [String]) {
        let y = try labels(fn)
        var codes: [Int] = []
        codes.reserveCapacity(y.count)
        for (i, v) in y.enumerated() {
            guard v >= 0, v == v.rounded(), v < 65_536 else { throw ClassicalError("\(fn): label \(v) at row \(i) is not a class code (0, 1, 2...)") }
            codes.append(Int(v))
        }
        let c = Swift.max(classes?.count ?? 0, (codes.max() ?? 0) + 1, 2)
        let names = classes?.count == c ? classes! : (0..<c).map(String.init)
        return (codes, names)
    }
}

/// A graph x [batch, d] -> dense(W [d, c], b [c]) (the same node a `dense` layer makes).
func denseModel(_ w: Matrix, bias: [Double], name: String) throws -> Model {
    var g = Graph()
    let x = try g.input("x", shape: [.batch, .fixed(w.rows)])
    let wt = try g.param("\(name).weight", try w.tensor())
    let b = try g.param("\(name).bias", try Tensor(bias.map { Float($0) }, shape: [w.cols]))
    g.outputs = [try g.op(.dense, [x, wt, b], [:], label: name)]
    try g.verify()
    return Model(graph: g)
}

/// Numbers in summaries: 6 significant digits.
func num(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
    return String(format: "%.6g", v)
}

func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: Swift.max(0, w - s.count)) }
