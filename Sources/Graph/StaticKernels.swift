import Tensor

/// The steps of `StaticProgram` that are not a prepared layer, which the op table's
/// lowerings (`Lowering.swift`) build: elementwise chains, batch and layer norm, and the
/// Tensor-kernel step for ops without a raw kernel. One per program build; it holds what those kernels read (parameters made contiguous or
/// broadcast, operand pointer tables) until the program takes them over.
final class StaticKernels {
    typealias Source = StaticProgram.Source
    typealias Kernel = () -> Int32

    let graph: Graph
    let batch: Int
    let memory: MemoryPlan
    let feeds: UnsafeMutablePointer<UnsafePointer<Float>?>
    /// Where each value lowered so far is read.
    var sources: [Int: Source] = [:]
    /// Parameters copied or broadcast for a kernel.
    var held: [Tensor] = []
    /// Per chain kernel, its operands' addresses, filled at each call (feeds move).
    var tables: [UnsafeMutablePointer<UnsafePointer<Float>>] = []
    /// What a Tensor-kernel step threw during the current call (the kernel returns 2).
    final class ErrorBox { var error: Error? }
    let failure = ErrorBox()

    init(_ graph: Graph, batch: Int, memory: MemoryPlan, feeds: UnsafeMutablePointer<UnsafePointer<Float>?>) {
        self.graph = graph; self.batch = batch; self.memory = memory; self.feeds = feeds
    }

    func param(_ i: Int) -> Tensor? { graph.nodes[i].op == .param ? graph.params[graph.nodes[i].name] : nil }
    private func elements(_ j: Int) -> Int { graph.concreteShape(j, batch: batch).reduce(1, *) }
    /// Whether value j lives in node i's planned buffer.
    private func shares(_ j: Int, _ i: Int) -> Bool { memory.buffer[j] != nil && memory.buffer[j] == memory.buffer[i] }

    /// An elementwise operand of `count` elements: an activation or feed of that size, or a
    /// parameter of that size, of one element (scalar) or broadcast into `shape` once here.
    private func operand(_ j: Int, count n: Int, shape: [Int]) -> (Source, scalar: Bool)? {
        if let t = param(j) {
            guard t.dtype == .float32 else { return nil }
            let full = t.count == n || t.count == 1 ? t.contiguous() : (try? t.expand(to: shape).contiguous())
            guard let f = full, let p = f.contiguousFloats else { return nil }
            held.append(f)
            return (Source(fixed: p, feed: 0), f.count == 1 && n != 1)
        }
        guard let src = sources[j], elements(j) == n else { return nil }
        return (src, false)
    }

