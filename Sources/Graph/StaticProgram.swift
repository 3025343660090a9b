import Tensor

/// A graph lowered for one batch size: every intermediate value gets its place in one
/// arena laid out by the liveness memory plan (`planMemory`), and every node becomes one
/// raw-pointer kernel call on prepared layers (`PreparedLayer`). A call copies the inputs'
/// pointers in, runs the kernels and copies the outputs out: no tensors, no allocation,
/// no reference counting per node. Same C calls as the Tensor path, so the same bits.
///
/// Only graphs made entirely of the ops below are lowered (dense, the fused and
/// compressed dense layers, conv2d (+activation) without groups or dilation, max/avg
/// pooling, activations, softmax, batch norm (eval), layer norm, add/sub/mul/div and `elementwise` chains
/// whose operands are full-size values or parameters (broadcast once here),
/// flatten/reshape/dropout) get raw kernels; any other float32 op (concat, transpose,
/// reductions, ...) runs its Tensor kernel on copies of its inputs, its result copied into
/// the arena. Graphs with other dtypes (integer ids, masks) run through `InferenceProgram`.
/// Not thread-safe (one arena).
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
    /// Per elementwise kernel, its operands' addresses, filled at each call (feeds move).
    private var pointerTables: [UnsafeMutablePointer<UnsafePointer<Float>>] = []
    /// Parameters made contiguous or broadcast at lowering, which kernels read.
    private var held: [Tensor] = []
    /// What a Tensor-kernel node threw during the current call.
    private final class ErrorBox { var error: Error? }
    private let fallbackError = ErrorBox()

    /// Nil when some node has no lowering (the caller then uses `InferenceProgram`).
    init?(_ graph: Graph, batch: Int) {
        let memory = planMemory(graph, batch: batch)
        var offsets: [Int] = [], total = 0
        for b in memory.bufferBytes { offsets.append(total); total += (b + 63) / 64 * 64 }
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(total, 64), alignment: 64)
        feedPointers = .allocate(capacity: max(graph.inputs.count, 1))
        feedPointers.initialize(repeating: nil, count: max(graph.inputs.count, 1))

        let nodes = graph.nodes
        var sources: [Int: Source] = [:]
        var kernels: [() -> Int32] = []   // each holds its prepared layer
        let feeds = feedPointers, base = arena
        func arenaAt(_ i: Int) -> UnsafeMutablePointer<Float>? {
            memory.buffer[i].map { (base + offsets[$0]).assumingMemoryBound(to: Float.self) }
        }
        func param(_ i: Int) -> Tensor? { nodes[i].op == "param" ? graph.params[nodes[i].name] : nil }
        var lowered = true
        var tables: [UnsafeMutablePointer<UnsafePointer<Float>>] = []
        var held: [Tensor] = []   // parameters copied or broadcast for a kernel
        // An elementwise operand of `count` elements: an activation or feed of that size, or a
        // parameter of that size, of one element (scalar) or broadcast into `shape` once here.
        func operand(_ j: Int, count: Int, shape: [Int]) -> (Source, scalar: Bool)? {
            if let t = param(j) {
                guard t.dtype == .float32 else { return nil }
                let full = t.count == count || t.count == 1 ? t.contiguous() : (try? t.expand(to: shape).contiguous())
                guard let f = full, let p = f.contiguousFloats else { return nil }
                held.append(f)
                return (Source(fixed: p, feed: 0), f.count == 1 && count != 1)
            }
            guard let src = sources[j], graph.concreteShape(j, batch: batch).reduce(1, *) == count else { return nil }
            return (src, false)
        }
        for i in graph.neededNodes() {
            let n = nodes[i]
            let shape = graph.concreteShape(i, batch: batch)
            if n.op == "input" {
                guard n.dtype == .float32, let k = graph.inputs.firstIndex(of: i) else { lowered = false; break }
                sources[i] = Source(fixed: nil, feed: k)
                continue
            }
            if n.op == "param" { continue }
            // (a binary op's first input may be a parameter: its chain reads it as an operand)
            guard n.dtype == .float32, let first = n.inputs.first, sources[first] != nil || ["add", "sub", "mul", "div"].contains(n.op) else { lowered = false; break }
            let x = sources[n.inputs[0]] ?? Source(fixed: nil, feed: 0)
            if ["flatten", "reshape", "dropout"].contains(n.op) { sources[i] = x; continue }   // views
            guard let y = arenaAt(i) else { lowered = false; break }
            sources[i] = Source(fixed: UnsafePointer(y), feed: 0)
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
            case "add", "sub", "mul", "div", "leaky_relu", "elementwise":
                // One chain kernel (ChainProgram, as the Tensor path's fused chain): its running
                // value must be full-size and the only input it may share a buffer with.
                let shares = n.inputs.map { j in memory.buffer[j] != nil && memory.buffer[j] == memory.buffer[i] }
                var ins = n.inputs, steps: [ChainStep] = []
                switch n.op {
                case "leaky_relu": steps = [ChainStep(op: "leaky_relu", slope: n.attrs.double("slope", 0.01))]
                case "elementwise":
                    guard let parsed = try? ChainStep.parse(n.attrs.string("steps", "")) else { lowered = false; break }
                    steps = parsed
                default:
                    // a op b runs as b (op reversed) a when the output shares b's buffer or only b is full-size.
                    let bFirst = shares[1] || (!shares[0] && graph.concreteShape(ins[0], batch: batch).reduce(1, *) != count)
                    if bFirst { ins.swapAt(0, 1) }
                    steps = [ChainStep(op: n.op, operand: 1, reversed: bFirst)]
                }
                guard lowered else { break }
                let chain = ChainProgram(steps)
                let ops = ins.map { operand($0, count: count, shape: shape) }
                guard ops.allSatisfy({ $0 != nil }), !ops[0]!.scalar, ins.dropFirst().allSatisfy({ j in memory.buffer[j] == nil || memory.buffer[j] != memory.buffer[i] }),
                      !(chain.readsInput && memory.buffer[ins[0]] != nil && memory.buffer[ins[0]] == memory.buffer[i]) else { lowered = false; break }
                let srcs = ops.map { $0!.0 }, scalar = ops.map { $0!.scalar }
                let table = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: srcs.count)
                tables.append(table)
                kernels.append {
                    for k in srcs.indices { table[k] = srcs[k].get(feeds) }
                    chain.run(table[0], y, count: count, operands: table, scalar: scalar)
                    return 0
                }
                continue
            case "batch_norm":
                // Eval mode, as the Tensor op computes it: rstd = 1 / sqrt(var + eps) per channel,
                // then ((x − mean) · rstd) · γ + β, each operation rounded on its own.
                let xs = graph.concreteShape(n.inputs[0], batch: batch)
                let ps = n.inputs.dropFirst().map(param)
                guard xs.count >= 2, ps.allSatisfy({ $0?.dtype == .float32 && $0?.count == xs[1] }) else { lowered = false; break }
                let eps = Float(n.attrs.double("eps", 1e-5))
                let v = ps[3]!.toFloats().map { 1 / ($0 + eps).squareRoot() }
                guard let stats = try? Tensor(ps[2]!.toFloats() + v + ps[0]!.toFloats() + ps[1]!.toFloats(), shape: [4, xs[1]]),
                      let st = stats.contiguousFloats else { lowered = false; break }
                held.append(stats)
                let channels = xs[1], inner = xs.dropFirst(2).reduce(1, *), images = xs[0]
                kernels.append {
                    let src = x.get(feeds)
                    for img in 0..<images {
                        for c in 0..<channels {
                            let base = (img * channels + c) * inner
                            let (m, r, g, b) = (st[c], st[channels + c], st[2 * channels + c], st[3 * channels + c])
                            for e in base..<(base + inner) { y[e] = ((src[e] - m) * r) * g + b }
                        }
                    }
                    return 0
                }
                continue
            case "layer_norm":
                guard let g = param(n.inputs[1])?.contiguous(), let b = param(n.inputs[2])?.contiguous(), g.count == cols, b.count == cols,
                      let gp = g.contiguousFloats, let bp = b.contiguousFloats else { lowered = false; break }
                held += [g, b]
                let eps = n.attrs.double("eps", 1e-5)
                kernels.append { PreparedLayer.layerNormRows(x.get(feeds), y, rows: rows, cols: cols, gamma: gp, beta: bp, eps: eps); return 0 }
                continue
            case "softmax":
                guard n.attrs.int("axis", -1) == -1 || n.attrs.int("axis", -1) == shape.count - 1 else { lowered = false; break }
                kernels.append { PreparedLayer.softmaxRows(x.get(feeds), y, rows: rows, cols: cols); return 0 }
                continue
            default:
                // No raw kernel: the op's Tensor kernel on copies of its inputs, its output copied
                // into the arena (the same bits as the Tensor path), so one such node does not
                // keep the rest of the graph off the plan.
                guard let def = OpRegistry.ops[n.op] else { lowered = false; break }
                let ins: [(src: Source?, layout: Tensor.CopyLayout?, value: Tensor?)] = n.inputs.map { j in
                    if let t = param(j) { return (nil, nil, t) }
                    return (sources[j], Tensor.CopyLayout(shape: graph.concreteShape(j, batch: batch)), nil)
                }
                guard ins.allSatisfy({ $0.value != nil || $0.src != nil }) else { lowered = false; break }
                let attrs = n.attrs, ctx = OpContext(training: false), failure = fallbackError
                ctx.inference = true
                kernels.append {
                    do {
                        let args = try ins.map { try $0.value ?? Tensor.copying($0.src!.get(feeds), layout: $0.layout!) }
                        let out = try def.forward(args, attrs, ctx).0.astype(.float32).contiguous()
                        guard out.count == count, let p = out.contiguousFloats else { throw GraphError("run: \(n.op) gave shape \(out.shape), planned \(shape)") }
                        y.update(from: p, count: count)
                        return 0
                    } catch {
                        failure.error = error
                        return 2
                    }
                }
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
                guard let s = sources[o], let p = s.fixed, nodes[o].dtype == .float32 else { lowered = false; break }
                outs.append((p, Tensor.CopyLayout(shape: graph.concreteShape(o, batch: batch))))
            }
        }
        self.kernels = kernels; self.outputs = outs; self.pointerTables = tables; self.held = held
        if !lowered { return nil }
    }

    deinit {
        arena.deallocate()
        feedPointers.deallocate()
        for t in pointerTables { t.deallocate() }
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
            if let e = fallbackError.error { fallbackError.error = nil; throw e }
            throw GraphError("run: out of memory for a kernel's scratch buffer")
        }
        return try outputs.map { try Tensor.copying($0.at, layout: $0.layout) }
    }
}
