import Tensor

/// Values computed by one forward pass, kept for the backward pass.
public struct Activations {
    public var values: [Tensor?]
    var saved: [[Tensor]]
    let plan: Executor.Plan
    let training: Bool
    public func output(_ i: Int = 0) -> Tensor { values[plan.outputs[i]]! }
}

/// Runs a graph on the Tensor kernels. Per batch size it caches a plan (the nodes the
/// outputs need, in order, their op-table entries, concrete shapes, the last use of each
/// value, which nodes need gradients) and a `BufferCache`. In training mode, ops with
/// `into:` kernels (dense, relu, cross-entropy) write their outputs and gradients into that
/// plan's buffers, so a training step at a fixed batch size allocates them once, not per
/// step; a buffer still held by the caller (an old `Activations`) is not reused.
/// In eval mode values are dropped after their last use, so their buffers go back to the
/// Tensor engine's pool and are reused by later nodes and later calls.
public final class Executor {
    /// Any change to the graph (weights included) drops the eval program, which holds the
    /// weights' tensors.
    public var graph: Graph { didSet { invalidate() } }
    public var seed: UInt64 = 0
    /// `run` lowers graphs it can to a `StaticProgram` (arena from the memory plan, raw
    /// kernel calls); false always uses the Tensor-level `InferenceProgram` (tests compare).
    public var useStatic = true
    /// Batch sizes whose calls ran as a static program so far (for tests and `explain`).
    public var staticBatchSizes: [Int] { statics.compactMap { $0.value == nil ? nil : $0.key }.sorted() }
    public var step: UInt64 = 0
    private var plans: [Int: Plan] = [:]
    /// The eval-mode program `run` uses (built on first use, batch-independent).
    private var program: InferenceProgram?
    /// Per batch size, the arena-backed lowering `run` prefers (nil: the graph has an op
    /// without one, use `program`).
    private var statics: [Int: StaticProgram?] = [:]
    /// `run`'s per-call state, kept so a batch-1 call does no lookups by name, copies no
    /// nodes and allocates nothing but its outputs: each input's name and declared shape
    /// (nil: not read yet), the one input of single-input graphs (nearly all; their calls with
    /// the last batch size go straight to its static program), the feeds in input order, and
    /// the static program of the last batch size.
    private var inputSpecs: [InputSpec]?
    private var single: InputSpec?
    private var feedScratch: [Tensor] = []
    private var lastStatic: (batch: Int, program: StaticProgram)?

    private final class InputSpec {
        let name: String
        let shape: SymShape
        let sizes: [Int]   // -1 on the batch axis
        init(name: String, shape: SymShape) {
            self.name = name; self.shape = shape
            sizes = shape.map { if case .fixed(let k) = $0 { return k } else { return -1 } }
        }
        /// The batch size of `t` when its shape is the declared one, else nil (`batchSize`
        /// then reports the mismatch).
        func batch(of t: Tensor) -> Int? {
            let shape = t.shape
            guard shape.count == sizes.count else { return nil }
            var batch = 1
            for i in 0..<sizes.count {
                if sizes[i] < 0 { batch = shape[i] } else if sizes[i] != shape[i] { return nil }
            }
            return batch
        }
    }

    final class Plan {
        let order: [Int]
        let outputs: [Int]
        let lastUse: [Int]
        let needsGrad: [Bool]
        let shapes: [[Int]]
        /// Op-table entry of each node (nil for inputs and params).
        let defs: [OpDef?]
        /// Training buffers of this batch size.
        let cache = BufferCache()
        init(order: [Int], outputs: [Int], lastUse: [Int], needsGrad: [Bool], shapes: [[Int]], defs: [OpDef?]) {
            self.order = order; self.outputs = outputs; self.lastUse = lastUse; self.needsGrad = needsGrad; self.shapes = shapes
            self.defs = defs
        }
    }

    public init(_ graph: Graph) throws {
        try graph.verify()
        self.graph = graph
    }

    /// Forget cached plans (after editing the graph's structure).
    public func invalidate() { plans = [:]; program = nil; statics = [:]; inputSpecs = nil; single = nil; lastStatic = nil }

