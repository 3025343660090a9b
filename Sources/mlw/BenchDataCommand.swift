import ArgumentParser
import Frames

/// `mlw bench-data PATH`: loads a CSV with the data library (`DataBench`) and prints one
/// `rows=... seconds=... peak_rss_mb=...` line, for Scripts/bench/data/run. Hidden from help.
struct BenchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-data", abstract: "Benchmark loading a CSV file.", shouldDisplay: false)

    @Argument(help: "The CSV file to load.") var path: String
    @Flag(name: .customLong("no-hash"), help: "Skip the content hash (lineage).") var noHash = false
    @Option(name: .customLong("hash-cache"), help: "Folder of cached file hashes.") var hashCache: String?

    func run() throws {
        print(try DataBench.run(path: path, hashContent: !noHash, hashCache: hashCache).line)
    }
}
