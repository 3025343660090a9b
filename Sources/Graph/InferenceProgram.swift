import Tensor

/// The eval-mode form of a graph, resolved once: each needed op node becomes a step with
/// its `OpDef`, input slots and attributes already looked up, and the values that die at
/// that step. `Executor.run` uses it, so a batch-1 call does no per-node dictionary
/// lookups, copies no `Node`s and allocates no per-call bookkeeping arrays. What is left
/// per node is the op's own tensor work (output allocation, reference counting: ~0.5 µs
/// a layer); graphs that `StaticProgram` can lower skip that too.
///
/// Not thread-safe (the slot array is reused): one call at a time per executor, as before.
final class InferenceProgram {
    /// A class, not a struct: iterating over structs holding closures, arrays and a
    /// dictionary retains and releases each of them per step, which at batch 1 costs more
    /// than the arithmetic.
    final class Step {
        let node: Int
        let forward: ([Tensor], Attrs, OpContext) throws -> (Tensor, [Tensor])
        let inputs: [Int]
        let attrs: Attrs
        /// Slots whose last reader is this step: released right after it, so their
        /// buffers go back to the pool for the next steps.
        let frees: [Int]
        init(node: Int, forward: @escaping ([Tensor], Attrs, OpContext) throws -> (Tensor, [Tensor]), inputs: [Int], attrs: Attrs, frees: [Int]) {
            self.node = node; self.forward = forward; self.inputs = inputs; self.attrs = attrs; self.frees = frees
        }
    }

    let steps: [Step]
    let feeds: [(slot: Int, name: String, dtype: DType)]
    let outputs: [Int]
    private var values: [Tensor?]
    private var args: [Tensor] = []
    private let ctx: OpContext = { let c = OpContext(training: false); c.inference = true; return c }()

    init(_ graph: Graph, plan: Executor.Plan) {
        let nodes = graph.nodes
        var steps: [Step] = [], feeds: [(Int, String, DType)] = []
        values = [Tensor?](repeating: nil, count: nodes.count)
        for i in plan.order {
            let n = nodes[i]
            switch n.op {
            case .input: feeds.append((i, n.name, n.dtype))
            // Weights fill their slots once (the executor drops the program when its graph
            // changes) and are never cleared, so a call looks up no weight by name.
            case .param: values[i] = graph.params[n.name]!
            default:
                // A value read twice by one node is freed once.
                var frees: [Int] = []
                for j in n.inputs where plan.lastUse[j] == i && !frees.contains(j) && nodes[j].op != .param { frees.append(j) }
                steps.append(Step(node: i, forward: OpRegistry.ops[n.op]!.forward, inputs: n.inputs, attrs: n.attrs, frees: frees))
            }
        }
        self.steps = steps; self.feeds = feeds; self.outputs = plan.outputs
    }

    /// Eval-mode outputs for `feeds` (already checked by the executor), and any state
    /// updates the ops reported (none in eval mode; returned so `run` matches `forward`).
    func run(_ feedValues: [String: Tensor], seed: UInt64, step: UInt64) throws -> ([Tensor], [(node: Int, input: Int, value: Tensor)]) {
        defer { for s in steps { values[s.node] = nil }; for f in feeds { values[f.slot] = nil } }
        for f in feeds {
            let t = feedValues[f.name]!
            values[f.slot] = t.dtype == f.dtype ? t : t.astype(f.dtype)
        }
        ctx.seed = seed; ctx.step = step; ctx.stateUpdates.removeAll(keepingCapacity: true)
        for s in steps {
            args.removeAll(keepingCapacity: true)
            for j in s.inputs { args.append(values[j]!) }
            ctx.nodeID = s.node
            let y = try s.forward(args, s.attrs, ctx).0
            args.removeAll(keepingCapacity: true)
            for j in s.frees { values[j] = nil }
            values[s.node] = y
        }
        return (outputs.map { values[$0]! }, ctx.stateUpdates)
    }
}
