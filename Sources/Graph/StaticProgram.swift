import Tensor

/// A graph lowered for one batch size: every intermediate value gets its place in one
/// arena laid out by the liveness memory plan (`planMemory`), and every node becomes one
/// raw-pointer kernel call on prepared layers (`PreparedLayer`). A call copies the inputs'
/// pointers in, runs the kernels and copies the outputs out: no tensors, no allocation,
/// no reference counting per node. Same C calls as the Tensor path, so the same bits.
///
/// Raw kernels exist for dense, the fused and compressed dense layers, conv2d
/// (+activation) without groups or dilation, max/avg pooling, activations, softmax, and
/// (in `StaticKernels`) eval batch norm, layer norm, add/sub/mul/div and `elementwise`
/// chains; flatten/reshape/dropout are views. Any other float32 op (concat, transpose,
/// reductions...) runs its Tensor kernel on copies of its inputs, its result copied into
/// the arena. Graphs with values of other dtypes (integer ids, masks) are not lowered (the
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

    /// Nil when some node has no lowering (the caller then uses `InferenceProgram`).
    init?(_ graph: Graph, batch: Int) {
        let memory = planMemory(graph, batch: batch)
        var offsets: [Int] = [], total = 0
        for b in memory.bufferBytes { offsets.append(total); total += (b + 63) / 64 * 64 }
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(total, 64), alignment: 64)
        feedPointers = .allocate(capacity: max(graph.inputs.count, 1))
        feedPointers.initialize(repeating: nil, count: max(graph.inputs.count, 1))

        let nodes = graph.nodes
        var kernels: [() -> Int32] = []   // each holds its prepared layer
        let feeds = feedPointers, base = arena
        let extra = StaticKernels(graph, batch: batch, memory: memory, feeds: feeds)
        self.extra = extra
        func arenaAt(_ i: Int) -> UnsafeMutablePointer<Float>? {
            memory.buffer[i].map { (base + offsets[$0]).assumingMemoryBound(to: Float.self) }
        }
        let param = extra.param
        var lowered = true
        for i in graph.neededNodes() {
            let n = nodes[i]
            let shape = graph.concreteShape(i, batch: batch)
            if n.op == "input" {
                guard n.dtype == .float32, let k = graph.inputs.firstIndex(of: i) else { lowered = false; break }
                extra.sources[i] = Source(fixed: nil, feed: k)
                continue
            }
            if n.op == "param" { continue }
            // (a binary op's first input may be a parameter: its chain reads it as an operand)
            guard n.dtype == .float32, let first = n.inputs.first, extra.sources[first] != nil || ["add", "sub", "mul", "div"].contains(n.op) else { lowered = false; break }
            let x = extra.sources[first] ?? Source(fixed: nil, feed: 0)
            if ["flatten", "reshape", "dropout"].contains(n.op) { extra.sources[i] = x; continue }   // views
            guard let y = arenaAt(i) else { lowered = false; break }
            extra.sources[i] = Source(fixed: UnsafePointer(y), feed: 0)
            let count = shape.reduce(1, *), cols = shape.last ?? 1, rows = cols == 0 ? 0 : count / cols
            let act = n.attrs.string("activation", "none")
            var layer: PreparedLayer? = nil
            var rowsOverride: Int? = nil   // images, for layers whose rows are whole NCHW images
            var after: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? = nil
            switch n.op {
            case "dense", "dense_act":
                guard let w = param(n.inputs[1]) else { lowered = false; break }
                let b = n.inputs.count == 3 ? param(n.inputs[2]) : nil
                if n.inputs.count == 3 && b == nil { lowered = false; break }
                if act != "none" && act != "relu" {
                    guard n.op == "dense_act", let f = PreparedLayer.activation(act) else { lowered = false; break }
                    after = f
                }
                layer = try? PreparedLayer.linear(weight: w, bias: b, relu: act == "relu")
            case "qdense":
                let ps = n.inputs.dropFirst().map(param)
                guard ps.allSatisfy({ $0 != nil }) else { lowered = false; break }
                let q = QDenseSettings(n.attrs)
                layer = try? PreparedLayer.qlinear(weight: ps[0]!, weightScale: ps[1]!, colSum: ps[2]!, bias: ps.count == 4 ? ps[3] : nil,
                                                   actScale: q.actScale, actZero: q.actZero, unsigned: q.unsigned, relu: q.relu)
            case "sparse_dense":
                let ps = n.inputs.dropFirst().map(param)
                guard ps.allSatisfy({ $0 != nil }) else { lowered = false; break }
                layer = try? PreparedLayer.csrLinear(values: ps[0]!, indices: ps[1]!, indptr: ps[2]!, inFeatures: n.attrs.int("in", -1),
                                                     bias: ps.count == 4 ? ps[3] : nil, relu: act == "relu")
            case "conv2d", "conv2d_act":
                let xs = graph.concreteShape(n.inputs[0], batch: batch)
                guard xs.count == 4, shape.count == 4, let w = param(n.inputs[1]) else { lowered = false; break }
                let b = n.inputs.count == 3 ? param(n.inputs[2]) : nil
                if n.inputs.count == 3 && b == nil { lowered = false; break }
                let relu = n.op == "conv2d_act" && act == "relu"
                if n.op == "conv2d_act" && !relu && act != "none" {
                    guard let f = PreparedLayer.activation(act) else { lowered = false; break }
                    after = f
                }
                layer = try? PreparedLayer.conv2d(weight: w, bias: b, input: (xs[1], xs[2], xs[3]), stride: n.attrs.pair("stride", 1),
                                                  padding: n.attrs.pair("padding", 0), relu: relu)
                rowsOverride = shape[0]
            case "max_pool2d", "avg_pool2d":
                let xs = graph.concreteShape(n.inputs[0], batch: batch)
                guard xs.count == 4, shape.count == 4 else { lowered = false; break }
                let k = n.attrs.pair("kernel", 2)
                layer = try? PreparedLayer.pool2d(input: (xs[1], xs[2], xs[3]), kernel: k, stride: n.attrs.pair("stride", k.0),
                                                  padding: n.attrs.pair("padding", 0), isMax: n.op == "max_pool2d")
                rowsOverride = shape[0]
            case "relu", "tanh", "sigmoid", "gelu":
                let f = PreparedLayer.activation(n.op)!
                kernels.append { f(x.get(feeds), y, count); return 0 }
                continue
            // Cases a raw kernel does not take (an operand that shares the output's buffer, a
            // non-float parameter...) run the op's Tensor kernel, like ops without one.
            case "add", "sub", "mul", "div", "leaky_relu", "elementwise":
                guard let k = extra.chain(i, y, shape: shape) ?? extra.tensorKernel(i, y, shape: shape) else { lowered = false; break }
                kernels.append(k)
                continue
            case "batch_norm":
                guard let k = extra.batchNorm(i, x, y) ?? extra.tensorKernel(i, y, shape: shape) else { lowered = false; break }
                kernels.append(k)
                continue
            case "layer_norm":
                guard let k = extra.layerNorm(i, x, y, rows: rows, cols: cols) ?? extra.tensorKernel(i, y, shape: shape) else { lowered = false; break }
                kernels.append(k)
                continue
            case "softmax":
                guard n.attrs.int("axis", -1) == -1 || n.attrs.int("axis", -1) == shape.count - 1 else { lowered = false; break }
                kernels.append { PreparedLayer.softmaxRows(x.get(feeds), y, rows: rows, cols: cols); return 0 }
                continue
            default:
                guard let k = extra.tensorKernel(i, y, shape: shape) else { lowered = false; break }
                kernels.append(k)
                continue
            }
            let layerRows = rowsOverride ?? rows
            guard lowered, let l = layer, layerRows > 0, l.outFeatures * layerRows == count else { lowered = false; break }
            if let f = after {
                kernels.append { let s = l.run(x.get(feeds), rows: layerRows, y); f(y, y, count); return s }
            } else {
                kernels.append { l.run(x.get(feeds), rows: layerRows, y) }
            }
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
