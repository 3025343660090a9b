// Shared helpers of the kernel files (not part of the public header).
#pragma once
#include <stdint.h>
#define MLW_AVX2 __attribute__((target("avx2,fma")))
#define MLW_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define MLW_INLINE static inline __attribute__((always_inline))
int mlw_cpu_has_avx2_fma(void);
int mlw_cpu_simd_level(void);
static inline long mlw_min_l(long a, long b) { return a < b ? a : b; }
static inline long mlw_max_l(long a, long b) { return a > b ? a : b; }
// Small-M GEMM without packing (gemm_f32_smallm.c); 1 = done, 0 = not applicable.
int mlw_sgemm_smallm(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                     const float *B, long rsb, long csb, float beta, float *C, long ldc,
                     const float *bias, int bias_mode, int act);
