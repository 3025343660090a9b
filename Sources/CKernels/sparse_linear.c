// Pruned dense layer y = act(x · Wᵀ-as-CSR + b) (module Compress's `sparse_dense`): CSR rows
// are output units, column indices are input features.
//   Few rows (M < 8): per output a gather-dot over its nonzeros, for up to 4 rows at once so
//     they share the index and value loads; 4 independent sums per row (a fixed order).
//     Scalar on purpose: on this machine class AVX-512/AVX2 gathers were slower than scalar
//     loads for rows of 10-30 nonzeros (Docs/tensors.md).
//   More rows: x is transposed so each nonzero scales a contiguous row of xᵀ (8-wide FMA
//     "axpy" over the batch), bias and ReLU are applied to the finished row, and the [N, M]
//     result is transposed into y.
// Results never depend on the thread count (tasks are fixed groups of outputs); the
// batch path rounds with FMA when SIMD is on, so its last bits differ from the portable one.
#pragma clang fp contract(off)
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

static inline float act(float v, const float *bias, long o, int relu) {
    if (bias) v = v + bias[o];
    return relu ? (v > 0.0f ? v : 0.0f) : v;
}

// R rows (R <= 4, a constant after inlining so the sums stay in registers) of y, every output.
static inline __attribute__((always_inline)) void gather_rows(const long R, long N, const float *x, long ldx,
        const int32_t *ip, const int32_t *ix, const float *v, const float *bias, int relu, float *y, long ldy) {
    for (long o = 0; o < N; o++) {
        int32_t p = ip[o], e = ip[o + 1];
        float a0[4] = {0}, a1[4] = {0}, a2[4] = {0}, a3[4] = {0};
        for (; p + 4 <= e; p += 4) {
            int32_t i0 = ix[p], i1 = ix[p + 1], i2 = ix[p + 2], i3 = ix[p + 3];
            float v0 = v[p], v1 = v[p + 1], v2 = v[p + 2], v3 = v[p + 3];
#pragma clang loop unroll(full)
            for (long r = 0; r < R; r++) {
                const float *xr = x + r * ldx;
                a0[r] = a0[r] + v0 * xr[i0]; a1[r] = a1[r] + v1 * xr[i1];
                a2[r] = a2[r] + v2 * xr[i2]; a3[r] = a3[r] + v3 * xr[i3];
            }
        }
        for (; p < e; p++)
#pragma clang loop unroll(full)
            for (long r = 0; r < R; r++) a0[r] = a0[r] + v[p] * x[r * ldx + ix[p]];
#pragma clang loop unroll(full)
        for (long r = 0; r < R; r++) y[r * ldy + o] = act((a0[r] + a1[r]) + (a2[r] + a3[r]), bias, o, relu);
    }
}

static void gather_rows_n(long R, long N, const float *x, long ldx, const int32_t *ip, const int32_t *ix,
                          const float *v, const float *bias, int relu, float *y, long ldy) {
    switch (R) {
    case 1: gather_rows(1, N, x, ldx, ip, ix, v, bias, relu, y, ldy); break;
    case 2: gather_rows(2, N, x, ldx, ip, ix, v, bias, relu, y, ldy); break;
    case 3: gather_rows(3, N, x, ldx, ip, ix, v, bias, relu, y, ldy); break;
    default: gather_rows(4, N, x, ldx, ip, ix, v, bias, relu, y, ldy); break;
    }
}

// yt[o, 0..M) = act(Σ_p v[p] · xt[ix[p], 0..M) + b[o]) for outputs o0..o1.
static void axpy_rows_portable(long M, long o0, long o1, const float *xt, const int32_t *ip, const int32_t *ix,
                               const float *v, const float *bias, int relu, float *yt) {
    for (long o = o0; o < o1; o++) {
        float *c = yt + o * M;
        for (long j = 0; j < M; j++) c[j] = 0.0f;
        for (int32_t p = ip[o]; p < ip[o + 1]; p++) {
            const float *b = xt + (long)ix[p] * M;
            for (long j = 0; j < M; j++) c[j] = c[j] + v[p] * b[j];
        }
        for (long j = 0; j < M; j++) c[j] = act(c[j], bias, o, relu);
    }
}