    func plan(batch: Int) -> Plan {
        if let p = plans[batch] { return p }
        let nodes = graph.nodes
        var needed = [Bool](repeating: false, count: nodes.count)
        for o in graph.outputs { needed[o] = true }
        for i in stride(from: nodes.count - 1, through: 0, by: -1) where needed[i] { for j in nodes[i].inputs { needed[j] = true } }
        let order = (0..<nodes.count).filter { needed[$0] }
        var lastUse = Array(0..<nodes.count)
        for i in order { for j in nodes[i].inputs { lastUse[j] = max(lastUse[j], i) } }
        for o in graph.outputs { lastUse[o] = Int.max }
        var needsGrad = [Bool](repeating: false, count: nodes.count)
        for i in order {
            let n = nodes[i]
            needsGrad[i] = n.op == .param ? !graph.buffers.contains(n.name) : n.inputs.contains { needsGrad[$0] }
        }
        let p = Plan(order: order, outputs: graph.outputs, lastUse: lastUse, needsGrad: needsGrad,
                     shapes: nodes.map { $0.shape.map { $0.resolve(batch: batch) } },
                     defs: nodes.map { OpRegistry.ops[$0.op] })
        plans[batch] = p
        return p
    }

    /// Checks feeds against the graph's inputs and finds the batch size; leaves the feeds in
    /// input order in `feedScratch`.
    private func batchSize(_ feeds: [String: Tensor]) throws -> Int {
        if inputSpecs == nil { readInputSpecs() }
        var batch: Int? = nil
        if !feedScratch.isEmpty { feedScratch.removeAll(keepingCapacity: true) }   // a call that threw
        for spec in inputSpecs! {
            let (name, shape) = (spec.name, spec.shape)
            guard let t = feeds[name] else { throw GraphError("run: missing input '\(name)'") }
            guard t.rank == shape.count else { throw GraphError("run: input '\(name)' has shape \(t.shape), expected \(formatShape(shape))") }
            for (d, s) in zip(shape, t.shape) {
                switch d {
                case .fixed(let k): guard k == s else { throw GraphError("run: input '\(name)' has shape \(t.shape), expected \(formatShape(shape))") }
                case .batch:
                    if let b = batch, b != s { throw GraphError("run: inputs disagree on the batch size (\(b) vs \(s))") }
                    batch = s
                }
            }
            feedScratch.append(t)
        }
        return batch ?? 1
    }

    /// Forward pass. Training mode keeps every value for `backward` and applies state
    /// updates (batch-norm running stats) to the graph's buffers.
    public func forward(_ feeds: [String: Tensor], training: Bool = false) throws -> Activations {
        let p = plan(batch: try batchSize(feeds))
        feedScratch.removeAll(keepingCapacity: true)   // forward reads the feeds by name
        let nodes = graph.nodes
        var values = [Tensor?](repeating: nil, count: nodes.count)
        var saved = [[Tensor]](repeating: [], count: nodes.count)
        let ctx = OpContext(training: training, seed: seed, step: step, cache: training ? p.cache : nil)
        for i in p.order {
            let n = nodes[i]
            switch n.op {
            case .input:
                let t = feeds[n.name]!
                values[i] = t.dtype == n.dtype ? t : t.astype(n.dtype)
            case .param: values[i] = graph.params[n.name]!
            default:
                let def = p.defs[i]!
                ctx.nodeID = i
                let (y, s) = try def.forward(n.inputs.map { values[$0]! }, n.attrs, ctx)
                values[i] = y
                if training { saved[i] = s } else {
                    for j in n.inputs where p.lastUse[j] == i { values[j] = nil }
                }
            }
        }
        applyStateUpdates(ctx.stateUpdates)
        return Activations(values: values, saved: saved, plan: p, training: training)
    }

    // Apart from `run` so that its fast path does not read (copy and release) the graph.
    @inline(never) private func readInputSpecs() {
        let specs = graph.inputs.map { InputSpec(name: graph.nodes[$0].name, shape: graph.nodes[$0].shape) }
        inputSpecs = specs
        single = specs.count == 1 ? specs[0] : nil
    }

    /// Writes batch-norm running statistics back to the graph's params (training only;
    /// eval passes produce none, so `run` keeps its program).
    private func applyStateUpdates(_ updates: [(node: Int, input: Int, value: Tensor)]) {
        for u in updates { graph.params[graph.nodes[graph.nodes[u.node].inputs[u.input]].name] = u.value }
    }

