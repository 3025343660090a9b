// im2col and 2-D pooling for float32 NCHW tensors. Both work row by row with the valid
// column range computed once per row, so the inner loops carry no bounds tests: padding
// becomes memset, stride-1 rows become memcpy.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "internal.h"

// Output columns ox in [*lo, *hi) whose input column ox*s - p + off lies in [0, w).
static void valid_range(long ow, long w, long s, long p, long off, long *lo, long *hi) {
    long a = p - off;                       // need ox*s >= a
    long l = a <= 0 ? 0 : (a + s - 1) / s;
    long b = w - 1 + p - off;               // need ox*s <= b
    long h = b < 0 ? 0 : b / s + 1;
    if (h > ow) h = ow;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

void mlw_im2col_f32(const float *x, long cg, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long dh, long dw,
                    long oh, long ow, float *dst) {
    long cols = oh * ow;
    for (long ch = 0; ch < cg; ch++) {
        const float *plane = x + ch * h * w;
        for (long ki = 0; ki < kh; ki++) {
            for (long kj = 0; kj < kw; kj++) {
                float *row = dst + ((ch * kh + ki) * kw + kj) * cols;
                long lo, hi;
                valid_range(ow, w, sw, pw, kj * dw, &lo, &hi);
                for (long yy = 0; yy < oh; yy++) {
                    float *out = row + yy * ow;
                    long iy = yy * sh - ph + ki * dh;
                    if (iy < 0 || iy >= h || lo >= hi) { memset(out, 0, (size_t)ow * sizeof(float)); continue; }
                    if (lo > 0) memset(out, 0, (size_t)lo * sizeof(float));
                    if (hi < ow) memset(out + hi, 0, (size_t)(ow - hi) * sizeof(float));
                    const float *src = plane + iy * w + lo * sw - pw + kj * dw;
                    if (sw == 1) {
                        memcpy(out + lo, src, (size_t)(hi - lo) * sizeof(float));
                    } else {
                        for (long ox = lo; ox < hi; ox++) out[ox] = src[(ox - lo) * sw];
                    }
                }
            }
        }
    }
}

// Running max that lets a NaN win, in the reference's visiting order.
MLW_INLINE float nan_max(float acc, float v) { return (v > acc || v != v) ? v : acc; }

MLW_INLINE void pool_body(const float *x, long planes, long h, long w, long kh, long kw,
                          long sh, long sw, long ph, long pw, long oh, long ow, int is_max, float *out) {
    float area = (float)(kh * kw);
    for (long p = 0; p < planes; p++) {
        const float *plane = x + p * h * w;
        for (long yy = 0; yy < oh; yy++) {
            float *acc = out + (p * oh + yy) * ow;
            if (is_max && kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) {
                // The common 2x2 / stride 2 window: one pass over two input rows.
                const float *r0 = plane + 2 * yy * w, *r1 = r0 + w;
                for (long ox = 0; ox < ow; ox++)
                    acc[ox] = nan_max(nan_max(nan_max(nan_max(-INFINITY, r0[2 * ox]), r0[2 * ox + 1]), r1[2 * ox]), r1[2 * ox + 1]);
                continue;
            }
            for (long ox = 0; ox < ow; ox++) acc[ox] = is_max ? -INFINITY : 0.0f;
            // Same visiting order (ki, then kj) as the reference, so averages match bit for bit.
            for (long ki = 0; ki < kh; ki++) {
                long iy = yy * sh - ph + ki;
                if (iy < 0 || iy >= h) continue;
                const float *row = plane + iy * w;
                for (long kj = 0; kj < kw; kj++) {
                    long lo, hi;
                    valid_range(ow, w, sw, pw, kj, &lo, &hi);
                    const float *src = row - pw + kj;
                    if (is_max) {
                        for (long ox = lo; ox < hi; ox++) acc[ox] = nan_max(acc[ox], src[ox * sw]);
                    } else {
                        for (long ox = lo; ox < hi; ox++) acc[ox] += src[ox * sw];
                    }
                }
            }
            if (!is_max) for (long ox = 0; ox < ow; ox++) acc[ox] /= area;
        }
    }
}

MLW_AVX2 static void pool_avx2(const float *x, long planes, long h, long w, long kh, long kw, long sh, long sw,
                               long ph, long pw, long oh, long ow, int is_max, float *out) {
    pool_body(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
}
static void pool_portable(const float *x, long planes, long h, long w, long kh, long kw, long sh, long sw,
                          long ph, long pw, long oh, long ow, int is_max, float *out) {
    pool_body(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
}

void mlw_pool2d_f32(const float *x, long planes, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long oh, long ow, int is_max, float *out) {
    if (mlw_simd_enabled()) pool_avx2(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
    else pool_portable(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
}
