import Tensor

/// How `StaticProgram` runs an op: the op table's `lower` entry. An op without one runs
/// its Tensor kernel inside the program (`StaticKernels.tensorKernel`), so a new op needs
/// no lowering to run; one with a raw kernel names it here, next to its forward and
/// backward rules. Public so op tables can name the lowerings; built only in `Graph`.
public struct Lowering {
    enum Form {
        /// The output is the input's memory (reshape, flatten, eval-mode dropout).
        case view
        /// Builds the node's step; runs once per program build.
        case step((LoweringSite) -> LoweredStep)
    }
    let form: Form
    /// The first input may be a parameter (binary ops: the chain reads it as an operand).
    let firstMayBeConstant: Bool

    var isView: Bool { if case .view = form { return true }; return false }

    init(_ form: Form, firstMayBeConstant: Bool = false) { self.form = form; self.firstMayBeConstant = firstMayBeConstant }
    init(_ build: @escaping (LoweringSite) -> LoweredStep) { self.init(.step(build)) }
}

/// What a lowering made of a node.
enum LoweredStep {
    case kernel(() -> Int32)
    /// No raw kernel for this case (an operand that shares the output's buffer, a
    /// non-float parameter...): run the op's Tensor kernel like ops without a lowering.
    case tensorKernel
    /// The graph cannot be lowered (the caller then uses `InferenceProgram`).
    case unsupported
}

/// One node being lowered: where it reads its first input and writes its output, its
/// concrete shape, and the program's `StaticKernels` (parameters, other inputs' sources).
struct LoweringSite {
    let kernels: StaticKernels
    let id: Int
    let node: Node
    let x: StaticProgram.Source
    let y: UnsafeMutablePointer<Float>
    let shape: [Int]
    var count: Int { shape.reduce(1, *) }
    var cols: Int { shape.last ?? 1 }
    var rows: Int { cols == 0 ? 0 : count / cols }
    var feeds: UnsafeMutablePointer<UnsafePointer<Float>?> { kernels.feeds }
    func param(_ k: Int) -> Tensor? { kernels.param(node.inputs[k]) }
    /// The optional last input (bias) as a parameter: nil when absent, `.some(nil)` when
    /// present but not a parameter (then there is no raw kernel).
    func optionalParam(_ k: Int) -> Tensor?? { node.inputs.count > k ? .some(param(k)) : .none }
    var activation: Activation? { node.attrs.activation }

    /// A prepared layer over `rows` rows (default: all but the last axis), then `after` over
    /// its output in place.
    func layer(_ l: PreparedLayer?, rows layerRows: Int? = nil,
               after: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? = nil) -> LoweredStep {
        let r = layerRows ?? rows, count = count, x = x, y = y, feeds = feeds
        guard let l, r > 0, l.outFeatures * r == count else { return .unsupported }
        if let f = after { return .kernel { let s = l.run(x.get(feeds), rows: r, y); f(y, y, count); return s } }
        return .kernel { l.run(x.get(feeds), rows: r, y) }
    }
}

// The lowerings the op table names.
extension Lowering {
    static let view = Lowering(.view)

    /// dense (ReLU in the GEMM's store loop) and dense_act (other activations after it).
    static let denseLayer = Lowering { s in
        guard let w = s.param(1), let act = s.activation else { return .unsupported }
        let b = s.optionalParam(2)
        if case .some(nil) = b { return .unsupported }
        var after: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? = nil
        if act != .none && act != .relu {
            guard s.node.op == .denseAct, let f = PreparedLayer.activation(act) else { return .unsupported }
            after = f
        }
        return s.layer(try? PreparedLayer.linear(weight: w, bias: b ?? nil, relu: act == .relu), after: after)
    }

