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

// Shared packing per K slice (A and B packed once, in parallel), then fixed MT x NT
// tiles of C computed in parallel; the A micro-panel stays in L1 across a tile row.
typedef struct { igemm_ctx *g; long pc, kc, kp; int16_t *Ap, *Bp; } islice;

static void ipack_a_task(void *p, int t) {
    islice *s = p;
    long i = (long)t * MR;
    pack_a(s->g, i, mlw_min_l(MR, s->g->M - i), s->pc, s->kc, s->Ap + t * MR * s->kp * 2);
}

static void ipack_b_task(void *p, int t) {
    islice *s = p;
    long j = (long)t * NR;
    pack_b(s->g, j, mlw_min_l(NR, s->g->N - j), s->pc, s->kc, s->Bp + t * NR * s->kp * 2);
}

static void icompute_task(void *p, int t) {
    islice *s = p;
    igemm_ctx *g = s->g;
    long mtasks = (g->M + MT - 1) / MT;
    long i0 = (t % mtasks) * MT, i1 = mlw_min_l(g->M, i0 + MT);
    long j0 = (t / mtasks) * NT, j1 = mlw_min_l(g->N, j0 + NT);
    int first = s->pc == 0;
    for (long i = i0; i < i1; i += MR) {
        const int16_t *ap = s->Ap + (i / MR) * MR * s->kp * 2;
        long rows = mlw_min_l(MR, i1 - i);
        for (long j = j0; j < j1; j += NR) {
            const int16_t *bp = s->Bp + (j / NR) * NR * s->kp * 2;
            long cols = mlw_min_l(NR, j1 - j);
            int32_t acc[MR * NR] __attribute__((aligned(32)));
            if (g->simd) ukernel_avx2(s->kp, ap, bp, acc); else ukernel_portable(s->kp, ap, bp, acc);
            for (long r = 0; r < rows; r++) {
                int32_t *c = g->C + (i + r) * g->ldc + j;
                if (first) for (long q = 0; q < cols; q++) c[q] = acc[r * NR + q];
                else for (long q = 0; q < cols; q++) c[q] += acc[r * NR + q];
            }
        }
    }
}

int mlw_cpu_has_vnni512(void);
int mlw_gemm_i8_vnni(long M, long N, long K, const uint8_t *A, long lda, int a_signed,
                     const int8_t *B, long ldb, int32_t *C, long ldc);

static int igemm(igemm_ctx *g) {
    if (g->M <= 0 || g->N <= 0) return 0;
    // AVX512-VNNI path (level 2 on CPUs that have it); exact like the others.
    if (mlw_simd_level() >= 2 && mlw_cpu_has_vnni512() &&
        mlw_gemm_i8_vnni(g->M, g->N, g->K, (const uint8_t *)g->A, g->lda, !g->a_unsigned, g->B, g->ldb, g->C, g->ldc) == 0) return 0;
    if (g->K <= 0) {
        for (long i = 0; i < g->M; i++) memset(g->C + i * g->ldc, 0, (size_t)g->N * sizeof(int32_t));
        return 0;
    }
    g->simd = mlw_simd_enabled();
    long mp = (g->M + MR - 1) / MR, np = (g->N + NR - 1) / NR;
    long kpmax = (mlw_min_l(g->K, KC) + 1) / 2;
    int16_t *Ap = aligned_alloc(64, (size_t)((mp * MR * kpmax * 4 + 63) / 64 * 64));
    int16_t *Bp = aligned_alloc(64, (size_t)((np * NR * kpmax * 4 + 63) / 64 * 64));
    if (!Ap || !Bp) { free(Ap); free(Bp); return -1; }
    double ops = 2.0 * (double)g->M * (double)g->N * (double)g->K;
    int max_threads = ops < 4.0e6 ? 1 : 0;
    long tasks = ((g->M + MT - 1) / MT) * ((g->N + NT - 1) / NT);
    for (long pc = 0; pc < g->K; pc += KC) {
        islice s = {g, pc, mlw_min_l(KC, g->K - pc), 0, Ap, Bp};
        s.kp = (s.kc + 1) / 2;
        mlw_parallel_for((int)np, max_threads, ipack_b_task, &s);
        mlw_parallel_for((int)mp, max_threads, ipack_a_task, &s);
        mlw_parallel_for((int)tasks, max_threads, icompute_task, &s);
    }
    free(Ap); free(Bp);
    return 0;
}

int mlw_gemm_s8s8s32(long M, long N, long K, const int8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc) {
    igemm_ctx g = {M, N, K, A, lda, 0, B, ldb, C, ldc, 0};
    return igemm(&g);
}

int mlw_gemm_u8s8s32(long M, long N, long K, const uint8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc) {
    igemm_ctx g = {M, N, K, A, lda, 1, B, ldb, C, ldc, 0};
    return igemm(&g);
}
