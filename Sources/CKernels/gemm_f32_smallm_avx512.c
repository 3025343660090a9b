// AVX-512 kernels of the small-M GEMM (see gemm_f32_smallm.c). Run only on CPUs with
// AVX-512F; the rows x vectors shapes are compile-time constants so the accumulators
// live in zmm registers.
#include "gemm_f32_smallm.h"
#include <immintrin.h>

#define AI static inline __attribute__((always_inline))

// R rows x W 16-wide vectors of C; `cols` (<= 16 W) masks the loads and stores.
AI MLW_AVX512 void nn_block(const smallm_ctx *g, const int R, const int W, long i0, long j, long cols) {
    const long K = g->K, rsb = g->rsb, rsa = g->rsa, csa = g->csa;
    __mmask16 mk[16];
    for (int v = 0; v < W; v++) {
        long rem = cols - 16L * v;
        mk[v] = rem >= 16 ? (__mmask16)0xffff : rem <= 0 ? 0 : (__mmask16)((1u << rem) - 1);
    }
    const __m512 zero = _mm512_setzero_ps();
    for (long pc = 0; pc < K; pc += SMALLM_KC) {
        long kend = mlw_min_l(K, pc + SMALLM_KC);
        __m512 acc[32];
#pragma clang loop unroll(full)
        for (int i = 0; i < R * W; i++) acc[i] = zero;
        const float *b = g->B + pc * rsb + j, *a = g->A + i0 * rsa + pc * csa;
#define NN_K_STEP                                                                              \
        {                                                                                      \
            __m512 bv[16];                                                                     \
            _Pragma("clang loop unroll(full)")                                                 \
            for (int v = 0; v < W; v++) bv[v] = _mm512_maskz_loadu_ps(mk[v], b + 16 * v);      \
            _Pragma("clang loop unroll(full)")                                                 \
            for (int r = 0; r < R; r++) {                                                      \
                __m512 av = _mm512_set1_ps(a[r * rsa]);                                        \
                _Pragma("clang loop unroll(full)")                                             \
                for (int v = 0; v < W; v++) acc[r * W + v] = _mm512_fmadd_ps(av, bv[v], acc[r * W + v]); \
            }                                                                                  \
        }
        if (R == 1 && W <= 8) {
            // Two k per iteration: one row 8 vectors wide streams B ~25% faster (0.95 -> 0.75 us
            // for 256x128); with 16 vectors the unrolled loop spills and runs slower.
#pragma clang loop unroll_count(2)
            for (long k = pc; k < kend; k++, b += rsb, a += csa) NN_K_STEP
        } else {
            for (long k = pc; k < kend; k++, b += rsb, a += csa) NN_K_STEP
        }
#undef NN_K_STEP
        // Merge like the packed micro-kernel's store, then the epilogue on the last slice.
        int first = pc == 0, last = kend == K;
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
#pragma clang loop unroll(full)
            for (int v = 0; v < W; v++) {
                float *c = g->C + (i0 + r) * g->ldc + j + 16 * v;
                __m512 x = acc[r * W + v];
                if (g->alpha != 1.0f) x = _mm512_mul_ps(x, _mm512_set1_ps(g->alpha));
                if (!first) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mk[v], c));
                else if (g->beta != 0.0f) x = _mm512_fmadd_ps(_mm512_set1_ps(g->beta), _mm512_maskz_loadu_ps(mk[v], c), x);
                if (last) {
                    if (g->bias_mode == MLW_BIAS_PER_COL) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mk[v], g->bias + j + 16 * v));
                    else if (g->bias_mode == MLW_BIAS_PER_ROW) x = _mm512_add_ps(x, _mm512_set1_ps(g->bias[i0 + r]));
                    if (g->act == MLW_ACT_RELU) x = _mm512_max_ps(x, zero);   // NaN -> 0 like the packed epilogue
                }
                _mm512_mask_storeu_ps(c, mk[v], x);
            }
        }
    }
}

