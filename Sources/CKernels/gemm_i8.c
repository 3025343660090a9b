// Exact 8-bit integer GEMM with int32 results.
//
// Both operands are widened to int16 while packing, and the micro-kernel uses
// vpmaddwd (int16 x int16 -> int32, adjacent pairs summed in 32 bits). Unlike
// vpmaddubsw there is no int16 saturation, so int8 x int8 and uint8 x int8 are
// both exact: |a*b| <= 255*128 and a pair sum stays far below 2^31.
// Packed layouts hold K in pairs: A panel [kpair][MR][2], B panel [kpair][NR][2].
// Integer sums are associative, so any blocking gives identical results.
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 512     // K slice (even)
#define MT 96      // rows per task
#define NT 256     // columns per task

typedef struct {
    long M, N, K;
    const void *A; long lda; int a_unsigned;
    const int8_t *B; long ldb;
    int32_t *C; long ldc;
    int simd;
} igemm_ctx;

static void pack_a(const igemm_ctx *g, long row0, long rows, long pc, long kc, int16_t *dst) {
    long kp = (kc + 1) / 2;
    for (long p = 0; p < kp; p++)
        for (int r = 0; r < MR; r++)
            for (int h = 0; h < 2; h++) {
                long k = pc + 2 * p + h;
                int16_t v = 0;
                if (r < rows && k < pc + kc) {
                    long idx = (row0 + r) * g->lda + k;
                    v = g->a_unsigned ? (int16_t)((const uint8_t *)g->A)[idx] : (int16_t)((const int8_t *)g->A)[idx];
                }
                dst[(p * MR + r) * 2 + h] = v;
            }
}

static void pack_b(const igemm_ctx *g, long col0, long cols, long pc, long kc, int16_t *dst) {
    long kp = (kc + 1) / 2;
    for (long p = 0; p < kp; p++) {
        long k0 = pc + 2 * p, k1 = k0 + 1;
        const int8_t *r0 = g->B + k0 * g->ldb + col0;
        const int8_t *r1 = k1 < pc + kc ? g->B + k1 * g->ldb + col0 : NULL;
        int16_t *d = dst + p * NR * 2;
        for (int c = 0; c < NR; c++) {
            d[2 * c] = c < cols ? r0[c] : 0;
            d[2 * c + 1] = (c < cols && r1) ? r1[c] : 0;
        }
    }
}

static void ukernel_portable(long kp, const int16_t *a, const int16_t *b, int32_t *acc) {
    for (int i = 0; i < MR * NR; i++) acc[i] = 0;
    for (long p = 0; p < kp; p++)
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR; c++)
                acc[r * NR + c] += (int32_t)a[(p * MR + r) * 2] * b[(p * NR + c) * 2]
                                 + (int32_t)a[(p * MR + r) * 2 + 1] * b[(p * NR + c) * 2 + 1];
}

MLW_AVX2 static void ukernel_avx2(long kp, const int16_t *a, const int16_t *b, int32_t *acc) {
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
    __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
    __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
    __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
    const int32_t *a32 = (const int32_t *)a;
    for (long p = 0; p < kp; p++) {
        __m256i b0 = _mm256_load_si256((const __m256i *)(b + p * NR * 2));
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + p * NR * 2 + 16));
        const int32_t *ap = a32 + p * MR;
        __m256i av;
        av = _mm256_set1_epi32(ap[0]); c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(av, b0)); c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(av, b1));
        av = _mm256_set1_epi32(ap[1]); c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(av, b0)); c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(av, b1));
        av = _mm256_set1_epi32(ap[2]); c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(av, b0)); c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(av, b1));
        av = _mm256_set1_epi32(ap[3]); c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(av, b0)); c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(av, b1));
        av = _mm256_set1_epi32(ap[4]); c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(av, b0)); c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(av, b1));
        av = _mm256_set1_epi32(ap[5]); c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(av, b0)); c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(av, b1));
    }
    __m256i *o = (__m256i *)acc;
    _mm256_store_si256(o + 0, c00); _mm256_store_si256(o + 1, c01);
    _mm256_store_si256(o + 2, c10); _mm256_store_si256(o + 3, c11);
    _mm256_store_si256(o + 4, c20); _mm256_store_si256(o + 5, c21);
    _mm256_store_si256(o + 6, c30); _mm256_store_si256(o + 7, c31);
    _mm256_store_si256(o + 8, c40); _mm256_store_si256(o + 9, c41);
    _mm256_store_si256(o + 10, c50); _mm256_store_si256(o + 11, c51);
}

