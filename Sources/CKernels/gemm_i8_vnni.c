// 8-bit GEMM with AVX512-VNNI (vpdpbusd: u8 x s8, four products summed into each
// int32 lane, no int16 intermediate, so no saturation). Used when the CPU has it.
//
// u8 x s8 maps directly. s8 x s8 uses A' = A + 128 (an unsigned byte) and
//   C = A' * B - 128 * colsum(B),
// which is exact in int32 arithmetic. Panels hold K in groups of four:
// A panel [kq][MR][4] bytes, B panel [kq][NR][4] bytes, zero padded.
// Packing is shared: B once per K slice, A once per K slice, then fixed tiles
// of C are computed in parallel (integer sums: any order gives the same bits).
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR 12
#define NR 32
#define KC 1024     // multiple of 4
#define MT 96       // rows per task (multiple of MR)
#define NT 256      // columns per task (multiple of NR)
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

typedef struct {
    long M, N, K;
    const uint8_t *A; long lda; int a_signed;
    const int8_t *B; long ldb;
    int32_t *C; long ldc;
    long pc, kc, kq;
    uint8_t *Ap; int8_t *Bp;
} vctx;

int mlw_cpu_has_vnni512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

static void pack_a_task(void *p, int t) {
    vctx *g = p;
    long i0 = (long)t * MR;
    uint8_t *dst = g->Ap + (i0 / MR) * MR * g->kq * 4;
    uint8_t flip = g->a_signed ? 0x80 : 0;
    for (long q = 0; q < g->kq; q++)
        for (int r = 0; r < MR; r++)
            for (int h = 0; h < 4; h++) {
                long i = i0 + r, k = g->pc + 4 * q + h;
                dst[(q * MR + r) * 4 + h] = (i < g->M && k < g->pc + g->kc) ? (uint8_t)(g->A[i * g->lda + k] ^ flip) : 0;
            }
}

static void pack_b_task(void *p, int t) {
    vctx *g = p;
    long j0 = (long)t * NR;
    int8_t *dst = g->Bp + (j0 / NR) * NR * g->kq * 4;
    long cols = mlw_min_l(NR, g->N - j0);
    for (long q = 0; q < g->kq; q++) {
        int8_t *d = dst + q * NR * 4;
        for (int h = 0; h < 4; h++) {
            long k = g->pc + 4 * q + h;
            const int8_t *src = k < g->pc + g->kc ? g->B + k * g->ldb + j0 : NULL;
            for (int c = 0; c < NR; c++) d[c * 4 + h] = (src && c < cols) ? src[c] : 0;
        }
    }
}

VNNI static void ukernel_vnni(long kq, const uint8_t *a, const int8_t *b, int32_t *c, long ldc, long rows, long cols, int first) {
    __m512i acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_setzero_si512();
    const int32_t *a32 = (const int32_t *)a;
    for (long q = 0; q < kq; q++) {
        __m512i b0 = _mm512_load_si512((const void *)(b + q * NR * 4));
        __m512i b1 = _mm512_load_si512((const void *)(b + q * NR * 4 + 64));
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            __m512i av = _mm512_set1_epi32(a32[q * MR + r]);
            acc[2 * r] = _mm512_dpbusd_epi32(acc[2 * r], av, b0);
            acc[2 * r + 1] = _mm512_dpbusd_epi32(acc[2 * r + 1], av, b1);
        }
    }
    if (rows == MR && cols == NR) {
        for (int r = 0; r < MR; r++) {
            int32_t *cr = c + r * ldc;
            __m512i v0 = acc[2 * r], v1 = acc[2 * r + 1];
            if (!first) { v0 = _mm512_add_epi32(v0, _mm512_loadu_si512(cr)); v1 = _mm512_add_epi32(v1, _mm512_loadu_si512(cr + 16)); }
            _mm512_storeu_si512(cr, v0); _mm512_storeu_si512(cr + 16, v1);
        }
    } else {
        int32_t tile[MR * NR] __attribute__((aligned(64)));
        for (int i = 0; i < 24; i++) _mm512_store_si512(tile + i * 16, acc[i]);
        for (long r = 0; r < rows; r++)
            for (long j = 0; j < cols; j++) c[r * ldc + j] = (first ? 0 : c[r * ldc + j]) + tile[r * NR + j];
    }
}

static void compute_task(void *p, int t) {
    vctx *g = p;
    long mtasks = (g->M + MT - 1) / MT;
    long i0 = (t % mtasks) * MT, i1 = mlw_min_l(g->M, i0 + MT);
    long j0 = (t / mtasks) * NT, j1 = mlw_min_l(g->N, j0 + NT);
    int first = g->pc == 0;
    for (long i = i0; i < i1; i += MR) {
        const uint8_t *ap = g->Ap + (i / MR) * MR * g->kq * 4;
        for (long j = j0; j < j1; j += NR) {
            const int8_t *bp = g->Bp + (j / NR) * NR * g->kq * 4;
            ukernel_vnni(g->kq, ap, bp, g->C + i * g->ldc + j, g->ldc, mlw_min_l(MR, i1 - i), mlw_min_l(NR, j1 - j), first);
        }
    }
}

// Returns 0 when it did the work, -1 when the caller should use another kernel.
int mlw_gemm_i8_vnni(long M, long N, long K, const uint8_t *A, long lda, int a_signed,
                     const int8_t *B, long ldb, int32_t *C, long ldc) {
    if (M <= 0 || N <= 0 || K <= 0) return -1;
    long mp = (M + MR - 1) / MR, np = (N + NR - 1) / NR, kcmax = mlw_min_l(K, KC), kqmax = (kcmax + 3) / 4;
    uint8_t *Ap = aligned_alloc(64, (size_t)((mp * MR * kqmax * 4 + 63) / 64 * 64));
    int8_t *Bp = aligned_alloc(64, (size_t)((np * NR * kqmax * 4 + 63) / 64 * 64));
    if (!Ap || !Bp) { free(Ap); free(Bp); return -1; }
    vctx g = {M, N, K, A, lda, a_signed, B, ldb, C, ldc, 0, 0, 0, Ap, Bp};
    int max_threads = 2.0 * (double)M * (double)N * (double)K < 8.0e6 ? 1 : 0;
    for (long pc = 0; pc < K; pc += KC) {
        g.pc = pc; g.kc = mlw_min_l(KC, K - pc); g.kq = (g.kc + 3) / 4;
        mlw_parallel_for((int)np, max_threads, pack_b_task, &g);
        mlw_parallel_for((int)mp, max_threads, pack_a_task, &g);
        long tasks = ((M + MT - 1) / MT) * ((N + NT - 1) / NT);
        mlw_parallel_for((int)tasks, max_threads, compute_task, &g);
    }
    free(Ap); free(Bp);
    if (a_signed) {
        // undo the +128 shift: C -= 128 * colsum(B)
        int32_t *colsum = calloc((size_t)N, sizeof(int32_t));
        if (!colsum) return -2;
        for (long k = 0; k < K; k++) for (long j = 0; j < N; j++) colsum[j] += B[k * ldb + j];
        for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) C[i * ldc + j] -= (int32_t)((uint32_t)colsum[j] * 128u);
        free(colsum);
    }
    return 0;
}
