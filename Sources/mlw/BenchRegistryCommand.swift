import ArgumentParser
import Foundation
import Registry

/// `mlw bench-registry`: the registry benchmark (`RegistryBench`) in a throwaway folder,
/// for Scripts/bench/registry/run. Hidden from help: a tool for benchmarks, not users.
struct BenchRegistry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-registry", abstract: "Benchmark the registry (metric writes, resolves).", shouldDisplay: false)

    @Option(help: "Metric writes per measurement.") var metricWrites = 10_000
    @Option(help: "resolve calls.") var lookups = 1_000

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-bench-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        print(try RegistryBench.run(root: dir, metricWrites: metricWrites, lookups: lookups), terminator: "")
    }
}
