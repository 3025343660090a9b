import Tensor

/// Run-time context handed to op kernels: mode, seeds for dropout, and a place for
/// ops with state (batch norm's running statistics) to report updated buffers.
public final class OpContext {
    public var training: Bool
    public var seed: UInt64
    public var step: UInt64
    public var nodeID: Int = 0
    /// (input position of the current node, new value): the executor writes these back to params.
    public var stateUpdates: [(node: Int, input: Int, value: Tensor)] = []
    /// Buffers kept across calls (the executor's, in training); nil: allocate per call.
    public var cache: BufferCache?
    /// Only the outputs are wanted (`Executor.run`): no backward pass follows, so ops need
    /// not build the tensors they save for one.
    public var inference = false
    public init(training: Bool, seed: UInt64 = 0, step: UInt64 = 0, cache: BufferCache? = nil) {
        self.training = training; self.seed = seed; self.step = step; self.cache = cache
    }

    /// Output buffer `slot` of the current node (contents unspecified): reused across
    /// calls when there is a cache, else new. Kernels with an `into:` form write into it.
    public func buffer(_ slot: Int, _ shape: [Int], _ dtype: DType = .float32) throws -> Tensor {
        try bufferFor(cache, node: nodeID, slot: slot, shape, dtype)
    }
}

/// Forward buffers use slots 0..<16 of a node, backward buffers 16..<32.
func bufferFor(_ cache: BufferCache?, node: Int, slot: Int, _ shape: [Int], _ dtype: DType) throws -> Tensor {
    if let cache { return try cache.buffer(node * 32 + slot, shape: shape, dtype: dtype) }
    return try Tensor.empty(shape, dtype: dtype)
}

/// What a backward rule sees: the forward inputs, output, anything the forward saved,
/// and the gradient of the loss with respect to the output.
public struct BackwardArgs {
    public let inputs: [Tensor]
    public let output: Tensor
    public let saved: [Tensor]
    public let grad: Tensor
    public let attrs: Attrs
    public let training: Bool
    /// Which inputs need a gradient (rules may skip the others and return nil for them).
    public let needsGrad: [Bool]
    let cache: BufferCache?
    let nodeID: Int

    public init(inputs: [Tensor], output: Tensor, saved: [Tensor], grad: Tensor, attrs: Attrs, training: Bool,
                needsGrad: [Bool]? = nil, cache: BufferCache? = nil, nodeID: Int = 0) {
        self.inputs = inputs; self.output = output; self.saved = saved; self.grad = grad; self.attrs = attrs
        self.training = training; self.needsGrad = needsGrad ?? inputs.map { _ in true }; self.cache = cache; self.nodeID = nodeID
    }

    /// Gradient buffer `slot` (< 16) of this node, like `OpContext.buffer`.
    public func buffer(_ slot: Int, _ shape: [Int], _ dtype: DType = .float32) throws -> Tensor {
        try bufferFor(cache, node: nodeID, slot: 16 + slot, shape, dtype)
    }
}

/// One op, in one place: its arity, shape rule, forward kernel, backward rule and how a
/// static program runs it. Adding an op means adding one `OpDef` to a table (see
/// `OpRegistry`).
public struct OpDef {
    public let name: OpName
    public let arity: ClosedRange<Int>
    /// Input shapes + attrs -> output shape (symbolic batch dims allowed).
    public let shape: ([SymShape], Attrs) throws -> SymShape
    /// Output dtype from input dtypes (default: the first input's).
    public let dtype: ([DType], Attrs) -> DType
    /// Inputs -> output and tensors the backward rule needs.
    public let forward: ([Tensor], Attrs, OpContext) throws -> (Tensor, [Tensor])
    /// Gradient of every input (nil: not differentiable / no gradient).
    public let backward: ((BackwardArgs) throws -> [Tensor?])?
    /// Its step in a `StaticProgram` (nil: the forward kernel runs there, on copies).
    public let lower: Lowering?

    public init(_ name: OpName, arity: ClosedRange<Int>,
                shape: @escaping ([SymShape], Attrs) throws -> SymShape,
                dtype: @escaping ([DType], Attrs) -> DType = { d, _ in d[0] },
                forward: @escaping ([Tensor], Attrs, OpContext) throws -> (Tensor, [Tensor]),
                backward: ((BackwardArgs) throws -> [Tensor?])?, lower: Lowering? = nil) {
        self.name = name; self.arity = arity; self.shape = shape; self.dtype = dtype
        self.forward = forward; self.backward = backward; self.lower = lower
    }
}

/// The op table. Every graph op, the eager tape and the executor read this one dictionary.
public enum OpRegistry {
    public static let ops: [OpName: OpDef] = {
        var d: [OpName: OpDef] = [:]
        for op in arithmeticOps + activationOps + shapeOps + reductionOps + nnOps + normOps + syncNormOps + lossOps + fusedOps + sparseOps + quantOps + treeOps + selectOps + recommendOps {
            precondition(d[op.name] == nil, "duplicate op \(op.name)")
            d[op.name] = op
        }
        return d
    }()

    public static func op(_ name: OpName) throws -> OpDef {
        guard let o = ops[name] else { throw GraphError("unknown op '\(name)'") }
        return o
    }
}
