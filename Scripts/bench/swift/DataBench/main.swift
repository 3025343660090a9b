// `DataBench PATH [--no-hash] [--hash-cache DIR]`: loads a CSV with the Frames library and
// prints one `rows=... seconds=... peak_rss_mb=...` line, for Scripts/bench/data/run.
import Foundation

var args = Array(CommandLine.arguments.dropFirst())
// `DataBench --frames OP LEFT.csv RIGHT.csv`: one timed wrangling op (Scripts/bench/frames/run).
if args.first == "--frames", args.count == 4 {
    print(try FramesBench.run(op: args[1], left: args[2], right: args[3]))
    exit(0)
}
var hashContent = true
var hashCache: String?
var path: String?
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--no-hash": hashContent = false
    case "--hash-cache": hashCache = args.isEmpty ? nil : args.removeFirst()
    default: path = a
    }
}
guard let path else {
    FileHandle.standardError.write(Data("usage: DataBench PATH [--no-hash] [--hash-cache DIR]\n".utf8))
    exit(2)
}
print(try DataBench.run(path: path, hashContent: hashContent, hashCache: hashCache).line)
