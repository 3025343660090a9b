import Compress
import Graph
import Support
import Tensor
import Train
#if canImport(Glibc)
import Glibc
#endif

/// One model in a `compare` table. Latencies are milliseconds of one eval forward pass.
public struct CompareRow: Sendable {
    public var name: String
    /// Weights actually stored: non-zeros of weight layers plus biases and other parameters.
    public var parameters: Int
    public var fileBytes: Int
    public var sparsity: Double
    /// Accuracy for classification models (0 for regression: see `metrics`).
    public var accuracy: Double
    /// The task's headline metrics, by name: accuracy and f1 (classification), r2, rmse and mae (regression).
    public var metrics: [String: Double] = [:]
    public var p50Batch1: Double, p99Batch1: Double, p50Batch64: Double, p99Batch64: Double
}

public struct Comparison: CustomStringConvertible, Sendable {
    public var rows: [CompareRow]
    /// The metric columns, from the first model's task.
    public var metricNames: [String] = ["accuracy"]
    public var description: String {
        let base = rows.first
        var t = [["model", "params", "bytes", "size x", "sparsity"] + metricNames + ["b1 p50 ms", "b1 p99 ms", "speed x", "b64 p50 ms", "b64 p99 ms"]]
        for r in rows {
            t.append([r.name, "\(r.parameters)", "\(r.fileBytes)", ratio(Double(base!.fileBytes), Double(r.fileBytes)), pct(r.sparsity)]
                     + metricNames.map { r.metrics[$0].map { String(format4($0)) } ?? "-" }
                     + [ms(r.p50Batch1), ms(r.p99Batch1), ratio(base!.p50Batch1, r.p50Batch1), ms(r.p50Batch64), ms(r.p99Batch64)])
        }
        return formatTable(t)
    }
}

/// The headline metrics of an evaluation, for `compare`'s columns.
func headline(_ e: Evaluation) -> [(String, Double)] {
    if e.isClassification { return [("accuracy", e.accuracy), ("f1", e.f1)] }
    return [("r2", e.r2), ("rmse", e.rmse), ("mae", e.mae)].compactMap { k, v in v.map { (k, $0) } }
}

/// Milliseconds to 0.1 µs: batch-1 passes of small models take a few µs.
func ms(_ v: Double) -> String { String((v * 10000).rounded() / 10000) }
func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String((a / b * 100).rounded() / 100) : "-" }

/// Compares models on the same data: stored parameters, file size, sparsity, the task's
/// metrics (accuracy and F1, or R², RMSE and MAE for regression, by the first model's task) and
/// eval latency p50/p99 at batch 1 and batch 64 (after warm-up; `runs` timed passes at
/// batch 1, a quarter of that at 64), all through each model's `CompiledModel` (what
/// `predict` and serving run). The first model is the baseline of the ratios.
///
///     print(try compare([("teacher", t), ("int8", q)], x: xTest, y: yTest))
public func compare(_ models: [(String, Model)], x: Tensor, y: Tensor, runs: Int = 300) throws -> Comparison {
    guard !models.isEmpty else { throw TrainError("compare: no models") }
    let n = x.shape[0]
    let x64 = try x.indexSelect(axis: 0, indices: Tensor((0..<64).map { $0 % n }, shape: [64], dtype: .int32))
    let singles = try (0..<min(n, 64)).map { try x.slice(axis: 0, start: $0, stop: $0 + 1).contiguous() }
    var rows: [CompareRow] = [], metricNames: [String] = []
    for (name, m) in models {
        let compiled = try CompiledModel.of(m)
        // Feeds are built before timing: the clock covers the forward pass only.
        let feeds1 = singles.map { [m.inputName: $0] }, feeds64 = [m.inputName: x64]
        func time(_ batch: Int, _ count: Int) throws -> (Double, Double) {
            for i in 0..<max(10, count / 10) { _ = try compiled.run(batch == 1 ? feeds1[i % feeds1.count] : feeds64) }
            var ts: [Double] = []
            for i in 0..<count {
                let feeds = batch == 1 ? feeds1[i % feeds1.count] : feeds64
                let t0 = monotonicSeconds()
                _ = try compiled.run(feeds)
                ts.append((monotonicSeconds() - t0) * 1000)
            }
            ts.sort()
            return (ts[ts.count / 2], ts[min(ts.count - 1, Int(Double(ts.count) * 0.99))])
        }
        let (a, b) = try time(1, runs), (c, d) = try time(64, max(20, runs / 4))
        let e = try compiled.evaluate(x: x, y: y, task: m.task)
        if rows.isEmpty { metricNames = headline(e).map(\.0) }
        rows.append(CompareRow(name: name, parameters: try storedParameters(m), fileBytes: try ModelFile.encode(m).count,
                               sparsity: try sparsityReport(m).sparsity, accuracy: e.isClassification ? e.accuracy : 0,
                               metrics: Dictionary(uniqueKeysWithValues: headline(e)),
                               p50Batch1: a, p99Batch1: b, p50Batch64: c, p99Batch64: d))
    }
    return Comparison(rows: rows, metricNames: metricNames)
}

/// `compare` with default names model_0, model_1, ...
public func compare(_ models: [Model], x: Tensor, y: Tensor, runs: Int = 300) throws -> Comparison {
    try compare(models.enumerated().map { ("model_\($0.offset)", $0.element) }, x: x, y: y, runs: runs)
}

