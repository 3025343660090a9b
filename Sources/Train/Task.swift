import Foundation
import Tensor

/// What a model predicts. Inferred at training time from the loss, the labels and the
/// output width, stored in the model file (blob "task") and the registry, and read by every
/// stage that must interpret outputs: the loss check, `evaluate`, `compare`, `distill`,
/// `/predict`, V2 output names and printed summaries.
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    /// Real-valued targets; outputs are values in the label's units (after `target`'s inverse).
    case regression
    /// Two classes: one logit (sigmoid, `binary_cross_entropy`) or two logits (softmax).
    case binary
    /// C > 2 classes; outputs are C logits (softmax).
    case multiclass
}

/// A fitted transform of regression targets, inverted at predict and serve time.
public enum TargetTransform: Codable, Equatable, Sendable {
    /// Train on (y - mean) / std.
    case standardize(mean: Double, std: Double)
    /// Train on log(1 + y) (non-negative targets).
    case log1p

    public func forward(_ y: Double) -> Double {
        switch self {
        case .standardize(let m, let s): return (y - m) / s
        case .log1p: return Foundation.log1p(y)
        }
    }
    public func inverse(_ v: Double) -> Double {
        switch self {
        case .standardize(let m, let s): return v * s + m
        case .log1p: return Foundation.expm1(v)
        }
    }
}

/// The task record stored with a model (blob "task", JSON).
public struct ModelTask: Codable, Equatable, Sendable {
    public var kind: TaskKind
    /// Class names (code i is classes[i]) when known; nil for regression.
    public var classes: [String]?
    /// Regression only: the transform the targets were trained under.
    public var target: TargetTransform?
    /// Binary only: the decision threshold on the positive class's probability (default 0.5).
    public var threshold: Double?

    public init(kind: TaskKind, classes: [String]? = nil, target: TargetTransform? = nil, threshold: Double? = nil) {
        self.kind = kind; self.classes = classes; self.target = target; self.threshold = threshold
    }

    public static let blobName = "task"

    /// The task stored in a model's blobs, or nil for models saved before tasks existed.
    public static func stored(in blobs: [String: String]) throws -> ModelTask? {
        guard let text = blobs[blobName] else { return nil }
        do { return try JSONDecoder().decode(ModelTask.self, from: Data(text.utf8)) }
        catch { throw TrainError("the model's task record is malformed: \(error)") }
    }

    public func store(in blobs: inout [String: String]) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        blobs[Self.blobName] = String(decoding: try enc.encode(self), as: UTF8.self)
    }

    /// One output row interpreted for this task.
    public enum Answer: Equatable, Sendable {
        /// Regression: the predicted value(s), in the label's units.
        case values([Double])
        /// Classification: class probabilities and the chosen class index.
        case probabilities([Double], choice: Int)
    }

    /// Interprets one output row (raw model outputs: logits for classification unless
    /// `outputsAreProbabilities`).
    public func answer(_ row: [Double], outputsAreProbabilities: Bool = false) -> Answer {
        switch kind {
        case .regression:
            return .values(target.map { t in row.map(t.inverse) } ?? row)
        case .binary, .multiclass:
            var p: [Double]
            if row.count == 1 {
                let q = outputsAreProbabilities ? row[0] : 1 / (1 + Foundation.exp(-row[0]))
                p = [1 - q, q]
            } else if outputsAreProbabilities {
                p = row
            } else {
                let m = row.max() ?? 0
                p = row.map { Foundation.exp($0 - m) }
                let s = p.reduce(0, +)
                p = p.map { $0 / s }
            }
            let choice: Int
            if p.count == 2 { choice = p[1] >= (threshold ?? 0.5) ? 1 : 0 }
            else { choice = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) } ?? 0 }
            return .probabilities(p, choice: choice)
        }
    }
}

extension ModelTask {
    /// The task a loss implies for a model with `outputWidth` outputs: cross-entropy with two
    /// outputs is binary (two logits, softmax), with more multiclass; binary cross-entropy
    /// with one output is binary (one logit, sigmoid); mse, mae and huber are regression.
    /// Nil when the pair says nothing (kl_div, binary cross-entropy over several outputs).
    /// `classes` are the label's names when the data knows them (a text label column).
    public static func infer(loss: Loss, outputWidth: Int, classes: [String]? = nil) -> ModelTask? {
        switch loss {
        case .crossEntropy:
            let names = classes?.count == outputWidth ? classes : nil
            return ModelTask(kind: outputWidth <= 2 ? .binary : .multiclass, classes: names)
        case .binaryCrossEntropy:
            guard outputWidth == 1 else { return nil }
            return ModelTask(kind: .binary, classes: classes?.count == 2 ? classes : nil)
        case .mse, .mae, .huber: return ModelTask(kind: .regression)
        case .klDiv: return nil
        }
    }

    /// The name of class `code`: its label level when known, else the code itself.
    public func className(_ code: Int) -> String {
        if let c = classes, code >= 0, code < c.count { return c[code] }
        return String(code)
    }

    /// One line for summaries: "binary (one logit, threshold 0.5): no, yes".
    public func summary(outputWidth: Int) -> String {
        switch kind {
        case .regression:
            var s = "regression"
            switch target {
            case .standardize(let m, let sd)?: s += " (targets standardized: mean \(shortNumber(m)), std \(shortNumber(sd)))"
            case .log1p?: s += " (targets log1p)"
            case nil: break
            }
            return s
        case .binary, .multiclass:
            var s = kind.rawValue
            if kind == .binary { s += outputWidth == 1 ? " (one logit" : " (two logits"; s += ", threshold \(shortNumber(threshold ?? 0.5)))" }
            if let c = classes { s += ": " + c.joined(separator: ", ") }
            return s
        }
    }

    /// Raw model outputs [N, k] mapped to the label's units (regression with a target
    /// transform); other tasks' outputs are returned unchanged.
    public func labelUnits(_ outputs: Tensor) throws -> Tensor {
        guard kind == .regression, let t = target else { return outputs }
        return try Tensor(outputs.toDoubles().map(t.inverse), shape: outputs.shape, dtype: outputs.dtype)
    }
}

func shortNumber(_ v: Double) -> String {
    let r = (v * 10000).rounded() / 10000
    return r == r.rounded() && Swift.abs(r) < 1e15 ? String(Int(r)) : String(r)
}

extension Model {
    /// The task stored with the model (blob "task"); nil for models trained before tasks
    /// existed or with a loss that implies none. Setting nil removes it.
    public var task: ModelTask? {
        get { (try? ModelTask.stored(in: blobs)) ?? nil }
        set {
            if let newValue { try? newValue.store(in: &blobs) } else { blobs[ModelTask.blobName] = nil }
        }
    }
}
