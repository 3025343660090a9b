// AVX2+FMA kernels of the small-M GEMM (see gemm_f32_smallm.c). Same arithmetic as the
// AVX-512 kernels (FMA chains per K slice for nn; 16 lanes + fixed tree for nt), so both
// levels give the same bits; only the register blocking differs (16 ymm registers).
#include "gemm_f32_smallm.h"
#include <immintrin.h>

#define T2 __attribute__((target("avx2,fma")))
#define AI static inline __attribute__((always_inline))

// R rows x W 8-wide vectors of C. TAIL: one vector of `cols` < 8 columns, masked.
AI T2 void nn_block(const smallm_ctx *g, const int R, const int W, const int TAIL, long i0, long j, long cols) {
    const long K = g->K, rsb = g->rsb, rsa = g->rsa, csa = g->csa;
    const __m256i mk = _mm256_cmpgt_epi32(_mm256_set1_epi32(TAIL ? (int)cols : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#define LD(p) (TAIL ? _mm256_maskload_ps((p), mk) : _mm256_loadu_ps(p))
    const __m256 zero = _mm256_setzero_ps();
    for (long pc = 0; pc < K; pc += SMALLM_KC) {
        long kend = mlw_min_l(K, pc + SMALLM_KC);
        __m256 acc[16];
#pragma clang loop unroll(full)
        for (int i = 0; i < R * W; i++) acc[i] = zero;
        const float *b = g->B + pc * rsb + j, *a = g->A + i0 * rsa + pc * csa;
        for (long k = pc; k < kend; k++, b += rsb, a += csa) {
            __m256 bv[8];
#pragma clang loop unroll(full)
            for (int v = 0; v < W; v++) bv[v] = LD(b + 8 * v);
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++) {
                __m256 av = _mm256_broadcast_ss(a + r * rsa);
#pragma clang loop unroll(full)
                for (int v = 0; v < W; v++) acc[r * W + v] = _mm256_fmadd_ps(av, bv[v], acc[r * W + v]);
            }
        }
        int first = pc == 0, last = kend == K;
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
#pragma clang loop unroll(full)
            for (int v = 0; v < W; v++) {
                float *c = g->C + (i0 + r) * g->ldc + j + 8 * v;
                __m256 x = acc[r * W + v];
                if (g->alpha != 1.0f) x = _mm256_mul_ps(x, _mm256_set1_ps(g->alpha));
                if (!first) x = _mm256_add_ps(x, LD(c));
                else if (g->beta != 0.0f) x = _mm256_fmadd_ps(_mm256_set1_ps(g->beta), LD(c), x);
                if (last) {
                    if (g->bias_mode == MLW_BIAS_PER_COL) x = _mm256_add_ps(x, LD(g->bias + j + 8 * v));
                    else if (g->bias_mode == MLW_BIAS_PER_ROW) x = _mm256_add_ps(x, _mm256_set1_ps(g->bias[i0 + r]));
                    if (g->act == MLW_ACT_RELU) x = _mm256_max_ps(x, zero);   // NaN -> 0 like the packed epilogue
                }
                if (TAIL) _mm256_maskstore_ps(c, mk, x); else _mm256_storeu_ps(c, x);
            }
        }
    }
#undef LD
}

AI T2 void nn_rows(const smallm_ctx *g, const int R, const int W, long i0, long j0, long j1) {
    long j = j0;
    for (; j + 8 * W <= j1; j += 8 * W) nn_block(g, R, W, 0, i0, j, 8 * W);
    for (; j + 8 <= j1; j += 8) nn_block(g, R, 1, 0, i0, j, 8);
    if (j < j1) nn_block(g, R, 1, 1, i0, j, j1 - j);
}

// Accumulators R x W <= 12 plus W B vectors fit the 16 ymm registers; 7 and 8 rows
// run as 4 + 3 and 4 + 4 (B is read twice, from L1/L2).
T2 void mlw_smallm_nn_avx2(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    switch (rows) {
    case 1: nn_rows(g, 1, 8, i0, j0, j1); break;
    case 2: nn_rows(g, 2, 4, i0, j0, j1); break;
    case 3: nn_rows(g, 3, 3, i0, j0, j1); break;
    case 4: nn_rows(g, 4, 2, i0, j0, j1); break;
    case 5: nn_rows(g, 5, 2, i0, j0, j1); break;
    case 6: nn_rows(g, 6, 2, i0, j0, j1); break;
    default: nn_rows(g, 4, 2, i0, j0, j1); mlw_smallm_nn_avx2(g, i0 + 4, rows - 4, j0, j1); break;
    }
}

// 16 lanes (lo = k..k+7, hi = k+8..k+15) -> 1, the same tree as hsum16 at AVX-512.
AI T2 float hsum2x8(__m256 lo, __m256 hi) {
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

AI T2 void nt_block(const smallm_ctx *g, const int R, const int C, long i0, long j) {
    const long K = g->K;
    __m256 acc[16];
#pragma clang loop unroll(full)
    for (int i = 0; i < 2 * R * C; i++) acc[i] = _mm256_setzero_ps();
    long k = 0;
    for (; k + 16 <= K; k += 16) {
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const float *a = g->A + (i0 + r) * g->rsa + k;
            __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
#pragma clang loop unroll(full)
            for (int c = 0; c < C; c++) {
                const float *b = g->B + (j + c) * g->csb + k;
                acc[2 * (r * C + c)] = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b), acc[2 * (r * C + c)]);
                acc[2 * (r * C + c) + 1] = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b + 8), acc[2 * (r * C + c) + 1]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            const float *a = g->A + (i0 + r) * g->rsa, *b = g->B + (j + c) * g->csb;
            float s = hsum2x8(acc[2 * (r * C + c)], acc[2 * (r * C + c) + 1]);
            for (long kk = k; kk < K; kk++) s = __builtin_fmaf(a[kk], b[kk], s);
            float *cp = g->C + (i0 + r) * g->ldc + j + c;
            *cp = smallm_merge_scalar(g, s, cp, i0 + r, j + c, 1, 1);
        }
}

AI T2 void nt_rows(const smallm_ctx *g, const int R, const int C, long i0, long j0, long j1) {
    long j = j0;
    for (; j + C <= j1; j += C) nt_block(g, R, C, i0, j);
    for (; j < j1; j++) nt_block(g, R, 1, i0, j);
}

T2 void mlw_smallm_nt_avx2(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    long i = i0;
    for (; i + 2 <= i0 + rows; i += 2) nt_rows(g, 2, 2, i, j0, j1);
    if (i < i0 + rows) nt_rows(g, 1, 4, i, j0, j1);
}
