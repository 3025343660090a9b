import Classical
import Foundation
import Graph
import Lang
import Tensor
import Train

/// Data for the classical fitters from a dataset (features, labels, class names, feature
/// names), an {x, y} record of tensors or a tensor.
func fitData(_ a: Args, _ name: String = "data") throws -> FitData {
    let v = a[name]
    let d = try labelledData(v, name, a)
    guard d.x.rank == 2 else { throw a.invalid(name, "features must be a 2-D [rows, features] tensor, got shape \(d.x.shape)") }
    var features: [String]?
    if case .native(let ds as DatasetValue) = v { features = ds.ds.featureNames }
    if features?.count != d.x.shape[1] { features = nil }
    return FitData(x: try Matrix(d.x), y: d.y?.toDoubles(), classes: d.classes, features: features)
}

/// Training-set cluster labels of k-means models fitted in this process, by model revision
/// (not saved with the model: they are as long as the data).
final class FitLabels: @unchecked Sendable {
    static let shared = FitLabels()
    private let lock = NSLock()
    private var entries: [(UInt64, [Int])] = []
    func put(_ rev: UInt64, _ labels: [Int]) {
        lock.lock(); defer { lock.unlock() }
        entries.append((rev, labels))
        if entries.count > 32 { entries.removeFirst() }
    }
    func get(_ rev: UInt64) -> [Int]? {
        lock.lock(); defer { lock.unlock() }
        return entries.last { $0.0 == rev }?.1
    }
}

/// The fields a classical model adds to `model.<field>` (see ModelValue.field): coefficients
/// with feature names, centroids, labels, inertia, explained variance...
func classicalFieldNames(_ m: Model) -> [String] {
    guard let info = ClassicalInfo.stored(in: m) else { return [] }
    var names = ["kind", "features"]
    switch info.kind {
    case "linear_regression", "logistic_regression": names += ["coefficients", "intercept"]
    case "kmeans": names += ["centroids", "labels", "inertia", "sizes"]
    case "pca": names += ["components", "explained_variance", "explained_variance_ratio", "mean"]
    default: break
    }
    return names + info.scalars.keys.sorted().filter { !names.contains($0) }
}

func classicalField(_ m: Model, _ name: String) throws -> Value? {
    guard let info = ClassicalInfo.stored(in: m), classicalFieldNames(m).contains(name) || name == "summary" else { return nil }
    switch name {
    case "summary": return .string(info.summary)
    case "kind": return .string(info.kind)
    case "features": return .strings(info.features)
    case "coefficients":
        let w = info.vectors["coefficients"] ?? []
        let d = info.features.count, c = d > 0 ? w.count / d : 0
        // One number per feature; a multiclass model: one list per class.
        if c <= 1 { return .doubles(w) }
        return .list((0..<c).map { k in .doubles((0..<d).map { w[$0 * c + k] }) })
    case "intercept":
        if let s = info.scalars["intercept"] { return .float(s) }
        let b = info.vectors["intercept"] ?? []
        return b.count == 1 ? .float(b[0]) : .doubles(b)
    case "centroids":
        guard let c = m.graph.params["kmeans.centroids"] else { return .nil }
        return wrap(c)
    case "labels": return FitLabels.shared.get(m.revision).map { .list($0.map { .int($0) }) } ?? .nil
    case "sizes": return .list((info.vectors["sizes"] ?? []).map { .int(Int($0)) })
    case "components":
        let comp = info.vectors["components"] ?? [], d = info.features.count, k = d > 0 ? comp.count / d : 0
        // [k, d] like scikit-learn's components_.
        return wrap(try Tensor((0..<k).flatMap { i in (0..<d).map { comp[$0 * k + i] } }, shape: [k, d], dtype: .float64))
    default:
        if let s = info.scalars[name] { return .float(s) }
        if let v = info.vectors[name] { return .doubles(v) }
        return nil
    }
}
