import CKernels

extension Tensor {
    /// Sets how many threads the kernels use (>= 1). The default is $MLW_THREADS or the
    /// number of cores. Results are bit-identical for every setting.
    public static func setThreads(_ n: Int) { mlw_set_threads(Int32(Swift.max(1, Swift.min(n, 256)))) }

    /// The current thread setting.
    public static var threads: Int { Int(mlw_get_threads()) }

    /// True when the AVX2+FMA kernels are active (false on older CPUs or after `setSIMD(false)`).
    public static var simdEnabled: Bool { mlw_simd_enabled() != 0 }

    /// Forces the portable C kernels (false) or re-enables AVX2 when the CPU has it (true).
    /// Meant for tests that check both code paths.
    public static func setSIMD(_ on: Bool) { mlw_set_simd(on ? 1 : 0) }
}
