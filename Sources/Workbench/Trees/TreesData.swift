import Frames
import Lang
import Tensor
import Train
import Trees

/// Data as the tree builtins read it: like `train`'s, except that missing feature cells
/// are allowed (NaN: the trees learn where they go) and text columns can be categorical
/// features (their category codes, by frequency; `categories` names them).
struct TreeInput {
    var data: TreeData
    var names: [String]?
    var classes: [String]?
    var target: TargetTransform?
    var hasLabels: Bool
    /// Category names of each categorical feature (nil: numeric, or raw codes).
    var categories: [[String]?]
}

/// Which features are categorical when fitting: `auto` (text columns), or the named ones
/// (text columns not named are an error; `[]`: none).
enum CategoricalChoice {
    case auto
    case named([String])

    init(_ a: Args) throws {
        switch a["categorical"] {
        case .string("auto"): self = .auto
        case .list(let l):
            self = .named(try l.map { v in
                guard case .string(let s) = v else { throw a.bad("categorical", "\"auto\" or a list of column names", v) }
                return s
            })
        case let v: throw a.bad("categorical", "\"auto\" or a list of column names", v)
        }
    }
}

/// How category values are coded: fitting (`fit`: choose the columns, learn the levels,
/// keeping at most `cap` by frequency; the rest are "other") or applying a fitted model's
/// levels (`apply`: unseen categories become NaN, which categorical splits send right).
enum CategoryCoding {
    case fit(CategoricalChoice, cap: Int)
    case apply([[String]?])
    case none
}

/// The text of a category value (numbers as JSON writes them: 3, not 3.0).
func categoryText(_ v: Double) -> String {
    if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int(v)) }
    return String(v)
}

/// Levels of one column, most frequent first (ties by name), at most `cap`.
func fitLevels(_ texts: [String?], cap: Int) -> [String] {
    var counts: [String: Int] = [:]
    for t in texts { if let t { counts[t, default: 0] += 1 } }
    return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(cap).map(\.key)
}

func treeInput(_ v: Value, _ name: String, _ a: Args, coding: CategoryCoding = .none) throws -> TreeInput {
    if case .native(let d as DatasetValue) = v {
        let ds = d.ds
        let names = ds.featureNames
        guard !names.isEmpty else { throw a.invalid(name, "has no feature columns") }
        if case .fit(.named(let listed), _) = coding, let bad = listed.first(where: { !names.contains($0) }) {
            throw a.invalid("categorical", "'\(bad)' is not a feature column (features: \(names.joined(separator: ", ")))")
        }
        if case .apply(let levels) = coding, levels.count != names.count {
            throw a.invalid(name, "has \(names.count) features, the model takes \(levels.count)")
        }
        let rows = ds.rowCount
        var x = [Float](repeating: .nan, count: rows * names.count)
        var categories = [[String]?](repeating: nil, count: names.count)
        for (j, n) in names.enumerated() {
            let c = try ds.column(n)
            let text = c.type == .string || c.type == .category
            var levels: [String]?
            switch coding {
            case .fit(.auto, let cap): if text { levels = fitLevels(c.strings!, cap: cap) }
            case .fit(.named(let listed), let cap):
                if listed.contains(n) { levels = fitLevels(c.strings ?? c.doubles!.map { $0.isNaN ? nil : categoryText($0) }, cap: cap) }
            case .apply(let l): levels = l[j]
            case .none: break
            }
            if let levels {
                let code = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, Float($0)) })
                let texts = c.strings ?? c.doubles!.map { $0.isNaN ? nil : categoryText($0) }
                for i in 0..<rows { if let t = texts[i], let k = code[t] { x[i * names.count + j] = k } }
                categories[j] = levels
                continue
            }
            switch c.data {
            case .float(let vs): for i in 0..<rows where !c.missing[i] { x[i * names.count + j] = Float(vs[i]) }
            case .int(let vs): for i in 0..<rows where !c.missing[i] { x[i * names.count + j] = Float(vs[i]) }
            case .string, .category:
                if case .fit(.named, _) = coding {
                    throw a.invalid(name, "feature column '\(n)' is \(c.type.rawValue); name it in categorical: (or one-hot it)")
                }
                throw a.invalid(name, "feature column '\(n)' is \(c.type.rawValue); the model takes it as a number (one-hot or label-encode it first)")
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
        let flags = categories.map { $0 != nil }
        return TreeInput(data: TreeData(x: x, y: y, rows: rows, features: names.count, categorical: flags.contains(true) ? flags : nil),
                         names: names, classes: classes, target: targetTransform(FittedPipeline.labelTransform(of: ds)),
                         hasLabels: ds.label != nil, categories: categories)
    }
    let d = try labelledData(v, name, a)
    guard d.x.rank == 2 else { throw a.invalid(name, "features must be [rows, features], got \(d.x.shape)") }
    let x = try d.x.astype(.float32).toFloats()
    let f = d.x.shape[1]
    // Tensors hold category codes already: named columns (x0, x1, ...) are split as codes.
    var flags: [Bool]?
    if case .fit(.named(let listed), _) = coding, !listed.isEmpty {
        var fl = [Bool](repeating: false, count: f)
        for n in listed {
            guard n.hasPrefix("x"), let j = Int(n.dropFirst()), j >= 0, j < f else {
                throw a.invalid("categorical", "'\(n)' is not a feature of the tensor (its features are x0 ... x\(f - 1))")
            }
            fl[j] = true
        }
        flags = fl
    }
    return TreeInput(data: TreeData(x: x, y: d.y.map { $0.toFloats() } ?? [], rows: d.x.shape[0], features: f, categorical: flags),
                     names: nil, classes: d.classes, target: d.target, hasLabels: d.y != nil,
                     categories: [[String]?](repeating: nil, count: f))
}

/// A dataset as a tree model with categorical features takes it for `predict` and
/// `evaluate`: text cells coded with the model's category names (unseen: NaN, which goes
/// the "other" way). nil when the model has no category names.
func categoricalData(_ ds: DatasetValue, _ a: Args) throws -> LabelledData? {
    guard a.function.params.contains(where: { $0.name == "model" }), case .native(let mv as ModelValue) = a["model"],
          mv.model.blobs[Ensemble.categoriesBlob] != nil, let e = try? Ensemble.of(mv.model) else { return nil }
    let t = try treeInput(.native(ds), "data", a, coding: .apply(e.categories))
    let y = t.hasLabels ? try Tensor(t.data.y, shape: [t.data.rows]) : nil
    return LabelledData(x: try Tensor(t.data.x, shape: [t.data.rows, t.data.features]), y: y, classes: t.classes, target: t.target)
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
