import Foundation

/// How `impute` fills missing cells.
public enum ImputeStrategy: Equatable, Sendable {
    case mean, median
    /// The most frequent value (works for text columns too).
    case mostFrequent
    case constant(DataValue)

    /// From the MLW spelling: "mean", "median", "most_frequent" (or "mode"), or
    /// "constant" with `value`. Nil for an unknown name or "constant" without a value.
    public init?(name: String, value: DataValue? = nil) {
        switch name {
        case "mean": self = .mean
        case "median": self = .median
        case "most_frequent", "mode": self = .mostFrequent
        case "constant": guard let value else { return nil }; self = .constant(value)
        default: return nil
        }
    }
}

/// An unfitted transform step: what to do, not yet the numbers learned from data.
/// Fit a list of them on the training rows with `fitTransforms`, then replay the
/// resulting `FittedPipeline` on any data.
///
///     let prep = try fitTransforms(train, [.impute(.mean), .standardize()])
///
/// `columns: nil` means "every feature column the step applies to", resolved at fit
/// time (numeric columns for impute mean/median, standardize and min-max; text columns
/// for one-hot; the label for label encoding), so the replay is fixed.
public struct Transform: Sendable {
    enum Kind: @unchecked Sendable {
        case select([String]), drop([String]), rename([String: String])
        case impute(ImputeStrategy, [String]?)
        case standardize([String]?), minMax([String]?)
        case oneHot([String]?), labelEncode([String]?)
        case filter(String, ([String: DataValue]) -> Bool)
        case map(String, String, String, (DataValue) -> DataValue)
        case standardizeTarget, logTarget
        case custom(String, (Dataset) throws -> [FittedStep])
    }
    let kind: Kind

    public static func select(_ columns: [String]) -> Transform { Transform(kind: .select(columns)) }
    public static func drop(_ columns: [String]) -> Transform { Transform(kind: .drop(columns)) }
    public static func rename(_ mapping: [String: String]) -> Transform { Transform(kind: .rename(mapping)) }
    public static func impute(_ strategy: ImputeStrategy, columns: [String]? = nil) -> Transform {
        Transform(kind: .impute(strategy, columns))
    }
    /// (x - mean) / std with the training mean and population std (std 0 -> 1).
    public static func standardize(columns: [String]? = nil) -> Transform { Transform(kind: .standardize(columns)) }
    /// (x - min) / (max - min) with the training min and max (range 0 -> 1).
    public static func minMaxScale(columns: [String]? = nil) -> Transform { Transform(kind: .minMax(columns)) }
    /// Replaces each text column by one 0/1 float column per training level, named
    /// `column=level`. Unknown and missing values give all zeros.
    public static func oneHot(columns: [String]? = nil) -> Transform { Transform(kind: .oneHot(columns)) }
    /// Replaces text values by integer codes (levels sorted; numerically when they are
    /// numbers). Default: the label column. Unknown values are an error on replay.
    public static func labelEncode(columns: [String]? = nil) -> Transform { Transform(kind: .labelEncode(columns)) }
    /// Regression targets: the label column as (y - mean) / std with the training mean and
    /// population std. A model trained on it carries the transform and its predictions are
    /// mapped back to the label's units (`FittedPipeline.labelTransform`).
    public static func standardizeTarget() -> Transform { Transform(kind: .standardizeTarget) }
    /// Regression targets: the label column as log(1 + y) (values must be > -1); inverted
    /// with exp(v) - 1 at predict and serve time.
    public static func logTarget() -> Transform { Transform(kind: .logTarget) }
    /// A step whose fit is supplied from outside Frames (e.g. `pca`, fitted by the Classical
    /// module): `fit` learns plain-data fitted steps on the rows it is given, so the fitted
    /// pipeline saves and replays like any other.
    public static func custom(_ name: String, fit: @escaping (Dataset) throws -> [FittedStep]) -> Transform {
        Transform(kind: .custom(name, fit))
    }
    /// A row filter. Closures cannot be saved: a pipeline holding one cannot be encoded to
    /// JSON (`DataError.notSerializable`). Prefer `Dataset.filter` before fitting.
    public static func filter(_ name: String, _ predicate: @escaping ([String: DataValue]) -> Bool) -> Transform {
        Transform(kind: .filter(name, predicate))
    }
    /// A cell-wise map of `input` into `output`. Not serializable, like `filter`.
    public static func map(_ input: String, to output: String? = nil, name: String,
                           _ f: @escaping (DataValue) -> DataValue) -> Transform {
        Transform(kind: .map(input, output ?? input, name, f))
    }
}

/// Fits `steps` in order on `train` (each step sees the output of the ones before) and
/// returns the replayable pipeline, with statistics of the resulting training features.
///
///     let prep = try fitTransforms(parts.train, [.impute(.mean), .standardize()])
///     let testReady = try prep.apply(to: parts.test)
public func fitTransforms(_ train: Dataset, _ steps: [Transform]) throws -> FittedPipeline {
    var ds = train
    var fitted: [FittedStep] = []
    var closures: [Int: ClosureStep] = [:]
    let inputColumns = train.columnNames
    for step in steps {
        let made = try fit(step, on: ds)
        for f in made {
            if case .closure = f, let c = closureStep(step) { closures[fitted.count] = c }
            ds = try f.apply(to: ds, closure: closures[fitted.count])
            fitted.append(f)
        }
    }
    var p = FittedPipeline(steps: fitted, inputColumns: inputColumns, label: ds.label,
                           featureNames: ds.featureNames, labelLevels: labelLevels(ds),
                           stats: try FeatureStats(ds), trainedOn: train.lineage.hash)
    p.closures = closures
    return p
}

