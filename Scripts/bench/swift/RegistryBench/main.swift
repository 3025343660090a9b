// `RegistryBench [--metric-writes N] [--lookups N]`: the registry workload in a throwaway
// folder, for Scripts/bench/registry/run.
import Foundation

var args = Array(CommandLine.arguments.dropFirst())
var metricWrites = 10_000, lookups = 1_000
while args.count >= 2 {
    let (name, value) = (args.removeFirst(), args.removeFirst())
    switch name {
    case "--metric-writes": metricWrites = Int(value) ?? metricWrites
    case "--lookups": lookups = Int(value) ?? lookups
    default: break
    }
}
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-bench-registry-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
print(try RegistryBench.run(root: dir, metricWrites: metricWrites, lookups: lookups), terminator: "")
