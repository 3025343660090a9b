import Foundation
import Frames
import JSON
import Support

/// How strictly a model takes raw records (`/predict`, raw V2 inputs). Stored with the
/// model (blob "serve", JSON `{"allow_missing": true, "unseen": "other"}`), written by
/// `register(model, name:, allow_missing: true, unseen: "other")`.
public struct ServePolicy: Codable, Equatable, Sendable {
    /// A missing (or null) field is imputed by the fitted transforms (an `impute` step, or
    /// all zeros for a one-hot column) instead of a 400.
    public var allowMissing: Bool
    /// "error" (default): an unseen category is a 400; "other": it maps to an all-zero
    /// one-hot row (the "other" bucket).
    public var unseen: String

    public static let strict = ServePolicy()
    public static let blobName = "serve"
    public static let unseenChoices = ["error", "other"]

    public init(allowMissing: Bool = false, unseen: String = "error") {
        self.allowMissing = allowMissing; self.unseen = unseen
    }

    enum CodingKeys: String, CodingKey { case allowMissing = "allow_missing", unseen }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allowMissing = try c.decodeIfPresent(Bool.self, forKey: .allowMissing) ?? false
        unseen = try c.decodeIfPresent(String.self, forKey: .unseen) ?? "error"
        guard Self.unseenChoices.contains(unseen) else {
            throw DecodingError.dataCorruptedError(forKey: .unseen, in: c, debugDescription: "unseen must be error or other, got '\(unseen)'")
        }
    }

    /// The policy in a model's blobs; strict when there is none.
    public static func stored(in blobs: [String: String]) throws -> ServePolicy {
        guard let text = blobs[blobName] else { return .strict }
        do { return try JSONDecoder().decode(ServePolicy.self, from: Data(text.utf8)) }
        catch { throw ServeError.badModel("the model's serving policy (blob 'serve') is malformed: \(error)") }
    }

    public var json: String {
        "{\"allow_missing\":\(allowMissing),\"unseen\":\"\(unseen)\"}"
    }
}

/// The raw fields a model's fitted transforms take, derived once from the pipeline's steps:
/// which fields the features depend on, which are numbers and which are categories (with
/// the levels the encoder learned), and which the transforms can impute. `/predict` and raw
/// V2 inputs check each record against it before the transforms run, so a misspelled,
/// extra or missing field, a value of the wrong type or an unseen category is one 400
/// naming every problem of the record and the expected fields.
///
///     let schema = RecordSchema(pipeline)   // nil for a chain with closures
///     let problems = schema?.problems(in: fields, policy: .strict)
public struct RecordSchema: Sendable {
    public enum Kind: Equatable, Sendable {
        case number
        /// A one-hot or label-encoded column and its known levels.
        case category([String])
    }
    public struct Field: Equatable, Sendable {
        public var name: String
        public var kind: Kind
        /// The transforms fill it when missing (an impute step, or a one-hot column's zeros).
        public var imputable: Bool
    }
    /// Fields the features depend on, in training-column order.
    public var fields: [Field]
    /// Training columns the features do not use (the label, dropped or unselected
    /// columns): accepted in a record and ignored.
    public var ignored: Set<String>

    public init?(_ p: FittedPipeline) {
        // Current column name -> the raw field it came from.
        var origin: [String: String] = [:]
        for c in p.inputColumns where c != p.label { origin[c] = c }
        var kinds: [String: Kind] = [:]
        var imputable: Set<String> = []
        var used: Set<String> = []
        for step in p.steps {
            switch step {
            case .select(let c): origin = origin.filter { c.contains($0.key) }
            case .drop(let c): for n in c { origin[n] = nil }
            case .rename(let m):
                var next = origin
                for old in m.keys { next[old] = nil }
                for (old, new) in m { if let o = origin[old] { next[new] = o } }
                origin = next
            case .impute(let c, _):
                if let o = origin[c] { imputable.insert(o) }
            case .standardize(let c, _, _), .minMax(let c, _, _):
                // The first step that reads a field decides its type.
                if let o = origin[c], kinds[o] == nil { kinds[o] = .number }
            case .oneHot(let c, let levels):
                if let o = origin.removeValue(forKey: c) {
                    if kinds[o] == nil { kinds[o] = .category(levels) }
                    imputable.insert(o)  // missing -> all zeros
                    used.insert(o)
                }
            case .project(let cols, _, _, _):
                // The inputs are numbers, consumed by the projection (its outputs are new).
                for c in cols { if let o = origin.removeValue(forKey: c) { if kinds[o] == nil { kinds[o] = .number }; used.insert(o) } }
            case .labelEncode(let c, let levels):
                if c != p.label, let o = origin[c], kinds[o] == nil { kinds[o] = .category(levels) }
            case .standardizeTarget, .logTarget:
                break  // label transforms (FittedStep, issue 15 task-core): no record field
            case .standardizeTarget, .logTarget:
                continue  // the label's own transforms; records have no label
            case .closure:
                return nil  // a closure's reads and writes are unknown
            }
        }
        let features = Set(p.featureNames)
        for (current, o) in origin where features.contains(current) { used.insert(o) }
        fields = p.inputColumns.filter { used.contains($0) }.map {
            Field(name: $0, kind: kinds[$0] ?? .number, imputable: imputable.contains($0))
        }
        ignored = Set(p.inputColumns).subtracting(used)
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }

    /// "sepal_length, sepal_width, ..." for error messages.
    public var expected: String { fields.map(\.name).joined(separator: ", ") }

    /// Every problem of one record (`noun` is "field" for `/predict`, "input" for V2):
    /// unknown names (with a suggestion), missing fields, values of the wrong type, unseen
    /// categories. Empty when the record is fine under `policy`.
    public func problems(in record: [(key: String, value: JSONValue)], policy: ServePolicy, noun: String = "field") -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for (k, _) in record {
            seen.insert(k)
            if field(k) == nil && !ignored.contains(k) {
                out.append("unknown \(noun) '\(k)'\(suggestion(for: k))")
            }
        }
        for f in fields {
            let v = record.last(where: { $0.key == f.name })?.value ?? .null
            if case .null = v {
                if !(policy.allowMissing && f.imputable) {
                    out.append(policy.allowMissing ? "missing \(noun) '\(f.name)' (the transforms cannot impute it)" : "missing \(noun) '\(f.name)'")
                }
                continue
            }
            if let p = problem(f, v, policy: policy, noun: noun) { out.append(p) }
        }
        return out
    }

    func problem(_ f: Field, _ v: JSONValue, policy: ServePolicy, noun: String) -> String? {
        switch f.kind {
        case .number:
            switch v {
            case .int: return nil
            case .double(let d):
                return d.isFinite ? nil : "\(noun) '\(f.name)' is \(d) (only finite numbers are allowed)"
            case .string(let s): return "\(noun) '\(f.name)' must be a number, got the string '\(clip(s))'"
            default: return "\(noun) '\(f.name)' must be a number, got \(v.typeName)"
            }
        case .category(let levels):
            let text: String
            switch v {
            case .string(let s): text = s
            case .int(let n): text = DataValue.int(n).description
            case .double(let d) where d.isFinite: text = DataValue.double(d).description
            default: return "\(noun) '\(f.name)' must be a string (one of \(list(levels))), got \(v.typeName)"
            }
            if levels.contains(text) || policy.unseen == "other" { return nil }
            return "\(noun) '\(f.name)' has the unseen category '\(clip(text))' (known: \(list(levels)))"
        }
    }

    /// The record as the transforms take it (every number a double, as before).
    public static func dataRecord(_ record: [(key: String, value: JSONValue)]) -> [String: DataValue] {
        var dict: [String: DataValue] = [:]
        for (k, value) in record {
            switch value {
            case .null: dict[k] = .null
            case .bool(let b): dict[k] = .bool(b)
            case .int(let n): dict[k] = .double(Double(n))
            case .double(let d): dict[k] = .double(d)
            case .string(let s): dict[k] = .string(s)
            case .array, .object: dict[k] = .null
            }
        }
        return dict
    }

    private func suggestion(for name: String) -> String {
        let limit = name.count > 4 ? 2 : 1
        var best: (name: String, distance: Int)?
        let lower = name.lowercased()
        for f in fields {
            // Lengths further apart than the limit cannot be within it (and a client's long
            // name never reaches the quadratic table).
            let candidate = f.name.lowercased()
            guard abs(candidate.utf8.count - lower.utf8.count) <= limit else { continue }
            let d = editDistance(candidate, lower)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (f.name, d) }
        }
        return best.map { " (did you mean '\($0.name)'?)" } ?? ""
    }

    private func list(_ levels: [String]) -> String {
        let shown = levels.prefix(20).map(clip).joined(separator: ", ")
        return levels.count > 20 ? shown + ", ... (\(levels.count) in all)" : shown
    }
}

/// At most 60 characters of a client's value in a message.
private func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