// Same sums, 8 batch rows per FMA (so the last bits may differ from the portable twin).
MLW_AVX2 static void axpy_rows_avx2(long M, long o0, long o1, const float *xt, const int32_t *ip, const int32_t *ix,
                                    const float *v, const float *bias, int relu, float *yt) {
    for (long o = o0; o < o1; o++) {
        float *c = yt + o * M;
        long j = 0;
        for (; j + 32 <= M; j += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            for (int32_t p = ip[o]; p < ip[o + 1]; p++) {
                __m256 s = _mm256_set1_ps(v[p]);
                const float *b = xt + (long)ix[p] * M + j;
                a0 = _mm256_fmadd_ps(s, _mm256_loadu_ps(b), a0);
                a1 = _mm256_fmadd_ps(s, _mm256_loadu_ps(b + 8), a1);
                a2 = _mm256_fmadd_ps(s, _mm256_loadu_ps(b + 16), a2);
                a3 = _mm256_fmadd_ps(s, _mm256_loadu_ps(b + 24), a3);
            }
            __m256 acc[4] = {a0, a1, a2, a3};
            for (int q = 0; q < 4; q++) {
                __m256 t = acc[q];
                if (bias) t = _mm256_add_ps(t, _mm256_set1_ps(bias[o]));
                if (relu) t = _mm256_max_ps(t, _mm256_setzero_ps());
                _mm256_storeu_ps(c + j + 8 * q, t);
            }
        }
        for (; j + 8 <= M; j += 8) {
            __m256 a0 = _mm256_setzero_ps();
            for (int32_t p = ip[o]; p < ip[o + 1]; p++)
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(v[p]), _mm256_loadu_ps(xt + (long)ix[p] * M + j), a0);
            if (bias) a0 = _mm256_add_ps(a0, _mm256_set1_ps(bias[o]));
            if (relu) a0 = _mm256_max_ps(a0, _mm256_setzero_ps());
            _mm256_storeu_ps(c + j, a0);
        }
        for (; j < M; j++) {
            float s = 0.0f;
            for (int32_t p = ip[o]; p < ip[o + 1]; p++) s = __builtin_fmaf(v[p], xt[(long)ix[p] * M + j], s);
            c[j] = act(s, bias, o, relu);
        }
    }
}

// Same sums as the AVX2 twin, 16 batch rows per FMA (per lane the same FMAs in the same
// order, so the same bits): twice the rows per load and FMA.
static inline __attribute__((always_inline)) MLW_AVX512 void axpy_block512(const int W, long M, long o, long j, __mmask16 last,
        const float *xt, const int32_t *ip, const int32_t *ix, const float *v, const float *bias, int relu, float *c) {
    __m512 a[4];
    for (int q = 0; q < W; q++) a[q] = _mm512_setzero_ps();
    for (int32_t p = ip[o]; p < ip[o + 1]; p++) {
        __m512 s = _mm512_set1_ps(v[p]);
        const float *b = xt + (long)ix[p] * M + j;
        for (int q = 0; q < W; q++)
            a[q] = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(q == W - 1 ? last : 0xffff, b + 16 * q), a[q]);
    }
    for (int q = 0; q < W; q++) {
        __m512 t = a[q];
        if (bias) t = _mm512_add_ps(t, _mm512_set1_ps(bias[o]));
        if (relu) t = _mm512_max_ps(t, _mm512_setzero_ps());
        _mm512_mask_storeu_ps(c + j + 16 * q, q == W - 1 ? last : 0xffff, t);
    }
}

MLW_AVX512 static void axpy_rows_avx512(long M, long o0, long o1, const float *xt, const int32_t *ip, const int32_t *ix,
                                  const float *v, const float *bias, int relu, float *yt) {
    for (long o = o0; o < o1; o++) {
        float *c = yt + o * M;
        long j = 0;
        for (; j + 64 <= M; j += 64) axpy_block512(4, M, o, j, 0xffff, xt, ip, ix, v, bias, relu, c);
        for (; j < M; j += 16) {
            long rest = M - j;
            axpy_block512(1, M, o, j, rest >= 16 ? 0xffff : (__mmask16)((1u << rest) - 1), xt, ip, ix, v, bias, relu, c);
        }
    }
}

typedef struct {
    long M, N; const float *xt; const int32_t *ip, *ix; const float *v, *bias; int relu; float *yt; int simd;
} csr_lin_ctx;

#define OUTS_PER_TASK 32

static void csr_lin_task(void *p, int t) {
    const csr_lin_ctx *g = p;
    long o0 = (long)t * OUTS_PER_TASK, o1 = mlw_min_l(g->N, o0 + OUTS_PER_TASK);
    if (g->simd == 2) axpy_rows_avx512(g->M, o0, o1, g->xt, g->ip, g->ix, g->v, g->bias, g->relu, g->yt);
    else if (g->simd) axpy_rows_avx2(g->M, o0, o1, g->xt, g->ip, g->ix, g->v, g->bias, g->relu, g->yt);
    else axpy_rows_portable(g->M, o0, o1, g->xt, g->ip, g->ix, g->v, g->bias, g->relu, g->yt);
}

int mlw_csr_linear(long M, long K, long N, const float *x, long ldx, const int32_t *indptr, const int32_t *indices,
                   const float *values, const float *bias, int relu, float *y, long ldy) {
    if (M <= 0 || N <= 0) return 0;
    if (M < 8) {
        for (long r = 0; r < M; r += 4)
            gather_rows_n(mlw_min_l(4, M - r), N, x + r * ldx, ldx, indptr, indices, values, bias, relu, y + r * ldy, ldy);
        return 0;
    }
    float *xt = malloc((size_t)(K * M + N * M) * sizeof(float) + 1);
    if (!xt) return -1;
    float *yt = xt + K * M;
    mlw_transpose_32(x, M, K, ldx, xt, M);
    csr_lin_ctx g = {M, N, xt, indptr, indices, values, bias, relu, yt, mlw_simd_level()};
    double work = 2.0 * (double)indptr[N] * (double)M;
    mlw_parallel_for((int)((N + OUTS_PER_TASK - 1) / OUTS_PER_TASK), work < 1.0e6 ? 1 : 0, csr_lin_task, &g);
    mlw_transpose_32(yt, N, M, M, y, ldy);
    free(xt);
    return 0;
}
