// AVX512-VNNI int8 dense layer: vpdpbusd multiplies 4 u8 activations by 4 int8 weights
// and adds the 4 products to an int32 lane, so one instruction does 16 columns x 4 k of
// the packed weight. Up to 4 rows share each weight load; the epilogue (zero-point
// correction, dequantization, bias, ReLU) runs on the accumulators before they are stored.
#pragma clang fp contract(off)
#include "qlinear_internal.h"
#include <immintrin.h>
#include <string.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))
#define AI static inline __attribute__((always_inline))

VNNI void mlw_q_quantize_row_avx512(const qctx *c, long r) {
    const mlw_qlinear_args *a = c->a;
    const float *x = a->x + r * a->ldx;
    long K = a->K;
    float lo = 0.0f, hi = 0.0f;
    if (a->dynamic) {
        __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
        for (long k = 0; k < K; k += 16) {
            __mmask16 m = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(m, x + k);   // masked lanes read 0: neutral here
            vlo = _mm512_min_ps(v, vlo); vhi = _mm512_max_ps(v, vhi);
        }
        float l[16], h[16];
        _mm512_storeu_ps(l, vlo); _mm512_storeu_ps(h, vhi);
        for (int i = 0; i < 16; i++) { lo = l[i] < lo ? l[i] : lo; hi = h[i] > hi ? h[i] : hi; }
    }
    mlw_q_row_params(a, lo, hi, &c->scale[r], &c->zero[r]);
    int uns = a->act_unsigned;
    float inv = 1.0f / c->scale[r], zf = (float)(uns ? c->zero[r] : 0);
    __m512 vinv = _mm512_set1_ps(inv), vz = _mm512_set1_ps(zf);
    __m512 vmin = _mm512_set1_ps(uns ? 0.0f : -127.0f), vmax = _mm512_set1_ps(uns ? 255.0f : 127.0f);
    __m512i shift = _mm512_set1_epi32(uns ? 0 : 128);
    uint8_t *u = c->u + r * c->kp;
    for (long k = 0; k < c->kp; k += 16) {
        __mmask16 m = K - k >= 16 ? (__mmask16)0xffff : K > k ? (__mmask16)((1u << (K - k)) - 1) : 0;
        __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), vinv);
        if (uns) t = _mm512_add_ps(t, vz);
        t = _mm512_min_ps(_mm512_max_ps(t, vmin), vmax);
        __m512i q = _mm512_maskz_add_epi32(m, _mm512_cvtps_epi32(t), shift);   // padding lanes -> 0
        __mmask16 st = c->kp - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (c->kp - k)) - 1);
        _mm512_mask_cvtepi32_storeu_epi8(u + k, st, q);
    }
}

// R rows x CB vectors of 16 columns; `cols` (<= 16 CB) masks the tail.
AI VNNI void vnni_block(const qctx *c, const int R, const int CB, long i0, long j, long cols) {
    const mlw_qlinear_args *a = c->a;
    long kq = c->kp / 4, N = a->N;
    __mmask16 mk[16];
#pragma clang loop unroll(full)
    for (int v = 0; v < CB; v++) {
        long rem = cols - 16L * v;
        mk[v] = rem >= 16 ? (__mmask16)0xffff : rem <= 0 ? 0 : (__mmask16)((1u << rem) - 1);
    }
    __m512i acc[16];
#pragma clang loop unroll(full)
    for (int i = 0; i < R * CB; i++) acc[i] = _mm512_setzero_si512();
    const int8_t *w = a->w + j * 4;
    const uint8_t *u = c->u + i0 * c->kp;
    for (long q = 0; q < kq; q++, w += N * 4) {
        __m512i wv[16];
#pragma clang loop unroll(full)
        for (int v = 0; v < CB; v++) wv[v] = _mm512_maskz_loadu_epi32(mk[v], w + 64 * v);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            int32_t quad;
            memcpy(&quad, u + r * c->kp + 4 * q, 4);
            __m512i xv = _mm512_set1_epi32(quad);
#pragma clang loop unroll(full)
            for (int v = 0; v < CB; v++) acc[r * CB + v] = _mm512_dpbusd_epi32(acc[r * CB + v], xv, wv[v]);
        }
    }
#pragma clang loop unroll(full)
    for (int v = 0; v < CB; v++) {
        long n = j + 16 * v;
        __m512i cs = _mm512_maskz_loadu_epi32(mk[v], a->colsum + n);
        __m512 ws = a->per_channel ? _mm512_maskz_loadu_ps(mk[v], a->wscale + n) : _mm512_set1_ps(a->wscale[0]);
        __m512 b = a->bias ? _mm512_maskz_loadu_ps(mk[v], a->bias + n) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            __m512i s = _mm512_sub_epi32(acc[r * CB + v], _mm512_mullo_epi32(_mm512_set1_epi32(c->zero[i0 + r]), cs));
            __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(c->scale[i0 + r]), ws), _mm512_cvtepi32_ps(s));
            if (a->bias) y = _mm512_add_ps(y, b);
            if (a->relu) y = _mm512_max_ps(y, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(a->y + (i0 + r) * a->ldy + n, mk[v], y);
        }
    }
}

AI VNNI void vnni_rows(const qctx *c, const int R, const int CB, long i0) {
    long N = c->a->N, j = 0;
    for (; j + 16 * CB <= N; j += 16 * CB) vnni_block(c, R, CB, i0, j, 16 * CB);
    while (j < N) {   // tail: a few FMA-like chains where possible, masked
        long rem = N - j;
        if (CB >= 16 && rem > 128) { vnni_block(c, R, 16, i0, j, rem); j += 256; }
        else if (CB >= 4 && rem > 32) { vnni_block(c, R, 4, i0, j, mlw_min_l(64, rem)); j += 64; }
        else if (CB >= 2 && rem > 16) { vnni_block(c, R, 2, i0, j, mlw_min_l(32, rem)); j += 32; }
        else { vnni_block(c, R, 1, i0, j, rem); j += 16; }
    }
}

// One row: 16 vectors (256 columns) of independent sums hide vpdpbusd's latency and read
// whole 1 KB rows of the packed weight (half rows, 8 vectors, streamed it ~1.4x slower);
// more rows: 4 rows x 4 vectors, each weight load used 4 times.
VNNI void mlw_q_rows_vnni(const qctx *c, long r0, long r1) {
    long i = r0;
    for (; i + 4 <= r1; i += 4) vnni_rows(c, 4, 4, i);
    switch (r1 - i) {
    case 3: vnni_rows(c, 3, 4, i); break;
    case 2: vnni_rows(c, 2, 8, i); break;
    case 1: vnni_rows(c, 1, 16, i); break;
    default: break;
    }
}
