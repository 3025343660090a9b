import Frames
import Lang
import Tensor
import Train
import Trees

/// Data as the tree builtins read it: like `train`'s, except that missing feature cells
/// are allowed (NaN: the trees learn where they go).
struct TreeInput {
    var data: TreeData
    var names: [String]?
    var classes: [String]?
    var target: TargetTransform?
    var hasLabels: Bool
}

func treeInput(_ v: Value, _ name: String, _ a: Args) throws -> TreeInput {
    if case .native(let d as DatasetValue) = v {
        let ds = d.ds
        let names = ds.featureNames
        guard !names.isEmpty else { throw a.invalid(name, "has no feature columns") }
        let rows = ds.rowCount
        var x = [Float](repeating: .nan, count: rows * names.count)
        for (j, n) in names.enumerated() {
            let c = try ds.column(n)
            switch c.data {
            case .float(let vs): for i in 0..<rows where !c.missing[i] { x[i * names.count + j] = Float(vs[i]) }
            case .int(let vs): for i in 0..<rows where !c.missing[i] { x[i * names.count + j] = Float(vs[i]) }
            case .string, .category:
                throw a.invalid(name, "feature column '\(n)' is \(c.type.rawValue); one-hot or label-encode it first")
            }
        }
        var y: [Float] = [], classes: [String]?
        if let l = ds.label {
            let c = try ds.column(l)
            if let r = c.missing.firstIndex(of: true) { throw a.invalid(name, "missing label in column '\(l)' (line \(ds.sourceLines[r]))") }
            switch c.data {
            case .float(let vs): y = vs.map(Float.init)
            case .int(let vs): y = vs.map(Float.init)
            case .category(let codes, let levels): y = codes.map(Float.init); classes = levels
            case .string: throw a.invalid(name, "label column '\(l)' is text; label-encode it first")
            }
        }
        return TreeInput(data: TreeData(x: x, y: y, rows: rows, features: names.count), names: names, classes: classes,
                         target: targetTransform(FittedPipeline.labelTransform(of: ds)), hasLabels: ds.label != nil)
    }
    let d = try labelledData(v, name, a)
    guard d.x.rank == 2 else { throw a.invalid(name, "features must be [rows, features], got \(d.x.shape)") }
    let x = try d.x.astype(.float32).toFloats()
    return TreeInput(data: TreeData(x: x, y: d.y.map { $0.toFloats() } ?? [], rows: d.x.shape[0], features: d.x.shape[1]),
                     names: nil, classes: d.classes, target: d.target, hasLabels: d.y != nil)
}

/// The tree task a label implies: class names or 0/1 labels are classification, else regression.
func inferTask(_ t: TreeInput, _ asked: String, _ a: Args) throws -> (TaskKind, Int) {
    let distinct = Set(t.data.y)
    let integral = t.data.y.allSatisfy { $0 == $0.rounded() && $0 >= 0 }
    let classes = t.classes?.count ?? (integral ? Int(distinct.max() ?? 0) + 1 : 0)
    switch asked {
    case "auto":
        if let c = t.classes { return c.count <= 2 ? (.binary, 2) : (.multiclass, c.count) }
        if integral && distinct.isSubset(of: [0, 1]) { return (.binary, 2) }
        return (.regression, 1)
    case "regression": return (.regression, 1)
    case "binary", "multiclass":
        guard integral else { throw a.invalid("task", "\(asked) needs class codes 0, 1, ... as labels") }
        if asked == "binary" {
            guard classes <= 2 else { throw a.invalid("task", "binary, but the labels hold \(classes) classes") }
            return (.binary, 2)
        }
        guard classes <= 10_000 else { throw a.invalid("task", "\(classes) classes is more than the limit of 10000") }
        return (.multiclass, Swift.max(classes, 3))
    default: throw a.invalid("task", "must be \"auto\", \"regression\", \"binary\" or \"multiclass\", got '\(asked)'")
    }
}

/// The stats blob for drift monitoring (only when no feature cell is missing: the
/// statistics have no notion of missing values).
func treeStats(_ d: TreeData) throws -> String? {
    guard d.rows > 0, !d.x.contains(where: \.isNaN) else { return nil }
    return try statsJSON(try Tensor(d.x, shape: [d.rows, d.features]))
}
