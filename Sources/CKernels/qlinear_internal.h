// Shared by qlinear*.c: the per-call state and the portable reference pieces.
#pragma once
#include "qlinear.h"
#include "internal.h"

// Activations after quantization: u8 rows of kp = 4*ceil(K/4) bytes (zeros past K), and
// per row the scale and the effective zero point (signed int8 is stored shifted by +128,
// so its zero point is 128): acc = Σ u·W − zero·colsum is the exact integer product.
typedef struct {
    const mlw_qlinear_args *a;
    long kp;
    uint8_t *u;
    float *scale;
    int32_t *zero;
} qctx;

// One output element from its exact integer sum (mul and add rounded separately, in this
// order, at every SIMD level).
static inline float q_epilogue(const mlw_qlinear_args *a, int32_t acc, float scale, int32_t zero, long n) {
    int32_t t = (int32_t)((uint32_t)acc - (uint32_t)zero * (uint32_t)a->colsum[n]);
    float sc = scale * (a->per_channel ? a->wscale[n] : a->wscale[0]);
    float v = sc * (float)t;
    if (a->bias) v = v + a->bias[n];
    if (a->relu) v = v > 0.0f ? v : 0.0f;
    return v;
}

void mlw_q_rows_portable(const qctx *c, long r0, long r1, long j0, long j1);
void mlw_q_rows_avx2(const qctx *c, long r0, long r1);
void mlw_q_rows_vnni(const qctx *c, long r0, long r1);
// Row scale / zero point from the row's range (dynamic) or the static parameters.
void mlw_q_row_params(const mlw_qlinear_args *a, float lo, float hi, float *scale, int32_t *zero);
void mlw_q_quantize_row_portable(const qctx *c, long r);
void mlw_q_quantize_row_avx2(const qctx *c, long r);
void mlw_q_quantize_row_avx512(const qctx *c, long r);

// One activation: scale, clamp, round to nearest even (|t| <= 255 < 2^22, so the magic
// constant rounds exactly), shift signed values by +128. NaN becomes the lower bound,
// like the SIMD max/min. The SIMD quantizers do the same operations lane by lane.
static inline uint8_t q_one(float x, float inv, float zf, int uns) {
    float t = x * inv;
    if (uns) t = t + zf;
    float lo = uns ? 0.0f : -127.0f, hi = uns ? 255.0f : 127.0f;
    t = t > lo ? t : lo;
    t = t < hi ? t : hi;
    t = (t + 12582912.0f) - 12582912.0f;
    int v = (int)t;
    return (uint8_t)(uns ? v : v + 128);
}
