// Latency of graph execution, unoptimized vs optimized, and ONNX files for the peer.
// Prints one JSON object per line:
//   {"model": "mlp784", "batch": 1, "variant": "optimized", "median_us": 20.1, "p99_us": 25.3}
// Driven by Scripts/bench/graph/run, which runs onnxruntime on the exported files with the
// same thread count and prints ratios. Usage: GraphBench OUTDIR [threads] [model]
import CKernels
import Foundation
import Graph
import Optimize
import Tensor
import Train


/// The models as a training script builds them (activations and batch norms as their own
/// nodes, as ModelBuilder or an imported graph gives them).
func mlp(_ sizes: [Int], seed: UInt64) throws -> Model {
    var b = ModelBuilder(seed: seed)
    var x = try b.input(shape: [sizes[0]])
    for k in 1..<sizes.count {
        x = try b.apply(dense(sizes[k - 1], sizes[k]), x)
        if k < sizes.count - 1 { x = try b.apply(relu(), x) }
    }
    return try b.model(outputs: [x])
}

func cnn(seed: UInt64) throws -> Model {
    var b = ModelBuilder(seed: seed)
    var x = try b.input(shape: [1, 28, 28])
    x = try b.apply(conv2d(1, 8, kernel: 3, padding: 1), x); x = try b.apply(batchNorm(8), x); x = try b.apply(relu(), x)
    x = try b.apply(maxPool(2), x)
    x = try b.apply(conv2d(8, 16, kernel: 3, padding: 1), x); x = try b.apply(batchNorm(16), x); x = try b.apply(relu(), x)
    x = try b.apply(maxPool(2), x)
    x = try b.apply(flatten(), x)
    x = try b.apply(dense(16 * 7 * 7, 10), x)
    var m = try b.model(outputs: [x])
    for name in m.graph.paramNames where name.hasSuffix("running_var") { m.graph.params[name] = try Tensor.rand([m.graph.params[name]!.count], seed: 3) + 0.5 }
    return m
}

/// Residual MLP: 784 -> 128, two blocks of dense, layer norm, ReLU, dense, residual add,
/// ReLU, then 128 -> 10 (the optimizer fuses each add + ReLU into one chain).
func residual(seed: UInt64) throws -> Model {
    var b = ModelBuilder(seed: seed)
    var h = try b.apply(relu(), try b.apply(dense(784, 128), try b.input(shape: [784])))
    for _ in 0..<2 {
        var y = try b.apply(relu(), try b.apply(layerNorm(128), try b.apply(dense(128, 128), h)))
        y = try b.apply(dense(128, 128), y)
        h = try b.apply(relu(), try b.add(h, y))
    }
    let out = try b.apply(dense(128, 10), h)
    var m = try b.model(outputs: [out])
    for (k, name) in m.graph.paramNames.enumerated() where name.hasPrefix("layer_norm") { m.graph.params[name] = try Tensor.rand([128], seed: UInt64(k)) + 0.5 }
    return m
}

let args = CommandLine.arguments
let outDir = args.count > 1 ? args[1] : "/tmp"
let threads = args.count > 2 ? Int(args[2]) ?? 1 : 1
// Profiling knobs: one model (third argument), GB_BATCH=1|64, GB_VARIANT=eager|planned|optimized,
// GB_REPS_SCALE=N (N times the repetitions), GB_MICRO=1 (a batch-1 dense layer, piece by piece).
let only = args.count > 3 ? args[3] : nil
let env = ProcessInfo.processInfo.environment
let batches = env["GB_BATCH"].flatMap { Int($0) }.map { [$0] } ?? [1, 64]
let onlyVariant = env["GB_VARIANT"]
let repsScale = env["GB_REPS_SCALE"].flatMap { Int($0) } ?? 1
Tensor.setThreads(threads)

