import Graph
import Tensor

/// A layer: a named recipe that adds nodes (and seeded parameters) to a graph.
/// Build models with `sequential([...])` or, for residuals / several inputs, `ModelBuilder`.
public struct Layer {
    public let kind: String
    /// Feature shape (without batch) this layer expects first, when it knows (dense: [in]).
    public let inputShape: [Int]?
    let build: (inout ModelBuilder, [Int], String) throws -> Int
}

/// Functional model construction: inputs, layers applied to node ids, add/concat, outputs.
///
///     var b = ModelBuilder(seed: 1); let x = try b.input(shape: [64])
///     let h = try b.apply(dense(64, 64), x); let r = try b.add(h, try b.apply(dense(64, 64), h))
///     let y = try b.apply(dense(64, 10), r); let m = try b.model(outputs: [y])
public struct ModelBuilder {
    public var graph = Graph()
    public let seed: UInt64
    var layerIndex = 0
    public init(seed: UInt64 = 0) { self.seed = seed }

    /// A graph input with a leading batch dimension.
    @discardableResult
    public mutating func input(_ name: String = "x", shape: [Int], dtype: DType = .float32) throws -> Int {
        try graph.input(name, shape: [.batch] + shape.map { .fixed($0) }, dtype: dtype)
    }
    public mutating func apply(_ layer: Layer, _ inputs: Int...) throws -> Int {
        defer { layerIndex += 1 }
        return try layer.build(&self, inputs, "\(layer.kind)_\(layerIndex)")
    }
    /// Residual connection / elementwise sum of two branches.
    public mutating func add(_ a: Int, _ b: Int) throws -> Int { try graph.op(.add, [a, b]) }
    public mutating func concat(_ xs: [Int], axis: Int = -1) throws -> Int { try graph.op(.concat, xs, ["axis": .int(axis)]) }
    /// Seed for the parameters of the layer being built: a pure function of (model seed, layer index, slot).
    func paramSeed(_ slot: UInt64) -> UInt64 { mixSeed(mixSeed(seed, UInt64(layerIndex)), slot) }
    mutating func param(_ name: String, _ t: Tensor, trainable: Bool = true) throws -> Int { try graph.param(name, t, trainable: trainable) }

    public func model(outputs: [Int]) throws -> Model {
        var g = graph; g.outputs = outputs
        try g.verify()
        return Model(graph: g)
    }
}

/// A layer of one op without parameters; its kind is the op's name unless given.
private func simple(_ op: OpName, kind: String? = nil, _ attrs: Attrs = [:]) -> Layer {
    Layer(kind: kind ?? op.rawValue, inputShape: nil) { b, x, name in try b.graph.op(op, x, attrs, label: name) }
}

/// Dense layer act(x @ W + b), W [in, out] He-initialised (Glorot with `initializer: .glorot`), b zeros.
public func dense(_ inF: Int, _ outF: Int, bias: Bool = true, initializer: Initializer = .he) -> Layer {
    Layer(kind: OpName.dense.rawValue, inputShape: [inF]) { b, x, name in
        var ins = [x[0], try b.param("\(name).weight", initializer.make([inF, outF], fanIn: inF, fanOut: outF, seed: b.paramSeed(0)))]
        if bias { ins.append(try b.param("\(name).bias", Tensor.zeros([outF]))) }
        return try b.graph.op(.dense, ins, [:], label: name)
    }
}

/// 2-D convolution over NCHW with a square kernel, OIHW weights (He), zero bias.
public func conv2d(_ inC: Int, _ outC: Int, kernel: Int, stride: Int = 1, padding: Int = 0, initializer: Initializer = .he) -> Layer {
    Layer(kind: OpName.conv2d.rawValue, inputShape: nil) { b, x, name in
        let w = try initializer.make([outC, inC, kernel, kernel], fanIn: inC * kernel * kernel, fanOut: outC * kernel * kernel, seed: b.paramSeed(0))
        let ins = [x[0], try b.param("\(name).weight", w), try b.param("\(name).bias", Tensor.zeros([outC]))]
        return try b.graph.op(.conv2d, ins, ["stride": .int(stride), "padding": .int(padding)], label: name)
    }
}

