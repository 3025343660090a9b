import Foundation
// Stand-alone entry for the data benchmark when `mlw bench-data` is not wired yet:
// `run` compiles this file together with Sources/Data/*.swift using swiftc -O.
let args = CommandLine.arguments
guard args.count >= 2 else { print("usage: databench PATH [--no-hash]"); exit(2) }
do {
    let r = try DataBench.run(path: args[1], hashContent: !args.contains("--no-hash"))
    print(r.line)
} catch {
    print("error: \(error)")
    exit(1)
}
