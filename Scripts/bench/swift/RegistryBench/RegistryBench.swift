import Foundation
import Registry
import Support

/// A self-contained registry benchmark for `Scripts/bench/registry` and the CLI.
///
///     print(try RegistryBench.run(root: tmpDir))
///
/// Creates a fresh registry under `root/bench-<uuid>` and removes it afterwards. Timings
/// belong in benchmarks only, never in tests.
enum RegistryBench {
    /// Runs the workload and returns one line per measurement: `name: N ops in S s (R ops/s)`.
    static func run(root: URL, metricWrites: Int = 10_000, lookups: Int = 1_000) throws -> String {
        let dir = root.appendingPathComponent("bench-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try Registry.open(root: dir)
        let run = try registry.startRun(script: "bench.mlw", scriptHash: SHA256.hex(Data("bench".utf8)),
                                        params: ["n": .int(metricWrites)], seed: 0)
        var lines: [String] = []

        // Realistic logging: one transaction per call, as a training loop logs each step.
        var t = monotonicSeconds()
        for step in 0..<metricWrites {
            try registry.logMetric(run: run, key: "loss", value: 1.0 / Double(step + 1), step: step)
        }
        lines.append(line("metric writes, one transaction each", metricWrites, monotonicSeconds() - t))

        // Batched: 100 values per transaction.
        t = monotonicSeconds()
        var step = 0
        while step < metricWrites {
            let batch = (step..<min(step + 100, metricWrites)).map { (key: "acc", value: Double($0) / Double(metricWrites), step: Optional($0)) }
            try registry.logMetrics(run: run, batch)
            step += batch.count
        }
        lines.append(line("metric writes, batched 100 per transaction", metricWrites, monotonicSeconds() - t))

        // Lookups over 10 models x 10 versions, mixing the three reference forms.
        for m in 0..<10 {
            for v in 0..<10 {
                let artifact = try registry.storeArtifact(bytes: Data("model \(m) version \(v)".utf8), run: run)
                _ = try registry.register(artifact, name: "model\(m)", run: run, metrics: ["acc": Double(v)],
                                          alias: v == 5 ? "production" : nil)
            }
        }
        t = monotonicSeconds()
        for i in 0..<lookups {
            let m = i % 10
            let reference: String
            switch i % 3 {
            case 0: reference = "model\(m)"
            case 1: reference = "model\(m):\(i % 10 + 1)"
            default: reference = "model\(m)@production"
            }
            _ = try registry.resolve(reference)
        }
        lines.append(line("model-version lookups (resolve)", lookups, monotonicSeconds() - t))
        return lines.joined(separator: "\n") + "\n"
    }

    private static func line(_ name: String, _ count: Int, _ seconds: Double) -> String {
        let rate = seconds > 0 ? Double(count) / seconds : .infinity
        return "\(name): \(count) ops in \(String(format: "%.3f", seconds)) s (\(String(format: "%.0f", rate)) ops/s)"
    }
}
