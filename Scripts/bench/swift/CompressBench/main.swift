import Compress
import Frames
import Foundation
import Optimize
import Tensor
import Train

// Digits compression benchmark (Scripts/bench/compress/run): a 64-256-256-10 teacher, then
// distillation, pruning, int8 quantization and all three together, compared on the test split.
// Usage: CompressBench [digits.csv] [runs]
let args = CommandLine.arguments
let path = args.count > 1 ? args[1] : "Scripts/data/digits.csv"
let runs = args.count > 2 ? Int(args[2])! : 1000   // a third argument adds kernel timings
let seed: UInt64 = 42

func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }
func acc(_ m: Model, _ d: (Tensor, Tensor)) throws -> Double { try evaluate(m, x: d.0, y: d.1).accuracy }

var o = CSVOptions(); o.label = "digit"
let ds = try readCSV(path, options: o)
let parts = try split(ds, train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 42)
let prep = try fitTransforms(parts.train, [.standardize()])
func tensors(_ d: Dataset) throws -> (Tensor, Tensor) {
    let fm = try prep.apply(to: d).featureMatrix()
    return (try Tensor(fm.features, shape: [fm.rows, fm.cols]), try Tensor(fm.labels!, shape: [fm.rows]))
}
let (trainD, valD, testD) = (try tensors(parts.train), try tensors(parts.val), try tensors(parts.test))

let teacher = try train(try sequential([dense(64, 256), relu(), dense(256, 256), relu(), dense(256, 10)], seed: 1),
                        x: trainD.0, y: trainD.1, loss: .crossEntropy(), optimizer: Adam(lr: 1e-3), epochs: 40, batch: 64,
                        val: valD, seed: seed, earlyStop: EarlyStop(patience: 6, metric: "val_loss"), logEvery: 0).model
log("teacher: \(params(teacher)) params, test accuracy \(try acc(teacher, testD))")

// Student with ~1/4 of the teacher's parameters (64-112-112-10: 21 066 vs 84 992).
let studentInit = try sequential([dense(64, 112), relu(), dense(112, 112), relu(), dense(112, 10)], seed: 2)
// T = 4, soft 0.7, hard 0.3 (the defaults); Adam 3e-3 with a cosine decay over 60 epochs was
// the cheapest of the settings with the best validation accuracy (Docs/compression.md).
let distillSteps = 60 * ((trainD.0.shape[0] + 63) / 64)
let student = try distill(teacher: teacher, student: studentInit, x: trainD.0, y: trainD.1, epochs: 60, optimizer: Adam(lr: 3e-3),
                          seed: seed, schedule: .cosine(total: distillSteps)).model
log("student: \(params(student)) params, distilled test accuracy \(try acc(student, testD))")

// 90% unstructured (global magnitude), reached gradually with fine-tuning in between.
let sparse = try pruneSchedule(teacher, x: trainD.0, y: trainD.1, start: 0.5, end: 0.9, steps: 4, power: 3,
                               epochsPerStep: 4, scope: .global, seed: seed).model
log(try sparsityReport(sparse).description)
// Half of the hidden units removed, then fine-tuned.
let narrow = try finetune(try prune(teacher, sparsity: 0.5, pattern: .neurons), x: trainD.0, y: trainD.1, epochs: 10, seed: seed).model

let int8Static = try quantize(teacher, mode: .static, calibrate: valD.0, method: .minmax)
let int8Dynamic = try quantize(teacher, mode: .dynamic)
log(try quantReport(int8Static, testD.0, reference: teacher).description)

// Pipeline: distilled student -> 30% of its units removed + fine-tuned -> int8 static.
let studentNarrow = try finetune(try prune(student, sparsity: 0.3, pattern: .neurons), x: trainD.0, y: trainD.1, epochs: 10, seed: seed).model
let pipeline = try quantize(studentNarrow, mode: .static, calibrate: valD.0)

// CB_ONLY=a,b (profiling): only the models whose names start with one of these.
let only = ProcessInfo.processInfo.environment["CB_ONLY"]?.split(separator: ",").map(String.init)
let table = try compare([("teacher f32", teacher), ("student distilled", student), ("pruned 90% + ft", sparse),
                         ("neurons 50% + ft", narrow), ("int8 static", int8Static), ("int8 dynamic", int8Dynamic),
                         ("distill+prune+int8", pipeline)].filter { m in only.map { $0.contains { m.0.hasPrefix($0) } } ?? true },
                        x: testD.0, y: testD.1, runs: runs)
print(table)
print("threads: \(Tensor.threads), test rows: \(testD.0.shape[0])")

// Where batch-1 time goes (a third argument turns this on): each model's layers without the
// executor, an executor running a single relu (the fixed cost per forward pass), and the
// bare kernels of one 256x256 layer.
if CommandLine.arguments.count > 3 {
    func timeIt(_ label: String, _ f: () throws -> Void) rethrows {
        for _ in 0..<200 { try f() }
        var ts: [Double] = []
        for _ in 0..<2000 { let t0 = DispatchTime.now().uptimeNanoseconds; try f(); ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000) }
        ts.sort(); print("\(label): p50 \(ts[1000]) us")
    }
    let one = try trainD.0.slice(axis: 0, start: 0, stop: 1).contiguous()
    // Each model's layers called on their own (no executor): the sum is the kernels' and op
    // wrappers' share of a batch-1 forward pass, against the same sum for the teacher.
    var teacherLayers = 0.0
    for (name, m) in [("teacher f32", teacher), ("pruned 90% + ft", sparse), ("int8 static", int8Static), ("int8 dynamic", int8Dynamic), ("distill+prune+int8", pipeline)] {
        let steps = try stepTimes(m.graph, one, now: { DispatchTime.now().uptimeNanoseconds })
        let total = steps.map(\.1).reduce(0, +)
        if teacherLayers == 0 { teacherLayers = total }
        print("layers only, batch 1, \(name): \((total * 1000).rounded() / 1000) us (\((teacherLayers / total * 100).rounded() / 100)x)")
        for (step, t) in steps { print("    \(step): \(t) us") }
    }
    let reluOnly = try sequential([relu()], inputShape: [64])
    let ex = try runner(reluOnly.graph)
    try timeIt("executor relu only") { try ex(["x": one]) }
    let h = try Tensor.randn([1, 256], seed: 1).relu(), w = try Tensor.randn([256, 256], seed: 2), b = try Tensor.zeros([256])
    try timeIt("Tensor.linear 1x256x256") { _ = try Tensor.linear(h, weight: w, bias: b, activation: .relu) }
    let (q, s, cs) = try Tensor.quantizeWeightsInt8(w, perChannel: true)
    try timeIt("Tensor.qlinear 1x256x256") { _ = try Tensor.qlinear(h, weight: q, weightScale: s, colSum: cs, bias: b, relu: true) }
    try timeIt("Tensor.matmulInt8 1x256x256") { _ = try Tensor.matmulInt8(h.astype(.int8), q) }
    let sp = try prune(try sequential([dense(256, 256)], seed: 1), sparsity: 0.9).graph
    let names = sp.paramNames
    try timeIt("Tensor.csrLinear 1x256x256 10%") { _ = try Tensor.csrLinear(h, values: sp.params[names[0]]!, indices: sp.params[names[1]]!, indptr: sp.params[names[2]]!, inFeatures: 256, bias: b, relu: true) }
}