AI MLW_AVX512 void nn_rows(const smallm_ctx *g, const int R, const int W, long i0, long j0, long j1) {
    long j = j0;
    for (; j + 16 * W <= j1; j += 16 * W) nn_block(g, R, W, i0, j, 16 * W);
    // Tail: still several FMA chains where possible (one 16-wide chain is latency-bound).
    while (j < j1) {
        long rem = j1 - j;
        if (W >= 16 && rem > 128) { nn_block(g, R, 16, i0, j, rem); j += 256; }
        else if (W >= 16 && rem > 64) { nn_block(g, R, 8, i0, j, rem); j += 128; }   // 4 vectors: ~40% slower per byte
        else if (W >= 8 && rem > 32) { nn_block(g, R, 4, i0, j, mlw_min_l(64, rem)); j += 64; }
        else if (W >= 3 && rem > 16) { nn_block(g, R, 2, i0, j, mlw_min_l(32, rem)); j += 32; }
        else { nn_block(g, R, 1, i0, j, rem); j += 16; }
    }
}

// Accumulators R x W <= 24 plus W B vectors fit the 32 zmm registers (R = 1, W = 16: the
// B loads fold into the FMAs).
MLW_AVX512 void mlw_smallm_nn_avx512(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    switch (rows) {
    // One row: 16 vectors, so each k reads a whole 1 KB row of B (256 columns) rather than
    // half of it — the half-row pattern streamed B from L2 at ~130 B/ns, whole rows ~185.
    case 1: nn_rows(g, 1, 16, i0, j0, j1); break;
    case 2: nn_rows(g, 2, 4, i0, j0, j1); break;
    case 3: nn_rows(g, 3, 4, i0, j0, j1); break;
    case 4: nn_rows(g, 4, 4, i0, j0, j1); break;
    case 5: nn_rows(g, 5, 4, i0, j0, j1); break;
    case 6: nn_rows(g, 6, 4, i0, j0, j1); break;
    case 7: nn_rows(g, 7, 3, i0, j0, j1); break;
    default: nn_rows(g, 8, 3, i0, j0, j1); break;
    }
}

// 16 lanes -> 1 by the fixed tree shared with the AVX2 and portable kernels.
AI MLW_AVX512 float hsum16(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v), hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// R rows x C columns of dot products; each B row (a column of B) is loaded once per R rows.
AI MLW_AVX512 void nt_block(const smallm_ctx *g, const int R, const int C, long i0, long j) {
    const long K = g->K;
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int i = 0; i < R * C; i++) acc[i] = _mm512_setzero_ps();
    long k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 bv[4];
#pragma clang loop unroll(full)
        for (int c = 0; c < C; c++) bv[c] = _mm512_loadu_ps(g->B + (j + c) * g->csb + k);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_loadu_ps(g->A + (i0 + r) * g->rsa + k);
#pragma clang loop unroll(full)
            for (int c = 0; c < C; c++) acc[r * C + c] = _mm512_fmadd_ps(av, bv[c], acc[r * C + c]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            const float *a = g->A + (i0 + r) * g->rsa, *b = g->B + (j + c) * g->csb;
            float s = hsum16(acc[r * C + c]);
            for (long kk = k; kk < K; kk++) s = __builtin_fmaf(a[kk], b[kk], s);
            float *cp = g->C + (i0 + r) * g->ldc + j + c;
            *cp = smallm_merge_scalar(g, s, cp, i0 + r, j + c, 1, 1);
        }
}

AI MLW_AVX512 void nt_rows(const smallm_ctx *g, const int R, long i0, long j0, long j1) {
    long j = j0;
    for (; j + 4 <= j1; j += 4) nt_block(g, R, 4, i0, j);
    for (; j < j1; j++) nt_block(g, R, 1, i0, j);
}

MLW_AVX512 void mlw_smallm_nt_avx512(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    for (long i = i0; i < i0 + rows; i += 4) {
        switch (mlw_min_l(4, i0 + rows - i)) {
        case 1: nt_rows(g, 1, i, j0, j1); break;
        case 2: nt_rows(g, 2, i, j0, j1); break;
        case 3: nt_rows(g, 3, i, j0, j1); break;
        default: nt_rows(g, 4, i, j0, j1); break;
        }
    }
}