    /// Eval-mode outputs (the same values as `forward(feeds).output(i)`): through the batch
    /// size's `StaticProgram` where the graph lowers to one, else the pre-resolved
    /// `InferenceProgram`.
    public func run(_ feeds: [String: Tensor]) throws -> [Tensor] {
        if inputSpecs == nil { readInputSpecs() }
        if useStatic, let one = single, let last = lastStatic, let t = feeds[one.name], one.batch(of: t) == last.batch {
            return try last.program.run(single: t)
        }
        return try runGeneral(feeds)
    }

    // Apart from `run` for the same reason as `readInputSpecs`.
    @inline(never) private func runGeneral(_ feeds: [String: Tensor]) throws -> [Tensor] {
        let batch = try batchSize(feeds)
        defer { feedScratch.removeAll(keepingCapacity: true) }   // the caller's tensors are not held past the call
        if useStatic {
            if let last = lastStatic, last.batch == batch { return try last.program.run(feedScratch) }
            if statics[batch] == nil {
                // A server with dynamic batching sees up to its max batch distinct sizes.
                if statics.count >= 64 { statics = [:] }
                statics[batch] = .some(StaticProgram(graph, batch: batch))
            }
            if let s = statics[batch]! {
                lastStatic = (batch, s)
                return try s.run(feedScratch)
            }
        }
        let p = plan(batch: batch)
        if program == nil { program = InferenceProgram(graph, plan: p) }
        let (outputs, updates) = try program!.run(feeds, seed: seed, step: step)
        applyStateUpdates(updates)
        return outputs
    }

    /// Reverse-mode pass from `seeds` (node id -> gradient of the loss w.r.t. that node;
    /// default: ones for the first output). Returns gradients of trainable parameters by
    /// name, plus `nodeGrads` for every node that received one.
    ///
    /// `afterOp`, when given, runs after each node of the reverse pass with the parameters whose
    /// gradient just became final (their last consumer was handled; often none): data-parallel
    /// training starts summing a bucket of gradients across ranks while the rest of the
    /// backward pass runs, and advances the collectives already started.
    public func backward(_ a: Activations, seeds: [Int: Tensor]? = nil,
                         afterOp: ((_ ready: [(name: String, grad: Tensor)]) throws -> Void)? = nil) throws -> (params: [String: Tensor], nodeGrads: [Int: Tensor]) {
        let nodes = graph.nodes, p = a.plan
        var grads: [Int: Tensor] = [:]
        if let seeds { grads = seeds } else {
            let o = p.outputs[0], y = a.values[o]!
            grads[o] = try Tensor.ones(y.shape, dtype: y.dtype)
        }
        // Trainable parameters by the consumer handled last in the reverse pass (the first in order).
        var finalAt: [Int: [Int]] = [:]
        if afterOp != nil {
            var first: [Int: Int] = [:]
            for i in p.order { for j in nodes[i].inputs where nodes[j].op == .param && p.needsGrad[j] && first[j] == nil { first[j] = i } }
            for (j, i) in first { finalAt[i, default: []].append(j) }
        }
        for i in p.order.reversed() {
            let n = nodes[i]
            if n.op != .input, n.op != .param, p.needsGrad[i], let g = grads[i] {
                let def = p.defs[i]!
                guard let bw = def.backward else { throw GraphError("backward: op '\(n.op)' is not differentiable") }
                let ins = n.inputs.map { a.values[$0]! }
                let gs = try bw(BackwardArgs(inputs: ins, output: a.values[i]!, saved: a.saved[i], grad: g, attrs: n.attrs, training: a.training,
                                             needsGrad: n.inputs.map { p.needsGrad[$0] }, cache: a.training ? p.cache : nil, nodeID: i))
                for (k, j) in n.inputs.enumerated() where p.needsGrad[j] {
                    guard let gj = gs[k] else { continue }
                    grads[j] = try grads[j].map { try $0 + gj } ?? gj
                }
            }
            if let afterOp {
                let ready = try (finalAt[i] ?? []).sorted().map { j in
                    (name: nodes[j].name, grad: try grads[j] ?? Tensor.zeros(graph.params[nodes[j].name]!.shape, dtype: graph.params[nodes[j].name]!.dtype))
                }
                try afterOp(ready)
            }
        }
        var out: [String: Tensor] = [:]
        for i in p.order where nodes[i].op == .param && p.needsGrad[i] {
            let name = nodes[i].name
            out[name] = try grads[i] ?? Tensor.zeros(graph.params[name]!.shape, dtype: graph.params[name]!.dtype)
        }
        return (out, grads)
    }
}