// One task: a MT x NT tile of C, packing its own A and B slices (cheap next to the math).
static void igemm_task(void *ctx, int t) {
    igemm_ctx *g = ctx;
    long mtasks = (g->M + MT - 1) / MT;
    long i0 = (t % mtasks) * MT, i1 = mlw_min_l(g->M, i0 + MT);
    long j0 = (t / mtasks) * NT, j1 = mlw_min_l(g->N, j0 + NT);
    long kcmax = mlw_min_l(g->K, KC), kpmax = (kcmax + 1) / 2;
    int16_t *Ap = aligned_alloc(64, (size_t)(((MT / MR) * MR * kpmax * 2 * 2 + 63) / 64 * 64));
    int16_t *Bp = aligned_alloc(64, (size_t)(((NT / NR) * NR * kpmax * 2 * 2 + 63) / 64 * 64));
    if (!Ap || !Bp) { free(Ap); free(Bp); return; }
    for (long i = i0; i < i1; i++) memset(g->C + i * g->ldc + j0, 0, (size_t)(j1 - j0) * sizeof(int32_t));
    for (long pc = 0; pc < g->K; pc += KC) {
        long kc = mlw_min_l(KC, g->K - pc), kp = (kc + 1) / 2;
        for (long i = i0; i < i1; i += MR)
            pack_a(g, i, mlw_min_l(MR, i1 - i), pc, kc, Ap + ((i - i0) / MR) * MR * kp * 2);
        for (long j = j0; j < j1; j += NR)
            pack_b(g, j, mlw_min_l(NR, j1 - j), pc, kc, Bp + ((j - j0) / NR) * NR * kp * 2);
        for (long j = j0; j < j1; j += NR) {
            const int16_t *bp = Bp + ((j - j0) / NR) * NR * kp * 2;
            long cols = mlw_min_l(NR, j1 - j);
            for (long i = i0; i < i1; i += MR) {
                const int16_t *ap = Ap + ((i - i0) / MR) * MR * kp * 2;
                long rows = mlw_min_l(MR, i1 - i);
                int32_t acc[MR * NR] __attribute__((aligned(32)));
                if (g->simd) ukernel_avx2(kp, ap, bp, acc); else ukernel_portable(kp, ap, bp, acc);
                for (long r = 0; r < rows; r++) {
                    int32_t *c = g->C + (i + r) * g->ldc + j;
                    for (long q = 0; q < cols; q++) c[q] += acc[r * NR + q];
                }
            }
        }
    }
    free(Ap); free(Bp);
}

int mlw_cpu_has_vnni512(void);
int mlw_gemm_i8_vnni(long M, long N, long K, const uint8_t *A, long lda, int a_signed,
                     const int8_t *B, long ldb, int32_t *C, long ldc);

static void igemm(igemm_ctx *g) {
    if (g->M <= 0 || g->N <= 0) return;
    // AVX512-VNNI path (level 2 on CPUs that have it); exact like the others.
    if (mlw_simd_level() >= 2 && mlw_cpu_has_vnni512() &&
        mlw_gemm_i8_vnni(g->M, g->N, g->K, (const uint8_t *)g->A, g->lda, !g->a_unsigned, g->B, g->ldb, g->C, g->ldc) == 0) return;
    if (g->K <= 0) {
        for (long i = 0; i < g->M; i++) memset(g->C + i * g->ldc, 0, (size_t)g->N * sizeof(int32_t));
        return;
    }
    g->simd = mlw_simd_enabled();
    long tasks = ((g->M + MT - 1) / MT) * ((g->N + NT - 1) / NT);
    double ops = 2.0 * (double)g->M * (double)g->N * (double)g->K;
    mlw_parallel_for((int)tasks, ops < 4.0e6 ? 1 : 0, igemm_task, g);
}

void mlw_gemm_s8s8s32(long M, long N, long K, const int8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc) {
    igemm_ctx g = {M, N, K, A, lda, 0, B, ldb, C, ldc, 0};
    igemm(&g);
}

void mlw_gemm_u8s8s32(long M, long N, long K, const uint8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc) {
    igemm_ctx g = {M, N, K, A, lda, 1, B, ldb, C, ldc, 0};
    igemm(&g);
}
