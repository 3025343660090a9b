// Small-batch form of a pruned dense layer (CSR rows = outputs, column indices = inputs) on
// AVX-512 CPUs.
//
// Why: at batch 1 the CSR gather-dot does about one non-zero per cycle (a scalar load of x per
// non-zero), which leaves a 90%-sparse layer barely faster than the dense GEMV. Here 16 output
// rows advance together and x never goes through memory: the inputs are cut into blocks of 64
// (or 32), a block of x sits in four (two) zmm registers, and step t of a (rows, block) cell
// holds the t-th non-zero of each of its 16 rows inside that block (ELLPACK per block). The
// 16 x values of a step are picked out of the registers by two vpermt2ps and a blend on index
// bit 5 (one vpermt2ps for blocks of 32); the weights stream as 16 one-byte indices + 16
// floats per step. Four groups of 16 rows run side by side so four FMA chains are in flight.
// `prune` orders a layer's units by non-zero count, so the rows of a group are of similar
// length and pad less.
//
// Each output is summed over its non-zeros in column order with one FMA each, starting from 0,
// then bias and ReLU: the same operations in the same order as mlw_csr_linear's batch path
// (axpy over xᵀ) when each row's indices are sorted, so both give the same bits; rows that are
// not sorted get no ELL form. Rows shorter than their cell's longest are padded with zero
// weights, which add exact zeros for a finite x; an x with an infinity or NaN runs a masked
// twin instead (0 · inf would be NaN).
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

struct mlw_csr_ell {
    long K, N, Q;           // Q groups of 16 rows per slice of outputs
    long block;             // inputs per block: 64 (two permutes and a blend) or 32 (one permute)
    long slices, blocks;    // cell (slice, block) = 16Q rows x `block` inputs
    int32_t *start;         // [cells + 1]: first step of each cell (its steps = its longest row)
    int32_t *lens;          // [cells][16Q]: non-zeros of each row in the cell (0 past N)
    uint8_t *idx;           // [steps][16Q]: column index within the block
    float *vals;            // [steps][16Q]: weights
};

// Lays the cells out for blocks of `block` inputs: e->blocks, e->lens and e->start (the
// previous layout's arrays are replaced). Returns the steps, or -1 when out of memory.
static long lay_out(mlw_csr_ell *e, long block, const int32_t *indptr, const int32_t *indices) {
    long rows = 16 * e->Q;
    e->block = block;
    e->blocks = (e->K + block - 1) / block;
    long cells = e->slices * e->blocks;
    free(e->start); free(e->lens);
    e->start = malloc((size_t)(cells + 1) * sizeof(int32_t));
    e->lens = calloc((size_t)(cells * rows), sizeof(int32_t));
    if (!e->start || !e->lens) return -1;
    for (long o = 0; o < e->N; o++)
        for (int32_t p = indptr[o]; p < indptr[o + 1]; p++)
            e->lens[((o / rows) * e->blocks + indices[p] / block) * rows + o % rows]++;
    long steps = 0;
    for (long c = 0; c < cells; c++) {
        int32_t longest = 0;
        for (long l = 0; l < rows; l++) longest = e->lens[c * rows + l] > longest ? e->lens[c * rows + l] : longest;
        e->start[c] = (int32_t)steps;
        steps += longest;
    }
    e->start[cells] = (int32_t)steps;
    return steps;
}

mlw_csr_ell *mlw_csr_ell_new(long K, long N, const int32_t *indptr, const int32_t *indices, const float *values) {
    if (mlw_cpu_simd_level() < 2 || K <= 0 || N <= 0) return NULL;
    for (long o = 0; o < N; o++)
        for (int32_t p = indptr[o] + 1; p < indptr[o + 1]; p++)
            if (indices[p] < indices[p - 1]) return NULL;   // blocks would reorder the row's sum
    mlw_csr_ell *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    long groups = (N + 15) / 16, rows;
    e->K = K; e->N = N; e->Q = groups >= 4 ? 4 : 1;
    rows = 16 * e->Q;
    e->slices = (N + rows - 1) / rows;
    // Blocks of 32 cost less per step (one permute, no blend) but leave more padding: take
    // them unless they need over 1.15x the steps of blocks of 64 (measured on this machine
    // class: the 30%-dense 64-input layer 0.23 vs 0.27 µs, the 5% 256-input one slower).
    long s64 = lay_out(e, 64, indptr, indices), s32 = lay_out(e, 32, indptr, indices);
    long steps = s32 >= 0 && s64 >= 0 && (double)s32 > 1.15 * (double)s64 ? lay_out(e, 64, indptr, indices) : s32;
    long cells = e->slices * e->blocks;
    int32_t *fill = calloc((size_t)(cells * rows), sizeof(int32_t));   // non-zeros placed per (cell, row)
    e->idx = steps < 0 ? NULL : calloc((size_t)(steps * rows) + 64, 1);
    // 64-byte aligned: every step loads whole zmm rows of values, and a load that straddles
    // two cache lines costs two (the chain of the digits model's layers ran 0.63-0.81 µs
    // depending on where calloc put them).
    size_t vbytes = ((size_t)(steps * rows + 16) * sizeof(float) + 63) / 64 * 64;
    e->vals = steps < 0 ? NULL : aligned_alloc(64, vbytes);
    if (e->vals) memset(e->vals, 0, vbytes);
    if (!fill || !e->idx || !e->vals) { free(fill); mlw_csr_ell_free(e); return NULL; }
    for (long o = 0; o < N; o++)
        for (int32_t p = indptr[o]; p < indptr[o + 1]; p++) {
            long lane = o % rows, c = (o / rows) * e->blocks + indices[p] / e->block;
            long at = (e->start[c] + fill[c * rows + lane]++) * rows + lane;
            e->idx[at] = (uint8_t)(indices[p] % e->block);
            e->vals[at] = values[p];
        }
    free(fill);
    return e;
}

