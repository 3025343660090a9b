import Foundation
import Frames
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Swift side of `Scripts/bench/data/run`: loads a numeric CSV into a dataset and
/// then into a Float feature matrix, timing both. The `DataBench PATH [--no-hash]
/// [--hash-cache DIR]` executable (main.swift) prints `result.line`.
enum DataBench {
    struct Result: Sendable {
        public var rows: Int
        public var cols: Int
        public var bytes: Int
        /// Seconds to read the CSV into a typed dataset (includes SHA-256 of the file).
        public var loadSeconds: Double
        /// Seconds to turn the dataset into the row-major Float matrix.
        public var matrixSeconds: Double
        /// Peak resident set size of the process so far, in MB.
        public var peakRSSMB: Double
        public var seconds: Double { loadSeconds + matrixSeconds }

        /// `rows=1000000 seconds=0.912 peak_rss_mb=180.3 load_seconds=... matrix_seconds=... mb_per_s=...`
        public var line: String {
            let mbps = Double(bytes) / 1e6 / max(seconds, 1e-9)
            return String(format: "rows=%d seconds=%.4f peak_rss_mb=%.1f load_seconds=%.4f matrix_seconds=%.4f cols=%d mb_per_s=%.1f",
                          rows, seconds, peakRSSMB, loadSeconds, matrixSeconds, cols, mbps)
        }
    }

    /// Loads `path` (header row, all columns features) and returns the timings.
    /// `hashCache`: a `FileHashCache` folder, to time a re-run over unchanged data.
    static func run(path: String, hashContent: Bool = true, hashCache: String? = nil) throws -> Result {
        var options = CSVOptions()
        options.hashContent = hashContent
        options.fileHashCache = hashCache.map { FileHashCache(root: $0) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let t0 = monotonicSeconds()
        let ds = try readCSV(path, options: options)
        let t1 = monotonicSeconds()
        let m = try ds.featureMatrix()
        let t2 = monotonicSeconds()
        return Result(rows: m.rows, cols: m.cols, bytes: size, loadSeconds: t1 - t0, matrixSeconds: t2 - t1,
                      peakRSSMB: peakRSSMB())
    }


    /// getrusage's ru_maxrss (KB on Linux, bytes on macOS).
    static func peakRSSMB() -> Double {
        var u = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        #if os(Linux)
        return Double(u.ru_maxrss) / 1024
        #else
        return Double(u.ru_maxrss) / 1_048_576
        #endif
    }
}
