// AVX2 int8 dense layer for CPUs without AVX512-VNNI. u8 activations x packed int8 weights
// through vpmaddwd on int16-widened operands (vpmaddubsw would saturate at 2·255·127):
// exact int32 sums, the same bits as the VNNI and portable kernels.
#pragma clang fp contract(off)
#include "qlinear_internal.h"
#include <immintrin.h>
#include <string.h>

#define AI static inline __attribute__((always_inline))

MLW_AVX2 void mlw_q_quantize_row_avx2(const qctx *c, long r) {
    const mlw_qlinear_args *a = c->a;
    const float *x = a->x + r * a->ldx;
    long K = a->K, k8 = K / 8 * 8;
    float lo = 0.0f, hi = 0.0f;
    if (a->dynamic) {
        __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
        for (long k = 0; k < k8; k += 8) {
            __m256 v = _mm256_loadu_ps(x + k);
            vlo = _mm256_min_ps(v, vlo); vhi = _mm256_max_ps(v, vhi);   // NaN keeps the old bound
        }
        float l[8], h[8];
        _mm256_storeu_ps(l, vlo); _mm256_storeu_ps(h, vhi);
        for (int i = 0; i < 8; i++) { lo = l[i] < lo ? l[i] : lo; hi = h[i] > hi ? h[i] : hi; }
        for (long k = k8; k < K; k++) { lo = x[k] < lo ? x[k] : lo; hi = x[k] > hi ? x[k] : hi; }
    }
    mlw_q_row_params(a, lo, hi, &c->scale[r], &c->zero[r]);
    int uns = a->act_unsigned;
    float inv = 1.0f / c->scale[r], zf = (float)(uns ? c->zero[r] : 0);
    __m256 vinv = _mm256_set1_ps(inv), vz = _mm256_set1_ps(zf);
    __m256 vmin = _mm256_set1_ps(uns ? 0.0f : -127.0f), vmax = _mm256_set1_ps(uns ? 255.0f : 127.0f);
    __m256i shift = _mm256_set1_epi32(uns ? 0 : 128);
    __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                    0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    uint8_t *u = c->u + r * c->kp;
    for (long k = 0; k < k8; k += 8) {
        __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x + k), vinv);
        if (uns) t = _mm256_add_ps(t, vz);
        t = _mm256_min_ps(_mm256_max_ps(t, vmin), vmax);
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), shift);   // round to nearest even
        __m256i b = _mm256_shuffle_epi8(q, pick);
        __m128i lo4 = _mm256_castsi256_si128(b), hi4 = _mm256_extracti128_si256(b, 1);
        _mm_storel_epi64((__m128i *)(void *)(u + k), _mm_unpacklo_epi32(lo4, hi4));
    }
    for (long k = k8; k < K; k++) u[k] = q_one(x[k], inv, zf, uns);
    for (long k = K; k < c->kp; k++) u[k] = 0;
}

// R rows x CB units of 8 columns. Per unit two int32 accumulators: columns 0-3 and 4-7,
// each lane holding a pair sum of one column; hadd + permute put them in column order.
AI MLW_AVX2 void avx2_block(const qctx *c, const int R, const int CB, long i0, long j) {
    const mlw_qlinear_args *a = c->a;
    long kq = c->kp / 4, N = a->N;
    __m256i lo[4], hi[4];
#pragma clang loop unroll(full)
    for (int i = 0; i < R * CB; i++) { lo[i] = _mm256_setzero_si256(); hi[i] = _mm256_setzero_si256(); }
    for (long q = 0; q < kq; q++) {
        __m256i wl[2], wh[2];
#pragma clang loop unroll(full)
        for (int v = 0; v < CB; v++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(a->w + (q * N + j + 8 * v) * 4));
            wl[v] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(w));
            wh[v] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(w, 1));
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            uint32_t quad;
            memcpy(&quad, c->u + (i0 + r) * c->kp + 4 * q, 4);
            __m256i xv = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)quad)));
#pragma clang loop unroll(full)
            for (int v = 0; v < CB; v++) {
                lo[r * CB + v] = _mm256_add_epi32(lo[r * CB + v], _mm256_madd_epi16(xv, wl[v]));
                hi[r * CB + v] = _mm256_add_epi32(hi[r * CB + v], _mm256_madd_epi16(xv, wh[v]));
            }
        }
    }
#pragma clang loop unroll(full)
    for (int v = 0; v < CB; v++) {
        long n = j + 8 * v;
        __m256i cs = _mm256_loadu_si256((const __m256i *)(const void *)(a->colsum + n));
        __m256 ws = a->per_channel ? _mm256_loadu_ps(a->wscale + n) : _mm256_set1_ps(a->wscale[0]);
        __m256 b = a->bias ? _mm256_loadu_ps(a->bias + n) : _mm256_setzero_ps();
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[r * CB + v], hi[r * CB + v]), 0xD8);
            s = _mm256_sub_epi32(s, _mm256_mullo_epi32(_mm256_set1_epi32(c->zero[i0 + r]), cs));
            __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(c->scale[i0 + r]), ws), _mm256_cvtepi32_ps(s));
            if (a->bias) y = _mm256_add_ps(y, b);
            if (a->relu) y = _mm256_max_ps(y, _mm256_setzero_ps());
            _mm256_storeu_ps(a->y + (i0 + r) * a->ldy + n, y);
        }
    }
}

AI MLW_AVX2 void avx2_rows(const qctx *c, const int R, long i0) {
    long N = c->a->N, j = 0;
    for (; j + 16 <= N; j += 16) avx2_block(c, R, 2, i0, j);
    for (; j + 8 <= N; j += 8) avx2_block(c, R, 1, i0, j);
    if (j < N) mlw_q_rows_portable(c, i0, i0 + R, j, N);
}

MLW_AVX2 void mlw_q_rows_avx2(const qctx *c, long r0, long r1) {
    long i = r0;
    for (; i + 2 <= r1; i += 2) avx2_rows(c, 2, i);
    if (i < r1) avx2_rows(c, 1, i);
}
