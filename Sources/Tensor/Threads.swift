import CKernels

extension Tensor {
    /// Sets how many threads the kernels use (>= 1). The default is $MLW_THREADS or the
    /// number of cores. Results are bit-identical for every setting.
    public static func setThreads(_ n: Int) { mlw_set_threads(Int32(Swift.max(1, Swift.min(n, 256)))) }

    /// The current thread setting.
    public static var threads: Int { Int(mlw_get_threads()) }

    /// Kernel level in use: 0 portable C, 1 AVX2+FMA, 2 AVX-512 GEMM micro-kernels.
    public static var simdLevel: Int { Int(mlw_simd_level()) }

    /// Best level this CPU supports.
    public static let cpuSIMDLevel: Int = {
        let old = mlw_simd_level()
        mlw_set_simd(99)
        let best = Int(mlw_simd_level())
        mlw_set_simd(old)
        return best
    }()

    /// Caps the kernel level (0 portable, 1 AVX2, 2 AVX-512), clamped to the CPU.
    /// Meant for tests that check every code path.
    public static func setSIMDLevel(_ level: Int) { mlw_set_simd(Int32(Swift.max(0, Swift.min(level, 2)))) }

    /// true: the best level the CPU has; false: portable kernels.
    public static func setSIMD(_ on: Bool) { setSIMDLevel(on ? cpuSIMDLevel : 0) }
}
