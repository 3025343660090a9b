import Foundation

/// What a served model predicts, as the server reads it: the task kind, the class names
/// and, for binary models, the decision threshold. ServeModels' `GraphServable` fills it
/// from the model's `ModelTask` (Train/Task.swift, blob "task"); a model without one gets
/// the documented fallback (`inferred`).
public struct ServeTask: Equatable, Sendable {
    /// "regression", "binary" or "multiclass" (TaskKind's raw values).
    public var kind: String
    /// Class names (code i is classes[i]) when known.
    public var classes: [String]?
    /// Binary: the positive-class probability at or above which the class is 1.
    public var threshold: Double?
    /// True when the model stores its task: V2 then names its output by the task
    /// (`predictions` in the label's units, or `probabilities`); false for an inferred task,
    /// whose V2 output stays the raw `output` tensor.
    public var stored: Bool

    public init(kind: String, classes: [String]? = nil, threshold: Double? = nil, stored: Bool) {
        self.kind = kind; self.classes = classes; self.threshold = threshold; self.stored = stored
    }

    public var isRegression: Bool { kind == "regression" }

    /// The fallback for a model without a task record, from its output width: one output is
    /// regression (a final sigmoid makes it binary, but only the model knows that: see
    /// GraphServable), two are binary, more are multiclass.
    public static func inferred(width: Int, classes: [String]?) -> ServeTask {
        let kind = width <= 1 ? "regression" : width == 2 ? "binary" : "multiclass"
        let names = kind == "regression" ? nil : classes.flatMap { $0.count == width ? $0 : nil }
        return ServeTask(kind: kind, classes: names, stored: false)
    }
}

/// One output row read for the model's task.
public enum ServeAnswer: Equatable, Sendable {
    /// Regression: the predicted value(s) in the label's units.
    case values([Double])
    /// Classification: class probabilities and the chosen class (threshold for binary).
    case probabilities([Double], choice: Int)
}

extension ServeAnswer {
    /// The fallback reading of a raw output row (no task record): regression values as they
    /// are; class scores through a softmax when they are logits, then the arg max.
    static func fallback(_ row: ArraySlice<Float>, task: ServeTask, logits: Bool) -> ServeAnswer {
        if task.isRegression { return .values(row.map(Double.init)) }
        var p = row.map(Double.init)
        if logits {
            let m = p.max() ?? 0
            p = p.map { Foundation.exp($0 - m) }
            let s = p.reduce(0, +)
            p = p.map { $0 / s }
        }
        var best = 0
        if p.count == 2 { best = p[1] >= (task.threshold ?? 0.5) ? 1 : 0 }
        else { for (k, v) in p.enumerated() where v > p[best] { best = k } }
        return .probabilities(p, choice: best)
    }
}