let models: [(String, Model)] = [("mlp64", try mlp([64, 128, 64, 10], seed: 1)), ("mlp784", try mlp([784, 256, 128, 10], seed: 2)), ("cnn", try cnn(seed: 3)), ("resmlp", try residual(seed: 4))]
for (name, m) in models where only == nil || only == name {
    let fast = try CompiledModel(m).optimized
    try exportONNX(m, "\(outDir)/\(name).onnx")
    for batch in batches {
        let x = try Tensor.randn(m.inputShape.map { $0.resolve(batch: batch) }, seed: 7)
        let feeds = [m.inputName: x]
        let reps = (batch == 1 ? (name == "cnn" ? 1000 : 4000) : (name == "cnn" ? 100 : 800)) * repsScale
        // "eager": the level-0 graph node by node on Tensor kernels, no memory plan (how the
        // executor ran every graph before the planner); "planned": the level-0 graph as a
        // memory-planned static program where it lowers; "optimized": level 2, then the same.
        for (variant, model) in [("eager", m), ("planned", m), ("optimized", fast)] where onlyVariant == nil || onlyVariant == variant {
            let ex = try Executor(model.graph)
            ex.useStatic = variant != "eager"
            for _ in 0..<max(10, reps / 10) { _ = try ex.run(feeds) }
            var ts: [Double] = []
            ts.reserveCapacity(reps)
            for _ in 0..<reps { let s = monotonicSeconds(); _ = try ex.run(feeds); ts.append(monotonicSeconds() - s) }
            ts.sort()
            let med = ts[ts.count / 2] * 1e6, p99 = ts[min(ts.count - 1, ts.count * 99 / 100)] * 1e6
            print("{\"model\": \"\(name)\", \"batch\": \(batch), \"variant\": \"\(variant)\", \"median_us\": \(String(format: "%.2f", med)), \"p99_us\": \(String(format: "%.2f", p99)), \"nodes\": \(model.graph.nodes.count)}")
            fflush(nil)
        }
    }
}

// GB_MICRO=1: where a batch-1 dense layer's time goes (allocation, the Tensor call, the GEMM).
if env["GB_MICRO"] != nil {
    func time(_ label: String, _ reps: Int = 200_000, _ body: () throws -> Void) rethrows {
        for _ in 0..<1000 { try body() }
        let s = monotonicSeconds()
        for _ in 0..<reps { try body() }
        print(label.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%8.1f ns", (monotonicSeconds() - s) / Double(reps) * 1e9))
    }
    let x = try Tensor.randn([1, 64], seed: 1), w = try Tensor.randn([64, 128], seed: 2), b = try Tensor.randn([128], seed: 3)
    // The executor's fixed cost per call: a graph of one relu, feeds built once.
    var rb = ModelBuilder(seed: 1)
    let rout = try rb.apply(relu(), try rb.input(shape: [64]))
    let reluOnly = try Executor(try rb.model(outputs: [rout]).graph), reluFeeds = ["x": x]
    try time("executor run, one relu", env["GB_MICRO_REPS"].flatMap { Int($0) } ?? 200_000) { _ = try reluOnly.run(reluFeeds) }
    try time("alloc [1, 128]") { _ = try Tensor.zeros([1, 128]) }
    try time("linear 64->128 relu") { _ = try Tensor.linear(x, weight: w, bias: b, activation: .relu) }
    let op = OpRegistry.ops[.dense]!
    let attrs: Attrs = ["activation": .activation(.relu)], ctx = OpContext(training: false)
    try time("dense op forward") { _ = try op.forward([x, w, b], attrs, ctx) }
    time("attrs lookup") { _ = attrs.string("activation", "none") }
    let out = try Tensor.zeros([1, 128])
    try x.withFloats { xp in try w.withFloats { wp in try b.withFloats { bp in try out.withFloats { op in
        time("raw sgemm 1x64x128") {
            _ = mlw_sgemm(1, 128, 64, 1, xp.baseAddress, 64, 1, wp.baseAddress, 128, 1, 0,
                          UnsafeMutablePointer(mutating: op.baseAddress), 128, bp.baseAddress, Int32(MLW_BIAS_PER_COL), Int32(MLW_ACT_RELU))
        }
    } } } }
}