    /// add/sub/mul/div, leaky_relu and `elementwise` as one `ChainProgram` (the Tensor op's
    /// fused loop): its running value must be full-size and the only input that may share
    /// node i's buffer.
    func chain(_ i: Int, _ y: UnsafeMutablePointer<Float>, shape: [Int]) -> Kernel? {
        let n = graph.nodes[i], count = shape.reduce(1, *)
        var ins = n.inputs, steps: [ChainStep]
        switch n.op {
        case .leakyRelu: steps = [ChainStep(op: .leakyRelu, slope: n.attrs.double("slope", 0.01))]
        case .elementwise:
            guard let chain = n.attrs.chain("steps") else { return nil }
            steps = chain
        default:
            // a op b runs as b (op reversed) a when the output shares b's buffer or only b is full-size.
            let bFirst = shares(ins[1], i) || (!shares(ins[0], i) && elements(ins[0]) != count)
            if bFirst { ins.swapAt(0, 1) }
            steps = [ChainStep(op: n.op, operand: 1, reversed: bFirst)]
        }
        let chain = ChainProgram(steps)
        let ops = ins.map { operand($0, count: count, shape: shape) }
        guard ops.allSatisfy({ $0 != nil }), !ops[0]!.scalar, !ins.dropFirst().contains(where: { shares($0, i) }),
              !(chain.readsInput && shares(ins[0], i)) else { return nil }
        let srcs = ops.map { $0!.0 }, scalar = ops.map { $0!.scalar }, feeds = feeds
        let table = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: srcs.count)
        tables.append(table)
        return {
            for k in srcs.indices { table[k] = srcs[k].get(feeds) }
            chain.run(table[0], y, count: count, operands: table, scalar: scalar)
            return 0
        }
    }

    /// Eval-mode batch norm as the Tensor op computes it: rstd = 1 / sqrt(var + eps) per
    /// channel, then ((x − mean) · rstd) · γ + β, each operation rounded on its own.
    func batchNorm(_ i: Int, _ x: Source, _ y: UnsafeMutablePointer<Float>) -> Kernel? {
        let n = graph.nodes[i], xs = graph.concreteShape(n.inputs[0], batch: batch)
        let ps = n.inputs.dropFirst().map(param)
        guard xs.count >= 2, ps.allSatisfy({ $0?.dtype == .float32 && $0?.count == xs[1] }) else { return nil }
        let eps = Float(n.attrs.double("eps", 1e-5))
        let rstd = ps[3]!.toFloats().map { 1 / ($0 + eps).squareRoot() }
        guard let stats = try? Tensor(ps[2]!.toFloats() + rstd + ps[0]!.toFloats() + ps[1]!.toFloats(), shape: [4, xs[1]]),
              let st = stats.contiguousFloats else { return nil }
        held.append(stats)
        let channels = xs[1], inner = xs.dropFirst(2).reduce(1, *), images = xs[0], feeds = feeds
        return {
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
    }

    /// Layer norm over the last axis: the C row kernel the Tensor op runs too.
    func layerNorm(_ i: Int, _ x: Source, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) -> Kernel? {
        let n = graph.nodes[i]
        guard let g = param(n.inputs[1])?.contiguous(), let b = param(n.inputs[2])?.contiguous(), g.count == cols, b.count == cols,
              let gp = g.contiguousFloats, let bp = b.contiguousFloats else { return nil }
        held += [g, b]
        let eps = n.attrs.double("eps", 1e-5), feeds = feeds
        return { PreparedLayer.layerNormRows(x.get(feeds), y, rows: rows, cols: cols, gamma: gp, beta: bp, eps: eps); return 0 }
    }

    /// An op without a raw kernel: its Tensor kernel on copies of its inputs, the result
    /// copied into the arena (the same bits as the Tensor path), so one such node does not
    /// keep the rest of the graph off the plan.
    func tensorKernel(_ i: Int, _ y: UnsafeMutablePointer<Float>, shape: [Int]) -> Kernel? {
        let n = graph.nodes[i], count = shape.reduce(1, *)
        guard let def = OpRegistry.ops[n.op] else { return nil }
        let ins: [(src: Source?, layout: Tensor.CopyLayout?, value: Tensor?)] = n.inputs.map { j in
            if let t = param(j) { return (nil, nil, t) }
            return (sources[j], Tensor.CopyLayout(shape: graph.concreteShape(j, batch: batch)), nil)
        }
        guard ins.allSatisfy({ $0.value != nil || $0.src != nil }) else { return nil }
        let attrs = n.attrs, op = n.op, ctx = OpContext(training: false), failure = failure, feeds = feeds
        ctx.inference = true
        return {
            do {
                let args = try ins.map { try $0.value ?? Tensor.copying($0.src!.get(feeds), layout: $0.layout!) }
                let out = try def.forward(args, attrs, ctx).0.astype(.float32).contiguous()
                guard out.count == count, let p = out.contiguousFloats else { throw GraphError("run: \(op) gave shape \(out.shape), planned \(shape)") }
                y.update(from: p, count: count)
                return 0
            } catch {
                failure.error = error
                return 2
            }
        }
    }
}