public func maxPool(_ kernel: Int, stride: Int? = nil, padding: Int = 0) -> Layer {
    simple(.maxPool2d, kind: "max_pool", ["kernel": .int(kernel), "stride": .int(stride ?? kernel), "padding": .int(padding)])
}
public func avgPool(_ kernel: Int, stride: Int? = nil, padding: Int = 0) -> Layer {
    simple(.avgPool2d, kind: "avg_pool", ["kernel": .int(kernel), "stride": .int(stride ?? kernel), "padding": .int(padding)])
}
public func flatten() -> Layer { simple(.flatten) }
/// Reshape the features (the batch dim is kept): reshapeLayer([1, 8, 8]).
public func reshapeLayer(_ shape: [Int]) -> Layer { simple(.reshape, ["shape": .ints([0] + shape)]) }
public func dropout(_ p: Double) -> Layer { simple(.dropout, ["p": .double(p)]) }
/// The layer applying activation `a` (its op; leaky ReLU's `slope`, softmax over the last axis).
public func activation(_ a: Activation, slope: Double = 0.01) -> Layer {
    switch a {
    case .none: return Layer(kind: a.rawValue, inputShape: nil) { _, x, _ in x[0] }   // adds no node
    case .leakyRelu: return simple(a.op, ["slope": .double(slope)])
    case .softmax: return softmax()
    default: return simple(a.op)
    }
}
public func relu() -> Layer { activation(.relu) }
public func leakyRelu(_ slope: Double = 0.01) -> Layer { activation(.leakyRelu, slope: slope) }
public func gelu() -> Layer { activation(.gelu) }
public func tanh() -> Layer { activation(.tanh) }
public func sigmoid() -> Layer { activation(.sigmoid) }
public func softmax(axis: Int = -1) -> Layer { simple(.softmax, ["axis": .int(axis)]) }

/// `sync`: in data-parallel training the batch statistics (and their gradient) are those of
/// the global batch, reduced over every rank's rows (`batch_norm_sync`, Graph/OpsSyncNorm.swift);
/// otherwise each rank normalises with its own shard's.
public func batchNorm(_ n: Int, momentum: Double = 0.1, eps: Double = 1e-5, sync: Bool = false) -> Layer {
    Layer(kind: OpName.batchNorm.rawValue, inputShape: nil) { b, x, name in
        let ins = [x[0], try b.param("\(name).gamma", Tensor.ones([n])), try b.param("\(name).beta", Tensor.zeros([n])),
                   try b.param("\(name).running_mean", Tensor.zeros([n]), trainable: false),
                   try b.param("\(name).running_var", Tensor.ones([n]), trainable: false)]
        return try b.graph.op(sync ? .batchNormSync : .batchNorm, ins, ["momentum": .double(momentum), "eps": .double(eps)], label: name)
    }
}
public func layerNorm(_ n: Int, eps: Double = 1e-5) -> Layer {
    Layer(kind: OpName.layerNorm.rawValue, inputShape: nil) { b, x, name in
        let ins = [x[0], try b.param("\(name).gamma", Tensor.ones([n])), try b.param("\(name).beta", Tensor.zeros([n]))]
        return try b.graph.op(.layerNorm, ins, ["eps": .double(eps)], label: name)
    }
}
/// Embedding table [vocab, dim] ~ N(0, 1); input: integer ids.
public func embedding(_ vocab: Int, _ dim: Int) -> Layer {
    Layer(kind: OpName.embedding.rawValue, inputShape: nil) { b, x, name in
        try b.graph.op(.embedding, [x[0], try b.param("\(name).weight", Tensor.randn([vocab, dim], seed: b.paramSeed(0), dtype: .float32))], [:], label: name)
    }
}

/// A chain of layers. The input shape comes from the first layer when it knows it (dense),
/// else pass `inputShape` (features only, no batch). A dense layer directly followed by
/// relu becomes one fused node (the GEMM applies the ReLU in its store loop).
public func sequential(_ layers: [Layer], inputShape: [Int]? = nil, inputDType: DType = .float32, seed: UInt64 = 0) throws -> Model {
    guard let shape = inputShape ?? layers.first?.inputShape else {
        throw TrainError("sequential: give inputShape (the first layer does not imply one)")
    }
    var b = ModelBuilder(seed: seed)
    var x = try b.input(shape: shape, dtype: inputDType)
    for layer in layers {
        if layer.kind == Activation.relu.rawValue, b.graph.nodes[x].op == .dense, b.graph.nodes[x].attrs["activation"] == nil {
            b.graph.nodes[x].attrs["activation"] = .activation(.relu)
            b.graph.nodes[x].name += "+relu"
            b.layerIndex += 1
            continue
        }
        x = try b.apply(layer, x)
    }
    return try b.model(outputs: [x])
}
