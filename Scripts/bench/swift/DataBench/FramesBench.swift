import Foundation
import Frames

/// The Swift side of `Scripts/bench/frames/run`: `DataBench --frames OP LEFT.csv RIGHT.csv`
/// reads the tables (not timed), then times one wrangling operation straight on the
/// Frames API (no interpreter), and prints `op=... seconds=... rows=... peak_rss_mb=...
/// base_rss_mb=...` (base: resident size after loading, before the operation).
enum FramesBench {
    static func run(op: String, left: String, right: String) throws -> String {
        var opts = CSVOptions()
        opts.hashContent = false
        let l = try readCSV(left, options: opts)
        let r = op == "join" ? try readCSV(right, options: opts) : l
        let base = currentRSSMB()
        let t0 = monotonicSeconds()
        let out: Dataset
        switch op {
        case "group_by":
            // 100k keys, 4 aggregations.
            out = try l.groupBy(["k"], [("n", .count(nil)), ("sa", .sum("a")), ("mb", .mean("b")), ("xc", .max("c"))])
        case "join":
            out = try l.join(r, leftOn: ["j"], rightOn: ["j"], how: .inner)
        case "sort_by":
            out = try l.sortBy(["k", "a"], descending: [false, true])
        default:
            throw DataError(.badArgument, "unknown op '\(op)' (group_by, join, sort_by)")
        }
        let t1 = monotonicSeconds()
        return String(format: "op=%@ seconds=%.4f rows=%d peak_rss_mb=%.1f base_rss_mb=%.1f",
                      op, t1 - t0, out.rowCount, DataBench.peakRSSMB(), base)
    }

    /// Resident set size now (VmRSS from /proc/self/status), in MB; 0 where unavailable.
    static func currentRSSMB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
