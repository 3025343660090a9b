import Foundation
import JSON

/// A fitted transform chain: a value that replays on new datasets and on single raw
/// records, and saves to JSON (inside model files; the server applies it to requests).
///
///     let prep = try fitTransforms(train, [.impute(.mean), .standardize()])
///     let json = try prep.jsonData()
///     let again = try FittedPipeline(json: json)
///     let x: [Float] = try again.apply(toRecord: ["sepal_length": .double(5.1), ...])
public struct FittedPipeline: Codable, Equatable, Sendable {
    /// Format version of the JSON.
    public var version = 1
    public var steps: [FittedStep]
    /// Columns of the training data before any step.
    public var inputColumns: [String]
    public var label: String?
    /// Output feature columns, in matrix column order.
    public var featureNames: [String]
    /// Class names when the label is a category (code i is labelLevels[i]).
    public var labelLevels: [String]?
    /// Statistics of the fitted training features (for drift monitoring).
    public var stats: FeatureStats
    /// Lineage hash of the training data the pipeline was fitted on.
    public var trainedOn: String
    /// Closure steps by step index; never encoded.
    var closures: [Int: ClosureStep] = [:]

    enum CodingKeys: String, CodingKey {
        case version, steps, inputColumns, label, featureNames, labelLevels, stats, trainedOn
    }

    init(steps: [FittedStep], inputColumns: [String], label: String?, featureNames: [String],
         labelLevels: [String]?, stats: FeatureStats, trainedOn: String) {
        self.steps = steps; self.inputColumns = inputColumns; self.label = label
        self.featureNames = featureNames; self.labelLevels = labelLevels; self.stats = stats; self.trainedOn = trainedOn
    }

    public static func == (a: FittedPipeline, b: FittedPipeline) -> Bool {
        a.version == b.version && a.steps == b.steps && a.inputColumns == b.inputColumns && a.label == b.label
            && a.featureNames == b.featureNames && a.labelLevels == b.labelLevels && a.stats == b.stats
            && a.trainedOn == b.trainedOn
    }

    /// False when a filter/map closure is part of the chain.
    public var isSerializable: Bool {
        !steps.contains { if case .closure = $0 { return true }; return false }
    }

    /// SHA-256 of the steps and their parameters (lineage of anything it transforms).
    public var hash: String {
        SHA256.hex(steps.map(\.lineageText).joined(separator: "\n") + "\nfeatures:" + featureNames.joined(separator: ","))
    }

    public func encode(to encoder: Encoder) throws {
        if let bad = steps.first(where: { if case .closure = $0 { return true }; return false }), case .closure(let name) = bad {
            throw DataError(.notSerializable, "pipeline step '\(name)' is a closure and cannot be saved; apply filter/map to the dataset before fitting")
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(steps, forKey: .steps)
        try c.encode(inputColumns, forKey: .inputColumns)
        try c.encodeIfPresent(label, forKey: .label)
        try c.encode(featureNames, forKey: .featureNames)
        try c.encodeIfPresent(labelLevels, forKey: .labelLevels)
        try c.encode(stats, forKey: .stats)
        try c.encode(trainedOn, forKey: .trainedOn)
    }

    /// JSON text (sorted keys, so equal pipelines give equal bytes).
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        do { return try enc.encode(self) } catch let e as EncodingError {
            if case .invalidValue(_, let ctx) = e, let d = ctx.underlyingError as? DataError { throw d }
            throw e
        }
    }

    public init(json: Data) throws {
        do { self = try JSONDecoder().decode(FittedPipeline.self, from: json) }
        catch { throw DataError(.badJSON, "not a fitted pipeline: \(error)") }
    }

    /// Replays every step on `ds` (fitted parameters, never refitted). The result has one
    /// lineage step naming this pipeline's hash.
    public func apply(to ds: Dataset) throws -> Dataset {
        var out = ds
        for (i, s) in steps.enumerated() { out = try s.apply(to: out, closure: closures[i]) }
        out.lineage = ds.lineage.appending("transforms", "pipeline=\(hash)")
        // A transformed label says so in the lineage, so training and evaluation can map
        // predictions back to the label's units (`labelTransform(of:)`).
        if let t = labelTransform, out.label != nil, out[t.labelColumn ?? ""] != nil { out.lineage = out.lineage.appending(Self.labelStep, t.lineageText) }
        return out
    }

    static let labelStep = "label_transform"

    /// The last regression target transform of the chain (`standardizeTarget`/`logTarget`).
    public var labelTransform: FittedStep? { steps.last { $0.labelColumn != nil } }

    /// The target transform a dataset's label went through, read from its lineage (nil
    /// when its label is in its own units).
    public static func labelTransform(of ds: Dataset) -> FittedStep? {
        guard let step = ds.lineage.steps.last(where: { $0.op == labelStep }) else { return nil }
        return try? JSONDecoder().decode(FittedStep.self, from: Data(step.params.utf8))
    }

    /// Replays the chain on one raw record (JSON field -> value) and returns its feature
    /// vector in `featureNames` order. Errors name the missing or bad field.
    public func apply(toRecord record: [String: DataValue]) throws -> [Float] {
        var r = record
        for (i, s) in steps.enumerated() { try s.apply(toRecord: &r, closure: closures[i]) }
        return try featureNames.map { name in
            guard let v = r[name], !v.isNull else {
                throw DataError(.missingField, "missing field '\(name)'", column: name)
            }
            if let n = v.number { return Float(n) }
            if case .string(let s) = v, let n = NumberParsing.parseDouble(s) { return Float(n) }
            throw DataError(.missingField, "field '\(name)' must be a number, got '\(v)'", column: name)
        }
    }

    /// Same as `apply(toRecord:)` for a JSON object (bytes of one request body).
    public func apply(toJSONRecord json: Data) throws -> [Float] {
        guard case .object(let fields)? = try? json.withUnsafeBytes({ try JSONParser.parse($0) }) else {
            throw DataError(.badJSON, "record is not a JSON object")
        }
        var record: [String: DataValue] = [:]
        for (k, v) in fields { record[k] = DataValue(json: v) }
        return try apply(toRecord: record)
    }
}
