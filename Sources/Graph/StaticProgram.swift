import Tensor

/// A graph lowered for one batch size: every intermediate value gets its place in one
/// arena laid out by the liveness memory plan (`planMemory`), and every node becomes one
/// raw-pointer kernel call on prepared layers (`PreparedLayer`). A call copies the inputs'
/// pointers in, runs the kernels and copies the outputs out: no tensors, no allocation,
/// no reference counting per node. Same C calls as the Tensor path, so the same bits.
///
/// Each op is lowered by its op-table entry (`OpDef.lower`, see `Lowering`): raw kernels
/// for dense, the fused and compressed dense layers, conv2d (+activation) without groups or
/// dilation, max/avg pooling, activations, softmax, eval batch norm, layer norm,
/// add/sub/mul/div and `elementwise` chains; flatten/reshape/dropout are views. Any other
/// float32 op (concat, transpose, reductions...) runs its Tensor kernel on copies of its
/// inputs, its result copied into the arena. Graphs with values of other dtypes (integer ids, masks) are not lowered (the
/// caller uses `InferenceProgram`). Not thread-safe (one arena).
final class StaticProgram {
    /// Where a kernel reads a value: a fixed address (arena, weight) or a graph input.
    struct Source {
        let fixed: UnsafePointer<Float>?
        let feed: Int
        @inline(__always) func get(_ feeds: UnsafeMutablePointer<UnsafePointer<Float>?>) -> UnsafePointer<Float> { fixed ?? feeds[feed]! }
    }

    private let arena: UnsafeMutableRawPointer
    private let feedPointers: UnsafeMutablePointer<UnsafePointer<Float>?>
    private let kernels: [() -> Int32]
    private let outputs: [(at: UnsafePointer<Float>, layout: Tensor.CopyLayout)]
    /// What the chain, norm and Tensor-kernel steps read and report (see `StaticKernels`).
    private let extra: StaticKernels

    /// Nil when some node cannot be lowered (the caller then uses `InferenceProgram`).
    init?(_ graph: Graph, batch: Int) {
        let memory = planMemory(graph, batch: batch)
        var offsets: [Int] = [], total = 0
        for b in memory.bufferBytes { offsets.append(total); total += (b + 63) / 64 * 64 }
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(total, 64), alignment: 64)
        feedPointers = .allocate(capacity: max(graph.inputs.count, 1))
        feedPointers.initialize(repeating: nil, count: max(graph.inputs.count, 1))

        let nodes = graph.nodes
        var kernels: [() -> Int32] = []   // each holds its prepared layer
        let base = arena
        let extra = StaticKernels(graph, batch: batch, memory: memory, feeds: feedPointers)
        self.extra = extra
        func arenaAt(_ i: Int) -> UnsafeMutablePointer<Float>? {
            memory.buffer[i].map { (base + offsets[$0]).assumingMemoryBound(to: Float.self) }
        }
        var lowered = true
        for i in graph.neededNodes() {
            let n = nodes[i]
            if n.op == .input {
                guard n.dtype == .float32, let k = graph.inputs.firstIndex(of: i) else { lowered = false; break }
                extra.sources[i] = Source(fixed: nil, feed: k)
                continue
            }
            if n.op == .param { continue }
            let lowering = OpRegistry.ops[n.op]?.lower
            guard n.dtype == .float32, let first = n.inputs.first,
                  extra.sources[first] != nil || lowering?.firstMayBeConstant == true else { lowered = false; break }
            let x = extra.sources[first] ?? Source(fixed: nil, feed: 0)
            if lowering?.isView == true { extra.sources[i] = x; continue }
            guard let y = arenaAt(i) else { lowered = false; break }
            extra.sources[i] = Source(fixed: UnsafePointer(y), feed: 0)
            let shape = graph.concreteShape(i, batch: batch)
            var step = LoweredStep.tensorKernel
            if case .step(let build)? = lowering?.form {
                step = build(LoweringSite(kernels: extra, id: i, node: n, x: x, y: y, shape: shape))
            }
            if case .tensorKernel = step { step = extra.tensorKernel(i, y, shape: shape).map { .kernel($0) } ?? .unsupported }
            guard case .kernel(let k) = step else { lowered = false; break }
            kernels.append(k)
        }
        var outs: [(UnsafePointer<Float>, Tensor.CopyLayout)] = []
        if lowered {
            for o in graph.outputs {
                guard let s = extra.sources[o], let p = s.fixed, nodes[o].dtype == .float32 else { lowered = false; break }
                outs.append((p, Tensor.CopyLayout(shape: graph.concreteShape(o, batch: batch))))
            }
        }
        self.kernels = kernels; self.outputs = outs
        if !lowered { return nil }
    }

    deinit {
        arena.deallocate()
        feedPointers.deallocate()
        for t in extra.tables { t.deallocate() }
    }

    /// `run([t])` for graphs of one input without the array.
    func run(single t: Tensor) throws -> [Tensor] {
        guard let p = t.contiguousFloats else { return try run([t]) }
        feedPointers[0] = p
        defer { feedPointers[0] = nil; withExtendedLifetime(t) {} }
        return try execute()
    }

    /// Outputs for `inputs`, the graph's inputs in order (already checked by the executor).
    func run(_ inputs: [Tensor]) throws -> [Tensor] {
        var converted: [Tensor] = []   // copies of feeds that are not contiguous float32 (rare)
        for (k, t) in inputs.enumerated() {
            if let p = t.contiguousFloats { feedPointers[k] = p; continue }
            converted.append(t.astype(.float32).contiguous())
            feedPointers[k] = converted[converted.count - 1].contiguousFloats
        }
        defer {
            for k in inputs.indices { feedPointers[k] = nil }
            withExtendedLifetime(inputs) {}   // the kernels read their storage
            withExtendedLifetime(converted) {}
        }
        return try execute()
    }

    /// The kernels on the feed pointers set by the caller, then the outputs copied out.
    private func execute() throws -> [Tensor] {
        // By index: iterating the array would copy (retain and release) each closure.
        for i in kernels.indices where kernels[i]() != 0 {
            if let e = extra.failure.error { extra.failure.error = nil; throw e }
            throw GraphError("run: out of memory for a kernel's scratch buffer")
        }
        return try outputs.map { try Tensor.copying($0.at, layout: $0.layout) }
    }
}