    /// conv2d and conv2d_act (ReLU in the GEMM's store loop, other activations after it).
    static let convLayer = Lowering { s in
        let xs = s.kernels.graph.concreteShape(s.node.inputs[0], batch: s.kernels.batch)
        guard xs.count == 4, s.shape.count == 4, let w = s.param(1) else { return .unsupported }
        let b = s.optionalParam(2)
        if case .some(nil) = b { return .unsupported }
        let fused = s.node.op == .conv2dAct
        guard let act = fused ? s.activation : Activation.none else { return .unsupported }
        var after: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? = nil
        if act != .none && act != .relu {
            guard let f = PreparedLayer.activation(act) else { return .unsupported }
            after = f
        }
        let l = try? PreparedLayer.conv2d(weight: w, bias: b ?? nil, input: (xs[1], xs[2], xs[3]), stride: s.node.attrs.pair("stride", 1),
                                          padding: s.node.attrs.pair("padding", 0), relu: act == .relu)
        return s.layer(l, rows: s.shape[0], after: after)
    }

    static func pool(isMax: Bool) -> Lowering {
        Lowering { s in
            let xs = s.kernels.graph.concreteShape(s.node.inputs[0], batch: s.kernels.batch)
            guard xs.count == 4, s.shape.count == 4 else { return .unsupported }
            let k = s.node.attrs.pair("kernel", 2)
            return s.layer(try? PreparedLayer.pool2d(input: (xs[1], xs[2], xs[3]), kernel: k, stride: s.node.attrs.pair("stride", k.0),
                                                     padding: s.node.attrs.pair("padding", 0), isMax: isMax), rows: s.shape[0])
        }
    }

    /// int8 dense: weights, scales and column sums prepared once.
    static let qdense = Lowering { s in
        let ps = s.node.inputs.indices.dropFirst().map { s.param($0) }
        guard ps.allSatisfy({ $0 != nil }) else { return .unsupported }
        let q = QDenseSettings(s.node.attrs)
        return s.layer(try? PreparedLayer.qlinear(weight: ps[0]!, weightScale: ps[1]!, colSum: ps[2]!, bias: ps.count == 4 ? ps[3] : nil,
                                                  actScale: q.actScale, actZero: q.actZero, unsigned: q.unsigned, relu: q.relu))
    }

    /// CSR dense.
    static let sparseDense = Lowering { s in
        let ps = s.node.inputs.indices.dropFirst().map { s.param($0) }
        guard ps.allSatisfy({ $0 != nil }) else { return .unsupported }
        return s.layer(try? PreparedLayer.csrLinear(values: ps[0]!, indices: ps[1]!, indptr: ps[2]!, inFeatures: s.node.attrs.int("in", -1),
                                                    bias: ps.count == 4 ? ps[3] : nil, relu: s.activation == .relu))
    }

    /// relu, tanh, sigmoid, gelu: the raw activation kernel.
    static let activation = Lowering { s in
        guard let a = Activation(op: s.node.op), let f = PreparedLayer.activation(a) else { return .tensorKernel }
        let x = s.x, y = s.y, count = s.count, feeds = s.feeds
        return .kernel { f(x.get(feeds), y, count); return 0 }
    }

    /// add/sub/mul/div, leaky_relu and `elementwise` chains as one `ChainProgram`.
    static let chain = Lowering { s in s.kernels.chain(s.id, s.y, shape: s.shape).map { .kernel($0) } ?? .tensorKernel }
    static let binary = Lowering(chain.form, firstMayBeConstant: true)

    static let batchNorm = Lowering { s in s.kernels.batchNorm(s.id, s.x, s.y).map { .kernel($0) } ?? .tensorKernel }
    static let layerNorm = Lowering { s in s.kernels.layerNorm(s.id, s.x, s.y, rows: s.rows, cols: s.cols).map { .kernel($0) } ?? .tensorKernel }

    /// Softmax over the last axis, row by row.
    static let softmax = Lowering { s in
        let axis = s.node.attrs.int("axis", -1)
        guard axis == -1 || axis == s.shape.count - 1 else { return .unsupported }
        let x = s.x, y = s.y, rows = s.rows, cols = s.cols, feeds = s.feeds
        return .kernel { PreparedLayer.softmaxRows(x.get(feeds), y, rows: rows, cols: cols); return 0 }
    }
}