private func labelLevels(_ ds: Dataset) -> [String]? {
    guard let l = ds.label, let c = ds[l] else { return nil }
    if case .category(_, let levels) = c.data { return levels }
    return nil
}

private func closureStep(_ t: Transform) -> ClosureStep? {
    switch t.kind {
    case .filter(_, let p): return .filter(p)
    case .map(let i, let o, _, let f): return .map(i, o, f)
    default: return nil
    }
}

private func numericFeatures(_ ds: Dataset) -> [String] {
    ds.featureNames.filter { n in ds[n].map { $0.type == .int || $0.type == .float } ?? false }
}

private func textFeatures(_ ds: Dataset) -> [String] {
    ds.featureNames.filter { n in ds[n].map { $0.type == .string || $0.type == .category } ?? false }
}

/// Learns one step's parameters; column-wise steps expand into one fitted step per column.
private func fit(_ t: Transform, on ds: Dataset) throws -> [FittedStep] {
    func numeric(_ name: String) throws -> [Double] {
        let c = try ds.column(name)
        guard let v = c.doubles else {
            throw DataError(.badArgument, "column is \(c.type.rawValue), a numeric column is needed", column: name)
        }
        return v
    }
    switch t.kind {
    case .select(let c): return [.select(c)]
    case .drop(let c): return [.drop(c)]
    case .rename(let m): return [.rename(m)]
    case .filter(let name, _): return [.closure("filter " + name)]
    case .map(let i, let o, let name, _): return [.closure("map \(i)->\(o) " + name)]
    case .impute(let strategy, let cols):
        return try (cols ?? ds.featureNames).compactMap { name in
            let c = try ds.column(name)
            let isNumeric = c.doubles != nil
            switch strategy {
            case .constant(let v): return .impute(column: name, value: v)
            case .mostFrequent:
                let keys = isNumeric ? c.doubles!.filter { !$0.isNaN }.map { DataValue.double($0) }
                                     : c.strings!.compactMap { $0 }.map { DataValue.string($0) }
                var counts: [String: (Int, DataValue)] = [:]
                for k in keys { counts[valueKey(k), default: (0, k)].0 += 1 }
                guard let best = counts.sorted(by: { ($1.value.0, $0.key) < ($0.value.0, $1.key) }).first else { return nil }
                return .impute(column: name, value: best.value.1)
            case .mean, .median:
                // Text columns are left to other strategies when columns were not named.
                if !isNumeric { if cols == nil { return nil }; _ = try numeric(name) }
                let v = try numeric(name).filter { !$0.isNaN }
                if v.isEmpty { return .impute(column: name, value: .double(0)) }
                if strategy == .mean { return .impute(column: name, value: .double(RunningStats(v).mean)) }
                let s = v.sorted()
                let m = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
                return .impute(column: name, value: .double(m))
            }
        }
    case .standardize(let cols):
        return try (cols ?? numericFeatures(ds)).map { name in
            let st = RunningStats(try numeric(name))
            return .standardize(column: name, mean: st.count > 0 ? st.mean : 0, std: st.std > 0 ? st.std : 1)
        }
    case .minMax(let cols):
        return try (cols ?? numericFeatures(ds)).map { name in
            let st = RunningStats(try numeric(name))
            let lo = st.count > 0 ? st.min : 0, hi = st.count > 0 ? st.max : 1
            return .minMax(column: name, min: lo, max: hi > lo ? hi : lo + 1)
        }
    case .oneHot(let cols):
        return try (cols ?? textFeatures(ds)).map { name in
            .oneHot(column: name, levels: sortedLevels(try ds.column(name)))
        }
    case .standardizeTarget, .logTarget:
        guard let label = ds.label, let c = ds[label] else {
            throw DataError(.badArgument, "a target transform needs a dataset with a label column")
        }
        guard let v = c.doubles else {
            throw DataError(.badArgument, "the label is \(c.type.rawValue); target transforms are for numeric (regression) labels", column: label)
        }
        if case .logTarget = t.kind {
            if let r = v.firstIndex(where: { !$0.isNaN && $0 <= -1 }) {
                throw DataError(.badArgument, "log_target needs label values above -1, got \(formatNumber(v[r]))", line: ds.sourceLines[r], column: label)
            }
            return [.logTarget(column: label)]
        }
        let st = RunningStats(v)
        return [.standardizeTarget(column: label, mean: st.count > 0 ? st.mean : 0, std: st.std > 0 ? st.std : 1)]
    case .custom(_, let f): return try f(ds)
    case .labelEncode(let cols):
        let names = cols ?? [ds.label].compactMap { $0 }.filter { ds[$0]?.strings != nil }
        return try names.map { name in .labelEncode(column: name, levels: sortedLevels(try ds.column(name))) }
    }
}

/// Distinct non-missing values in a stable order: numeric order when all are numbers.
func sortedLevels(_ c: Column) -> [String] {
    let values: [String]
    if let s = c.strings { values = Array(Set(s.compactMap { $0 })) }
    else { values = Array(Set(c.doubles!.filter { !$0.isNaN }.map(formatNumber))) }
    let nums = values.map { NumberParsing.parseDouble($0) }
    if nums.allSatisfy({ $0 != nil }) {
        return zip(values, nums).sorted { $0.1! < $1.1! }.map(\.0)
    }
    return values.sorted()
}
