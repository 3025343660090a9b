import Tensor

/// The name of a graph op: the one vocabulary every target uses to build, match and
/// rewrite nodes (`n.op == .dense`, `graph.op(.relu, [x])`). Its raw value is the name in
/// model files, graph JSON and error messages, so files written before this type existed
/// read the same. A struct rather than an enum so a name read from a file that this build
/// does not know still decodes (`OpRegistry.op` then reports it as unknown).
public struct OpName: RawRepresentable, Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: OpName, b: OpName) -> Bool { a.rawValue < b.rawValue }

    // Graph interface nodes (not in the op table).
    public static let input = OpName(rawValue: "input")
    public static let param = OpName(rawValue: "param")

    // Arithmetic and linear algebra.
    public static let add = OpName(rawValue: "add")
    public static let sub = OpName(rawValue: "sub")
    public static let mul = OpName(rawValue: "mul")
    public static let div = OpName(rawValue: "div")
    public static let matmul = OpName(rawValue: "matmul")
    public static let dense = OpName(rawValue: "dense")

    // Activations (each also an `Activation` case with the same name).
    public static let relu = OpName(rawValue: "relu")
    public static let leakyRelu = OpName(rawValue: "leaky_relu")
    public static let tanh = OpName(rawValue: "tanh")
    public static let sigmoid = OpName(rawValue: "sigmoid")
    public static let gelu = OpName(rawValue: "gelu")
    public static let softmax = OpName(rawValue: "softmax")
    public static let logSoftmax = OpName(rawValue: "log_softmax")

    // Shapes and reductions.
    public static let reshape = OpName(rawValue: "reshape")
    public static let flatten = OpName(rawValue: "flatten")
    public static let transpose = OpName(rawValue: "transpose")
    public static let concat = OpName(rawValue: "concat")
    public static let sum = OpName(rawValue: "sum")
    public static let mean = OpName(rawValue: "mean")

    // Layers.
    public static let conv2d = OpName(rawValue: "conv2d")
    public static let maxPool2d = OpName(rawValue: "max_pool2d")
    public static let avgPool2d = OpName(rawValue: "avg_pool2d")
    public static let dropout = OpName(rawValue: "dropout")
    public static let embedding = OpName(rawValue: "embedding")
    public static let batchNorm = OpName(rawValue: "batch_norm")
    public static let batchNormSync = OpName(rawValue: "batch_norm_sync")
    public static let layerNorm = OpName(rawValue: "layer_norm")

    // Losses.
    public static let mse = OpName(rawValue: "mse")
    public static let mae = OpName(rawValue: "mae")
    public static let huber = OpName(rawValue: "huber")
    public static let crossEntropy = OpName(rawValue: "cross_entropy")
    public static let binaryCrossEntropy = OpName(rawValue: "binary_cross_entropy")
    public static let klDiv = OpName(rawValue: "kl_div")

    // Inference-only fused ops (made by the optimizer).
    public static let denseAct = OpName(rawValue: "dense_act")
    public static let conv2dAct = OpName(rawValue: "conv2d_act")
    public static let elementwise = OpName(rawValue: "elementwise")

    // Compression.
    public static let sparseDense = OpName(rawValue: "sparse_dense")
    public static let qdense = OpName(rawValue: "qdense")
    public static let fakeQuant = OpName(rawValue: "fake_quant")
    /// Not in the op table yet; `eliminate_qdq` matches them once they are.
    public static let quantize = OpName(rawValue: "quantize")
    public static let dequantize = OpName(rawValue: "dequantize")

    // Trees (OpsTree.swift): a fitted tree ensemble as flattened node arrays.
    public static let treeEnsemble = OpName(rawValue: "tree_ensemble")

    // Selection (OpsSelect.swift): k-means, kNN and top-k for recommenders.
    public static let sqDist = OpName(rawValue: "sq_dist")
    public static let argmin = OpName(rawValue: "argmin")
    public static let topK = OpName(rawValue: "top_k")
    public static let topKValues = OpName(rawValue: "top_k_values")
    public static let knnVote = OpName(rawValue: "knn_vote")

    // Recommenders (OpsRecommend.swift): the sparse item-kNN model.
    public static let csrRows = OpName(rawValue: "csr_rows")
    public static let knnScores = OpName(rawValue: "knn_scores")

    /// The binary elementwise ops (an `elementwise` chain step may be one of them).
    public static let binaryElementwise: Set<OpName> = [.add, .sub, .mul, .div]
    /// Ops that act on each value alone and carry no parameters: a pruned unit's width
    /// passes through them.
    public static let perValue: Set<OpName> = [.relu, .leakyRelu, .gelu, .tanh, .sigmoid, .dropout]
    /// Weight layers: dense (float), sparse_dense (CSR), qdense (int8), conv2d.
    public static let weightLayers: Set<OpName> = [.dense, .sparseDense, .qdense, .conv2d]
}

extension Activation {
    /// The activation this op applies on its own (relu, tanh...), or nil.
    public init?(op: OpName) {
        guard let a = Activation(rawValue: op.rawValue), a != .none else { return nil }
        self = a
    }
    /// The op that applies this activation alone.
    public var op: OpName { OpName(rawValue: rawValue) }
}
