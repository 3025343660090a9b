#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds from the monotonic clock, for durations (training epochs, latencies, `clock()`
/// in scripts). Never the wall clock: it can jump.
///
///     let t0 = monotonicSeconds(); work(); print(monotonicSeconds() - t0)
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
