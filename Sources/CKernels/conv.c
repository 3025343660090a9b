// im2col and 2-D pooling for float32 NCHW tensors. Both work row by row with the valid
// column range computed once per row, so the inner loops carry no bounds tests: padding
// becomes a zero fill, stride-1 rows a straight copy.
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

#include <immintrin.h>

// Rows of a conv's im2col are short (the output width), so library memcpy/memset calls
// cost more than the copy; the AVX2 variant copies inline, ending with one overlapping
// vector (masked stores are slow on AMD).
MLW_AVX2 MLW_INLINE void copy_avx2(float *d, const float *s, long n) {
    if (n < 8) { for (long i = 0; i < n; i++) d[i] = s[i]; return; }
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    if (i < n) _mm256_storeu_ps(d + n - 8, _mm256_loadu_ps(s + n - 8));
}
MLW_AVX2 MLW_INLINE void zero_avx2(float *d, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
    for (; i < n; i++) d[i] = 0;
}
MLW_INLINE void copy_portable(float *d, const float *s, long n) { memcpy(d, s, (size_t)n * sizeof(float)); }
MLW_INLINE void zero_portable(float *d, long n) { memset(d, 0, (size_t)n * sizeof(float)); }

#define IM2COL_BODY(COPY, ZERO)                                                              \
    long cols = oh * ow;                                                                     \
    for (long ch = 0; ch < cg; ch++) {                                                       \
        const float *plane = x + ch * h * w;                                                 \
        for (long ki = 0; ki < kh; ki++) {                                                   \
            for (long kj = 0; kj < kw; kj++) {                                               \
                float *row = dst + ((ch * kh + ki) * kw + kj) * cols;                        \
                long lo, hi;                                                                 \
                valid_range(ow, w, sw, pw, kj * dw, &lo, &hi);                               \
                for (long yy = 0; yy < oh; yy++) {                                           \
                    float *out = row + yy * ow;                                              \
                    long iy = yy * sh - ph + ki * dh;                                        \
                    if (iy < 0 || iy >= h || lo >= hi) { ZERO(out, ow); continue; }          \
                    if (lo > 0) ZERO(out, lo);                                               \
                    if (hi < ow) ZERO(out + hi, ow - hi);                                    \
                    const float *src = plane + iy * w + lo * sw - pw + kj * dw;              \
                    if (sw == 1) COPY(out + lo, src, hi - lo);                               \
                    else for (long ox = lo; ox < hi; ox++) out[ox] = src[(ox - lo) * sw];    \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

MLW_AVX2 static void im2col_avx2(const float *x, long cg, long h, long w, long kh, long kw, long sh, long sw,
                                 long ph, long pw, long dh, long dw, long oh, long ow, float *dst) {
    IM2COL_BODY(copy_avx2, zero_avx2)
}
static void im2col_portable(const float *x, long cg, long h, long w, long kh, long kw, long sh, long sw,
                            long ph, long pw, long dh, long dw, long oh, long ow, float *dst) {
    IM2COL_BODY(copy_portable, zero_portable)
}

void mlw_im2col_f32(const float *x, long cg, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long dh, long dw,
                    long oh, long ow, float *dst) {
    if (mlw_simd_enabled()) im2col_avx2(x, cg, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dst);
    else im2col_portable(x, cg, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dst);
}

// Stride-1 convolutions: pad each channel once into a [hp, wp] plane (wp = w + 2*pw),
// then every im2col row is ONE contiguous copy of oh*wp values (output columns past ow
// are computed and dropped by mlw_compact_rows_f32). Short rows cost a call each in the
// plain im2col; here a 14-wide image needs 1/14 of the copies.
#define IM2COL_PADDED_BODY(COPY, ZERO)                                                       \
    long hp = h + 2 * ph, wp = w + 2 * pw, plane = hp * wp;                                  \
    for (long ch = 0; ch < cg; ch++) {                                                       \
        float *pd = padded + ch * plane;                                                     \
        ZERO(pd, ph * wp);                                                                   \
        for (long y = 0; y < h; y++) {                                                       \
            float *r = pd + (ph + y) * wp;                                                   \
            ZERO(r, pw); COPY(r + pw, x + (ch * h + y) * w, w); ZERO(r + pw + w, pw);        \
        }                                                                                    \
        ZERO(pd + (ph + h) * wp, ph * wp);                                                   \
    }                                                                                        \
    ZERO(padded + cg * plane, (kw - 1) * dw + 1);   /* slack read by the last rows */       \
    long n = oh * wp;                                                                        \
    for (long ch = 0; ch < cg; ch++)                                                         \
        for (long ki = 0; ki < kh; ki++)                                                     \
            for (long kj = 0; kj < kw; kj++)                                                 \
                COPY(dst + ((ch * kh + ki) * kw + kj) * n, padded + ch * plane + ki * dh * wp + kj * dw, n);

MLW_AVX2 static void im2col_padded_avx2(const float *x, long cg, long h, long w, long kh, long kw, long ph, long pw,
                                        long dh, long dw, long oh, float *padded, float *dst) {
    IM2COL_PADDED_BODY(copy_avx2, zero_avx2)
}
static void im2col_padded_portable(const float *x, long cg, long h, long w, long kh, long kw, long ph, long pw,
                                   long dh, long dw, long oh, float *padded, float *dst) {
    IM2COL_PADDED_BODY(copy_portable, zero_portable)
}

void mlw_im2col_padded_f32(const float *x, long cg, long h, long w, long kh, long kw, long ph, long pw,
                           long dh, long dw, long oh, float *padded, float *dst) {
    if (mlw_simd_enabled()) im2col_padded_avx2(x, cg, h, w, kh, kw, ph, pw, dh, dw, oh, padded, dst);
    else im2col_padded_portable(x, cg, h, w, kh, kw, ph, pw, dh, dw, oh, padded, dst);
}

MLW_AVX2 static void compact_avx2(const float *src, long rows, long ld, long cols, float *dst) {
    for (long r = 0; r < rows; r++) copy_avx2(dst + r * cols, src + r * ld, cols);
}
void mlw_compact_rows_f32(const float *src, long rows, long ld, long cols, float *dst) {
    if (mlw_simd_enabled()) { compact_avx2(src, rows, ld, cols, dst); return; }
    for (long r = 0; r < rows; r++) memcpy(dst + r * cols, src + r * ld, (size_t)cols * sizeof(float));
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

MLW_AVX2 MLW_INLINE __m256 nan_max8(__m256 acc, __m256 v) {
    __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, acc, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_blendv_ps(acc, v, take);
}

// 2x2 / stride 2 max pooling, eight outputs per step: even and odd columns split by
// shuffles, folded in the reference's order (row 0 even, odd, row 1 even, odd).
MLW_AVX2 static void max2x2_avx2(const float *x, long planes, long h, long w, long oh, long ow, float *out) {
    for (long p = 0; p < planes; p++) {
        const float *plane = x + p * h * w;
        for (long yy = 0; yy < oh; yy++) {
            const float *r0 = plane + 2 * yy * w, *r1 = r0 + w;
            float *o = out + (p * oh + yy) * ow;
            for (long ox = 0; ox < ow; ox += 8) {
                long n = ow - ox < 8 ? ow - ox : 8;
                __m256 a0, a1, b0, b1;
                if (n == 8) {
                    a0 = _mm256_loadu_ps(r0 + 2 * ox); a1 = _mm256_loadu_ps(r0 + 2 * ox + 8);
                    b0 = _mm256_loadu_ps(r1 + 2 * ox); b1 = _mm256_loadu_ps(r1 + 2 * ox + 8);
                } else {
                    // Tail: masked loads never touch bytes past the row's last window.
                    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * n)), lane);
                    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * n - 8)), lane);
                    a0 = _mm256_maskload_ps(r0 + 2 * ox, m0); a1 = _mm256_maskload_ps(r0 + 2 * ox + 8, m1);
                    b0 = _mm256_maskload_ps(r1 + 2 * ox, m0); b1 = _mm256_maskload_ps(r1 + 2 * ox + 8, m1);
                }
                __m256 m = _mm256_shuffle_ps(a0, a1, 0x88);                 // lane-interleaved order,
                m = nan_max8(m, _mm256_shuffle_ps(a0, a1, 0xDD));           // fixed by the permute below
                m = nan_max8(m, _mm256_shuffle_ps(b0, b1, 0x88));
                m = nan_max8(m, _mm256_shuffle_ps(b0, b1, 0xDD));
                m = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8));
                if (n == 8) { _mm256_storeu_ps(o + ox, m); continue; }
                float tmp[8];
                _mm256_storeu_ps(tmp, m);
                for (long k = 0; k < n; k++) o[ox + k] = tmp[k];
            }
        }
    }
}