long mlw_csr_ell_steps(const mlw_csr_ell *e) { return e->start[e->slices * e->blocks] * e->Q; }

void mlw_csr_ell_free(mlw_csr_ell *e) {
    if (!e) return;
    free(e->start); free(e->lens); free(e->idx); free(e->vals); free(e);
}

static inline __attribute__((always_inline)) __mmask16 first_lanes(long n) {
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

// MASKED: rows shorter than their cell's longest are masked out of the FMA. Unmasked, the
// padding (weight 0, index 0) adds 0 · x[0], which changes nothing while x is finite (acc
// starts at +0, so it is never -0) — and is ~25% faster (no mask compare per step).
static inline __attribute__((always_inline)) MLW_AVX512 void ell_row(const int Q, const int MASKED, const int BLOCK, const mlw_csr_ell *e, const float *x,
                                                             const float *bias, int relu, float *y) {
    const long rows = 16L * Q;
    for (long s = 0; s < e->slices; s++) {
        __m512 acc[4];
        for (int q = 0; q < Q; q++) acc[q] = _mm512_setzero_ps();
        for (long b = 0; b < e->blocks; b++) {
            __m512 X[4];
            for (int r = 0; r < BLOCK / 16; r++) X[r] = _mm512_maskz_loadu_ps(first_lanes(e->K - BLOCK * b - 16L * r), x + BLOCK * b + 16 * r);
            long c = s * e->blocks + b;
            __m512i len[4];
            for (int q = 0; q < Q; q++) len[q] = MASKED ? _mm512_loadu_si512(e->lens + c * rows + 16 * q) : _mm512_setzero_si512();
            const uint8_t *ip = e->idx + rows * e->start[c];
            const float *vp = e->vals + rows * e->start[c];
            for (int32_t t = 0, n = e->start[c + 1] - e->start[c]; t < n; t++, ip += rows, vp += rows) {
                __m512i tv = _mm512_set1_epi32(t);
#pragma clang loop unroll(full)
                for (int q = 0; q < Q; q++) {
                    __m512i i = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ip + 16 * q)));
                    __m512 xv = _mm512_permutex2var_ps(X[0], i, X[1]);
                    if (BLOCK == 64)   // bit 5 picks the upper pair
                        xv = _mm512_mask_blend_ps(_mm512_test_epi32_mask(i, _mm512_set1_epi32(32)), xv, _mm512_permutex2var_ps(X[2], i, X[3]));
                    if (MASKED) acc[q] = _mm512_mask3_fmadd_ps(_mm512_loadu_ps(vp + 16 * q), xv, acc[q], _mm512_cmpgt_epi32_mask(len[q], tv));
                    else acc[q] = _mm512_fmadd_ps(_mm512_loadu_ps(vp + 16 * q), xv, acc[q]);
                }
            }
        }
        for (int q = 0; q < Q; q++) {
            long o = s * rows + 16 * q;
            __mmask16 m = first_lanes(e->N - o);
            if (!m) break;
            __m512 v = acc[q];
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + o));
            if (relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(y + o, m, v);
        }
    }
}

// True when the K floats at x are all finite (no exponent of all ones).
static inline __attribute__((always_inline)) MLW_AVX512 int all_finite(const float *x, long K) {
    const __m512i exp = _mm512_set1_epi32(0x7f800000);
    __mmask16 bad = 0;
    for (long k = 0; k < K; k += 16) {
        __m512i v = _mm512_maskz_loadu_epi32(first_lanes(K - k), x + k);
        bad |= _mm512_cmpeq_epi32_mask(_mm512_and_si512(v, exp), exp);
    }
    return bad == 0;
}

static MLW_AVX512 void ell_rows(const mlw_csr_ell *e, long M, const float *x, long ldx, const float *bias, int relu, float *y, long ldy) {
    for (long r = 0; r < M; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        int finite = all_finite(xr, e->K), wide = e->block == 64;
        // Q x masked x block width, each a constant inside its kernel.
        if (e->Q == 4) {
            if (finite) { if (wide) ell_row(4, 0, 64, e, xr, bias, relu, yr); else ell_row(4, 0, 32, e, xr, bias, relu, yr); }
            else if (wide) ell_row(4, 1, 64, e, xr, bias, relu, yr);
            else ell_row(4, 1, 32, e, xr, bias, relu, yr);
        } else {
            if (finite) { if (wide) ell_row(1, 0, 64, e, xr, bias, relu, yr); else ell_row(1, 0, 32, e, xr, bias, relu, yr); }
            else if (wide) ell_row(1, 1, 64, e, xr, bias, relu, yr);
            else ell_row(1, 1, 32, e, xr, bias, relu, yr);
        }
    }
}

int mlw_csr_ell_linear(const mlw_csr_ell *e, long M, const float *x, long ldx, const float *bias, int relu, float *y, long ldy) {
    if (mlw_simd_level() < 2) return 1;
    ell_rows(e, M, x, ldx, bias, relu, y, ldy);
    return 0;
}
