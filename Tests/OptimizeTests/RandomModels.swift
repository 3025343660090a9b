import Graph
import Tensor
import Train

/// Small deterministic generator so every random graph is reproducible from its seed.
struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 { s = mixSeed(s, 1); return s }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
}

/// Gives every batch norm non-trivial running statistics (so folding is really tested).
func randomizeStats(_ m: inout Model, seed: UInt64) throws {
    for (k, name) in m.graph.paramNames.enumerated() {
        let t = m.graph.params[name]!
        if name.hasSuffix("running_mean") || name.hasSuffix(".beta") || name.hasSuffix(".bias") {
            m.graph.params[name] = try Tensor.randn(t.shape, seed: mixSeed(seed, UInt64(k))) * 0.3
        } else if name.hasSuffix("running_var") || name.hasSuffix(".gamma") {
            m.graph.params[name] = try Tensor.rand(t.shape, seed: mixSeed(seed, UInt64(k))) + 0.5
        }
    }
}

let activationLayers: [() -> Layer] = [relu, gelu, tanh, sigmoid, { leakyRelu(0.1) }]

/// A random MLP with unfused activations, batch norms, dropout, residual adds and reshapes.
func randomMLP(seed: UInt64) throws -> Model {
    var r = Rng(s: seed)
    var b = ModelBuilder(seed: seed)
    var width = 4 + r.int(12)
    var x = try b.input(shape: [width])
    for _ in 0..<(2 + r.int(3)) {
        let out = 3 + r.int(14)
        let h = try b.apply(dense(width, out), x)
        var y = h
        if r.int(2) == 0 { y = try b.apply(batchNorm(out), y) }
        y = try b.apply(r.pick(activationLayers)(), y)
        if r.int(3) == 0 { y = try b.apply(dropout(0.3), y) }
        if r.int(3) == 0 { y = try b.add(y, h); y = try b.apply(r.pick(activationLayers)(), y) }
        if r.int(4) == 0 { y = try b.apply(reshapeLayer([out, 1]), y); y = try b.apply(flatten(), y) }
        x = y; width = out
    }
    x = try b.apply(dense(width, 3 + r.int(5)), x)
    if r.int(2) == 0 { x = try b.apply(softmax(), x) }
    var m = try b.model(outputs: [x])
    try randomizeStats(&m, seed: seed)
    return m
}

/// A random small CNN: conv (+bn) + activation (+pool), flatten, dense.
func randomCNN(seed: UInt64) throws -> Model {
    var r = Rng(s: seed)
    var b = ModelBuilder(seed: seed)
    var c = 1 + r.int(3), hw = 8 + r.int(5)
    var x = try b.input(shape: [c, hw, hw])
    for _ in 0..<(1 + r.int(2)) {
        let oc = 2 + r.int(5), pad = r.int(2)
        x = try b.apply(conv2d(c, oc, kernel: 3, padding: pad), x)
        hw = hw + 2 * pad - 2
        if r.int(3) > 0 { x = try b.apply(batchNorm(oc), x) }
        x = try b.apply(r.pick(activationLayers)(), x)
        if hw >= 4 && r.int(2) == 0 { x = try b.apply(r.int(2) == 0 ? maxPool(2) : avgPool(2), x); hw /= 2 }
        c = oc
    }
    x = try b.apply(flatten(), x)
    x = try b.apply(dense(c * hw * hw, 4), x)
    var m = try b.model(outputs: [x])
    try randomizeStats(&m, seed: seed)
    return m
}

/// The examples from the brief: a conv+bn+relu+pool+flatten+dense CNN, and a residual MLP.
func smallCNN(seed: UInt64 = 3) throws -> Model {
    var b = ModelBuilder(seed: seed)
    var x = try b.input(shape: [1, 8, 8])
    x = try b.apply(conv2d(1, 8, kernel: 3, padding: 1), x); x = try b.apply(batchNorm(8), x); x = try b.apply(relu(), x)
    x = try b.apply(maxPool(2), x)
    x = try b.apply(conv2d(8, 16, kernel: 3, padding: 1), x); x = try b.apply(batchNorm(16), x); x = try b.apply(relu(), x)
    x = try b.apply(avgPool(2), x)
    x = try b.apply(flatten(), x)
    x = try b.apply(dense(16 * 4, 10), x)
    var m = try b.model(outputs: [x])
    try randomizeStats(&m, seed: seed)
    return m
}

func residualMLP(seed: UInt64 = 5) throws -> Model {
    var b = ModelBuilder(seed: seed)
    let x = try b.input(shape: [32])
    var h = try b.apply(dense(32, 48), x)
    h = try b.apply(gelu(), h)
    for _ in 0..<2 {
        var y = try b.apply(dense(48, 48), h)
        y = try b.apply(layerNorm(48), y)
        y = try b.apply(relu(), y)
        y = try b.apply(dense(48, 48), y)
        h = try b.apply(leakyRelu(0.2), try b.add(h, y))
    }
    var out = try b.apply(dense(48, 10), h)
    out = try b.apply(sigmoid(), out)
    var m = try b.model(outputs: [out])
    try randomizeStats(&m, seed: seed)
    return m
}

func eval(_ m: Model, _ x: Tensor) throws -> Tensor { try Executor(m.graph).run([m.inputName: x])[0] }

func ops(_ m: Model) -> [String] { m.graph.nodes.map(\.op).filter { $0 != .param && $0 != .input }.map(\.rawValue) }
