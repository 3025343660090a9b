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

    /// Runs `body(0..<tasks)` on the kernels' own thread pool (`mlw_parallel_for`), at most
    /// `maxThreads` at once (0: all); returns when all are done. Swift code uses this rather
    /// than GCD: the pool's workers spin briefly after each job, so GCD threads running
    /// beside them would compete for the same cores.
    static func parallelFor(_ tasks: Int, maxThreads: Int = 0, _ body: (Int) -> Void) {
        guard tasks > 1 else { if tasks == 1 { body(0) }; return }
        withoutActuallyEscaping(body) { body in
            let job = ParallelJob(body)
            withExtendedLifetime(job) {
                mlw_parallel_for(Int32(tasks), Int32(maxThreads), { ctx, task in
                    Unmanaged<ParallelJob>.fromOpaque(ctx!).takeUnretainedValue().body(Int(task))
                }, Unmanaged.passUnretained(job).toOpaque())
            }
        }
    }
}

/// A Swift closure handed to `mlw_parallel_for` through its context pointer.
final class ParallelJob {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}
