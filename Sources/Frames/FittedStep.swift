import Foundation

/// A closure step kept beside a pipeline; it cannot be encoded.
enum ClosureStep: @unchecked Sendable {
    case filter(([String: DataValue]) -> Bool)
    case map(String, String, (DataValue) -> DataValue)
}

/// One fitted, replayable step with the parameters learned on the training rows.
/// Encodes to JSON as `{"standardize": {"column": "x", "mean": 5.8, "std": 0.83}}`.
public enum FittedStep: Codable, Equatable, Sendable {
    case select([String])
    case drop([String])
    case rename([String: String])
    case impute(column: String, value: DataValue)
    case standardize(column: String, mean: Double, std: Double)
    case minMax(column: String, min: Double, max: Double)
    case oneHot(column: String, levels: [String])
    case labelEncode(column: String, levels: [String])
    /// A filter/map closure, known only by its name; not serializable.
    case closure(String)
    /// Regression label transforms (they act on the label column only; records, which have
    /// no label, pass unchanged): see `FittedPipeline.labelTransform`.
    case standardizeTarget(column: String, mean: Double, std: Double)
    case logTarget(column: String)
    /// A linear projection of numeric columns (a fitted PCA): the `columns` are replaced by
    /// `outputs`, output i = Σⱼ (xⱼ − meanⱼ)·weights[j·k + i] (k = outputs.count). The
    /// numbers are plain data; the fit is supplied from outside Frames (`Transform.custom`).
    case project(columns: [String], mean: [Double], weights: [Double], outputs: [String])

