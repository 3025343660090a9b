import Frames
import Tensor

/// What the server knows about a model: names, shapes, one batched forward pass, and the
/// optional transforms/statistics saved with it. The server never sees the model format:
/// `mlw serve` injects ServeModels' loader, whose `GraphServable` runs MLW models.
///
///     let y = try model.predict(try Tensor(rows, shape: [n, 64]))   // [n, 10]
public protocol ServableModel: AnyObject, Sendable {
    var name: String { get }
    var version: Int { get }
    /// Input tensors; the first dimension is the batch (-1). Today exactly one input.
    var inputs: [TensorSpec] { get }
    /// Output tensors; `predict` returns the first one.
    var outputs: [TensorSpec] { get }
    /// Rows in, rows out: `[n, inputWidth]` -> `[n, outputWidth]`. Must be thread-safe.
    func predict(_ batch: Tensor) throws -> Tensor
    /// Fitted transforms for `/predict` raw records (nil: `/predict` takes feature vectors).
    var transforms: FittedPipeline? { get }
    /// Statistics of the training features, for the drift monitor.
    var trainingStats: FeatureStats? { get }
    /// Classifier outputs are logits (trained with cross-entropy from logits): `/predict`
    /// turns them into probabilities with a softmax.
    var outputsAreLogits: Bool { get }
    /// What the model predicts (`/predict` answers, V2 output names and metadata).
    var task: ServeTask { get }
    /// One row of `predict`'s output read for the task.
    func answer(_ row: ArraySlice<Float>) -> ServeAnswer
    /// How strictly raw records are checked (missing fields, unseen categories).
    var policy: ServePolicy { get }
    /// What kind of model this is, for messages ("gradient_boosting", "recommender", ...).
    var modelKind: String { get }
    /// `/predict?explain=true`: for each row of `[n, inputWidth]`, how much each feature
    /// moved the model's score (Shapley values), plus the bias they start from. Models
    /// that cannot explain throw (the default), naming their kind.
    func explain(_ batch: Tensor) throws -> ServeExplanations
}

extension ServableModel {
    public var transforms: FittedPipeline? { nil }
    public var outputsAreLogits: Bool { false }
    public var trainingStats: FeatureStats? { transforms?.stats }
    public var task: ServeTask { ServeTask.inferred(width: outputs.first?.shape.last ?? 1, classes: transforms?.labelLevels) }
    public func answer(_ row: ArraySlice<Float>) -> ServeAnswer { ServeAnswer.fallback(row, task: task, logits: outputsAreLogits) }
    public var policy: ServePolicy { .strict }
    public var modelKind: String { String(describing: type(of: self)) }
    public func explain(_ batch: Tensor) throws -> ServeExplanations {
        throw ServeError.badRequest("explain=true is not supported for \(modelKind) models (model '\(name)'); tree models (gradient_boosting, random_forest, decision_tree, isolation_forest) explain their predictions")
    }
    /// Features per row of the first input (its last dimension).
    var inputWidth: Int { inputs.first?.shape.last ?? 0 }
}

/// Per-row explanations of a batch: feature names (after the fitted transforms) and, for
/// each row, contributions that add up with the bias to the explained score.
public struct ServeExplanations: Sendable {
    /// What the contributions add up to: "logit" (binary: the positive class's log-odds;
    /// multiclass: the explained class's raw score), "value" (regression, label units),
    /// "log1p_value" (regression trained on log1p targets), "probability" (forest
    /// classifiers: the explained class's mean probability), "log2_anomaly_score"
    /// (isolation forests: log2 of the anomaly score; positive pushes towards anomaly).
    public var units: String
    public var featureNames: [String]
    public var rows: [Row]
    public struct Row: Sendable {
        /// The class explained (classification with several outputs: the predicted one).
        public var output: Int?
        public var bias: Double
        /// One per feature, in `featureNames` order.
        public var contributions: [Double]
        public init(output: Int?, bias: Double, contributions: [Double]) {
            self.output = output; self.bias = bias; self.contributions = contributions
        }
    }
    public init(units: String, featureNames: [String], rows: [Row]) {
        self.units = units; self.featureNames = featureNames; self.rows = rows
    }
}

/// Name, datatype and shape of one model input or output (KServe V2 metadata).
public struct TensorSpec: Equatable, Sendable {
    public var name: String
    /// V2 datatype name; the server speaks "FP32".
    public var datatype: String
    /// -1 marks a variable dimension (the batch).
    public var shape: [Int]
    public init(name: String, datatype: String = "FP32", shape: [Int]) {
        self.name = name; self.datatype = datatype; self.shape = shape
    }
}

/// Turns a registry artifact into a model. Injected by the `mlw` command, so the server
/// loads new versions (alias moves) without knowing any model format.
public protocol ModelLoader: Sendable {
    func load(artifactPath: String, name: String, version: Int) throws -> ServableModel
}