MLW_AVX2 static void pool_avx2(const float *x, long planes, long h, long w, long kh, long kw, long sh, long sw,
                               long ph, long pw, long oh, long ow, int is_max, float *out) {
    if (is_max && kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) {
        max2x2_avx2(x, planes, h, w, oh, ow, out);
        return;
    }
    pool_body(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
}
static void pool_portable(const float *x, long planes, long h, long w, long kh, long kw, long sh, long sw,
                          long ph, long pw, long oh, long ow, int is_max, float *out) {
    pool_body(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out);
}

typedef struct { const float *x; long h, w, kh, kw, sh, sw, ph, pw, oh, ow; int is_max; float *out; long planes, per_task; } pool_ctx;

static void pool_planes(const pool_ctx *c, long p0, long n) {
    const float *x = c->x + p0 * c->h * c->w;
    float *out = c->out + p0 * c->oh * c->ow;
    if (mlw_simd_enabled()) pool_avx2(x, n, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->oh, c->ow, c->is_max, out);
    else pool_portable(x, n, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->oh, c->ow, c->is_max, out);
}

static void pool_task(void *ctx, int t) {
    const pool_ctx *c = ctx;
    long p0 = (long)t * c->per_task;
    pool_planes(c, p0, mlw_min_l(c->per_task, c->planes - p0));
}

void mlw_pool2d_f32(const float *x, long planes, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long oh, long ow, int is_max, float *out) {
    pool_ctx c = {x, h, w, kh, kw, sh, sw, ph, pw, oh, ow, is_max, out, planes, planes};
    // Planes are independent: big batches split them over the thread pool (fixed chunks,
    // each output computed the same way, so the bits do not depend on the thread count).
    long outputs = planes * oh * ow;
    if (outputs < (1 << 15) || planes < 2) { pool_planes(&c, 0, planes); return; }
    long tasks = mlw_min_l(planes, 16);
    c.per_task = (planes + tasks - 1) / tasks;
    mlw_parallel_for((int)((planes + c.per_task - 1) / c.per_task), 0, pool_task, &c);
}