    /// Stable text for lineage.
    var lineageText: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? enc.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "\(self)"
    }

    // MARK: dataset replay

    func apply(to ds: Dataset, closure: ClosureStep?) throws -> Dataset {
        switch self {
        case .select(let c): return try ds.select(c)
        case .drop(let c): return try ds.drop(c)
        case .rename(let m): return try ds.rename(m)
        case .closure(let name):
            switch closure {
            case .filter(let p)?: return ds.filter(name, p)
            case .map(let i, let o, let f)?: return try ds.map(i, to: o, name: name, f)
            case nil: throw DataError(.notSerializable, "pipeline step '\(name)' lost its closure (pipelines with closures cannot be saved)")
            }
        case .impute(let name, let value):
            var out = ds
            let i = try index(ds, name)
            var c = ds.columns[i]
            switch c.data {
            case .float(var v):
                let fill = try number(value, name)
                for r in 0..<v.count where c.missing[r] { v[r] = fill }
                c.data = .float(v)
            case .int(var v):
                let fill = try number(value, name)
                if fill == fill.rounded() {
                    for r in 0..<v.count where c.missing[r] { v[r] = Int(fill) }
                    c.data = .int(v)
                } else {
                    var d = v.map(Double.init)
                    for r in 0..<d.count where c.missing[r] { d[r] = fill }
                    c.data = .float(d)
                }
            case .string(var v):
                for r in 0..<v.count where c.missing[r] { v[r] = value.description }
                c.data = .string(v)
            case .category(var codes, var levels):
                let text = value.description
                var code = levels.firstIndex(of: text).map(Int32.init)
                if code == nil { code = Int32(levels.count); levels.append(text) }
                for r in 0..<codes.count where codes[r] < 0 { codes[r] = code! }
                c.data = .category(codes: codes, levels: levels)
            }
            c.missing = [Bool](repeating: false, count: c.count)
            out.columns[i] = c
            return withLineage(out, "impute", lineageText)
        case .standardize(let name, let mean, let std):
            return try mapNumeric(ds, name) { ($0 - mean) / std }
        case .minMax(let name, let lo, let hi):
            return try mapNumeric(ds, name) { ($0 - lo) / (hi - lo) }
        case .standardizeTarget(let name, let mean, let std):
            return ds[name] == nil ? ds : try mapNumeric(ds, name) { ($0 - mean) / std }
        case .logTarget(let name):
            guard let v = ds[name]?.doubles else { return ds }
            if let r = v.firstIndex(where: { !$0.isNaN && $0 <= -1 }) {
                throw DataError(.badArgument, "log_target needs label values above -1, got \(formatNumber(v[r]))", line: ds.sourceLines[r], column: name)
            }
            return try mapNumeric(ds, name) { Foundation.log1p($0) }
        case .oneHot(let name, let levels):
            let i = try index(ds, name)
            let c = ds.columns[i]
            let texts = c.strings ?? c.doubles!.map { $0.isNaN ? nil : formatNumber($0) }
            let where_ = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
            var cols = levels.map { _ in [Double](repeating: 0, count: c.count) }
            for r in 0..<c.count { if let t = texts[r], let k = where_[t] { cols[k][r] = 1 } }
            var out = ds
            let newNames = levels.map { "\(name)=\($0)" }
            out.columns.replaceSubrange(i...i, with: zip(newNames, cols).map { Column(name: $0, data: .float($1)) })
            if let f = ds.explicitFeatures, let j = f.firstIndex(of: name) {
                out.explicitFeatures!.replaceSubrange(j...j, with: newNames)
            }
            return withLineage(out, "one_hot", lineageText)
        case .project(let cols, let mean, let w, let outputs):
            return try projectDataset(ds, cols, mean, w, outputs)
        case .labelEncode(let name, let levels):
            let i = try index(ds, name)
            let c = ds.columns[i]
            let texts = c.strings ?? c.doubles!.map { $0.isNaN ? nil : formatNumber($0) }
            let where_ = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, Int32($0)) })
            var codes = [Int32](repeating: -1, count: c.count)
            for r in 0..<c.count {
                guard let t = texts[r] else { continue }
                guard let k = where_[t] else {
                    throw DataError(.badArgument, "value '\(t)' was not seen when the encoder was fitted",
                                    line: ds.sourceLines[r], column: name)
                }
                codes[r] = k
            }
            var out = ds
            out.columns[i] = Column(name: name, data: .category(codes: codes, levels: levels))
            return withLineage(out, "label_encode", lineageText)
        }
    }

    private func index(_ ds: Dataset, _ name: String) throws -> Int {
        guard let i = ds.index(of: name) else { _ = try ds.column(name); return 0 }
        return i
    }

    private func number(_ v: DataValue, _ column: String) throws -> Double {
        if let n = v.number { return n }
        if case .string(let s) = v, let n = NumberParsing.parseDouble(s) { return n }
        throw DataError(.badArgument, "fill value '\(v)' is not a number", column: column)
    }

    private func mapNumeric(_ ds: Dataset, _ name: String, _ f: (Double) -> Double) throws -> Dataset {
        let i = try index(ds, name)
        let c = ds.columns[i]
        guard let v = c.doubles else {
            throw DataError(.badArgument, "column is \(c.type.rawValue), a numeric column is needed", column: name)
        }
        var out = ds
        out.columns[i] = Column(name: name, data: .float(v.map { $0.isNaN ? $0 : f($0) }), missing: c.missing)
        return withLineage(out, "transform", lineageText)
    }

    // MARK: record replay

    /// Applies the step to one raw record in place (absent fields count as null).
    func apply(toRecord r: inout [String: DataValue], closure: ClosureStep?) throws {
        func numeric(_ name: String) throws -> Double? {
            let v = r[name] ?? .null
            if v.isNull { return nil }
            if let n = v.number { return n }
            if case .string(let s) = v, let n = NumberParsing.parseDouble(s) { return n }
            throw DataError(.missingField, "field '\(name)' must be a number, got '\(v)'", column: name)
        }
        switch self {
        case .select(let c):
            r = r.filter { c.contains($0.key) }
        case .drop(let c):
            for n in c { r[n] = nil }
        case .rename(let m):
            for (old, new) in m { if let v = r.removeValue(forKey: old) { r[new] = v } }
        case .closure(let name):
            switch closure {
            case .filter(let p)?:
                if !p(r) { throw DataError(.badArgument, "record rejected by filter '\(name)'") }
            case .map(let i, let o, let f)?: r[o] = f(r[i] ?? .null)
            case nil: throw DataError(.notSerializable, "pipeline step '\(name)' lost its closure")
            }
        case .standardizeTarget, .logTarget:
            return
        case .impute(let name, let value):
            if (r[name] ?? .null).isNull { r[name] = value }
        case .standardize(let name, let mean, let std):
            if let x = try numeric(name) { r[name] = .double((x - mean) / std) }
        case .minMax(let name, let lo, let hi):
            if let x = try numeric(name) { r[name] = .double((x - lo) / (hi - lo)) }
        case .oneHot(let name, let levels):
            let v = r.removeValue(forKey: name) ?? .null
            let key = v.isNull ? nil : (v.number.map(formatNumber) ?? v.description)
            for l in levels { r["\(name)=\(l)"] = .double(l == key ? 1 : 0) }
        case .project(let cols, let mean, let w, let outputs):
            let x = try cols.map { c in
                guard let v = try numeric(c) else { throw DataError(.missingField, "missing field '\(c)'", column: c) }
                return v
            }
            for c in cols { r[c] = nil }
            for (i, z) in projectRow(x, mean, w, outputs.count).enumerated() { r[outputs[i]] = .double(z) }
        case .labelEncode(let name, let levels):
            guard let v = r[name], !v.isNull else { return }
            let key = v.number.map(formatNumber) ?? v.description
            guard let k = levels.firstIndex(of: key) else {
                throw DataError(.badArgument, "field '\(name)': value '\(v)' was not seen in training (known: \(levels.joined(separator: ", ")))", column: name)
            }
            r[name] = .int(k)
        }
    }
}

extension FittedStep {
    /// The label column of a target transform step; nil for every other step.
    public var labelColumn: String? {
        switch self {
        case .standardizeTarget(let c, _, _), .logTarget(let c): return c
        default: return nil
        }
    }
}
