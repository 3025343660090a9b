// Kernels of the training loop (see include/train_kernels.h). Loop bodies are written
// once as always-inline C and instantiated for AVX2 and for the portable target, like
// elementwise.c. FP contraction is off in this file so a*b+c stays two rounded operations
// and both instantiations (and the Swift loops they replaced) give the same bits.
#pragma clang fp contract(off)
#include "ckernels.h"
#include "train_kernels.h"
#include "internal.h"
#include <float.h>
#include <math.h>

#define CHUNK 65536
// The hot loops also get an AVX-512 instance (level 2): the same IEEE operations on wider
// vectors, so the same bits as the AVX2 and portable ones.
#define MLW_AVX512_LOOP __attribute__((target("avx512f,avx2,fma"), min_vector_width(512)))

// ---- Adam ----

#define ADAM_CHUNK 32768   // elements per task; a 784x256 weight is 7 tasks

typedef struct { float *p; const float *g; float *m, *v; long n; float lr, b1, b2, c1, c2, eps, wd; int dec; } adam_ctx;

MLW_INLINE void adam_body(const adam_ctx *a, long i0, long i1) {
    float *restrict p = a->p, *restrict m = a->m, *restrict v = a->v;
    const float *restrict g = a->g;
    const float lr = a->lr, b1 = a->b1, b2 = a->b2, c1 = a->c1, c2 = a->c2, eps = a->eps, wd = a->wd;
    const float ob1 = 1 - b1, ob2 = 1 - b2, lrwd = lr * wd;
    if (a->dec) {
        for (long i = i0; i < i1; i++) {
            float gi = g[i], pi = p[i] - lrwd * p[i];
            float mi = b1 * m[i] + ob1 * gi, vi = b2 * v[i] + ob2 * gi * gi;
            m[i] = mi; v[i] = vi;
            p[i] = pi - lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        }
    } else {
        for (long i = i0; i < i1; i++) {
            float pi = p[i], gi = g[i] + wd * pi;
            float mi = b1 * m[i] + ob1 * gi, vi = b2 * v[i] + ob2 * gi * gi;
            m[i] = mi; v[i] = vi;
            p[i] = pi - lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        }
    }
}
MLW_AVX512_LOOP static void adam_avx512(const adam_ctx *a, long i0, long i1) { adam_body(a, i0, i1); }
MLW_AVX2 static void adam_avx2(const adam_ctx *a, long i0, long i1) { adam_body(a, i0, i1); }
static void adam_portable(const adam_ctx *a, long i0, long i1) { adam_body(a, i0, i1); }

static void adam_task(void *ctx, int t) {
    const adam_ctx *a = ctx;
    long i0 = (long)t * ADAM_CHUNK, i1 = mlw_min_l(a->n, i0 + ADAM_CHUNK);
    int level = mlw_simd_level();
    if (level == 2) adam_avx512(a, i0, i1); else if (level == 1) adam_avx2(a, i0, i1); else adam_portable(a, i0, i1);
}

void mlw_adam_f32(float *p, const float *g, float *m, float *v, long n, float lr, float beta1, float beta2,
                  float c1, float c2, float eps, float wd, int decoupled) {
    if (n <= 0) return;
    adam_ctx a = {p, g, m, v, n, lr, beta1, beta2, c1, c2, eps, wd, decoupled};
    int chunks = (int)((n + ADAM_CHUNK - 1) / ADAM_CHUNK);
    // Every element is independent: chunks only decide which thread writes it.
    mlw_parallel_for(chunks, n < 2 * ADAM_CHUNK ? 1 : 0, adam_task, &a);
}

// ---- dense / ReLU backward ----

MLW_INLINE void dense_act_backward_body(const float *g, const float *y, float *out, float *bias_grad, long rows, long cols) {
    if (bias_grad) for (long j = 0; j < cols; j++) bias_grad[j] = 0.0f;
    for (long r = 0; r < rows; r++) {
        const float *gr = g + r * cols, *yr = y ? y + r * cols : NULL;
        float *orow = out + r * cols;   // may alias g (same element read, then written)
        if (yr) for (long j = 0; j < cols; j++) orow[j] = yr[j] > 0.0f ? gr[j] : 0.0f;
        else if (orow != gr) for (long j = 0; j < cols; j++) orow[j] = gr[j];
        if (bias_grad) {
            float *restrict b = bias_grad;
            for (long j = 0; j < cols; j++) b[j] += orow[j];
        }
    }
}
MLW_AVX2 static void dense_act_backward_avx2(const float *g, const float *y, float *out, float *b, long rows, long cols) {
    dense_act_backward_body(g, y, out, b, rows, cols);
}
static void dense_act_backward_portable(const float *g, const float *y, float *out, float *b, long rows, long cols) {
    dense_act_backward_body(g, y, out, b, rows, cols);
}

void mlw_dense_act_backward_f32(const float *g, const float *y, float *out, float *bias_grad, long rows, long cols) {
    if (rows <= 0 || cols <= 0) return;
    if (mlw_simd_enabled()) dense_act_backward_avx2(g, y, out, bias_grad, rows, cols);
    else dense_act_backward_portable(g, y, out, bias_grad, rows, cols);
}

// ---- cross-entropy from logits ----

double mlw_cross_entropy_f32(const float *z, const float *labels, float *probs, long rows, long cols) {
    double total = 0.0;
    for (long r = 0; r < rows; r++) {
        const float *zr = z + r * cols;
        float *pr = probs + r * cols;
        float mx = zr[0];
        for (long j = 1; j < cols; j++) mx = zr[j] > mx ? zr[j] : mx;
        float s = 0.0f;
        for (long j = 0; j < cols; j++) { pr[j] = expf(zr[j] - mx); s += pr[j]; }
        float inv = 1.0f / s;
        for (long j = 0; j < cols; j++) pr[j] *= inv;
        long y = (long)labels[r];
        total += (double)(logf(s) - (zr[y] - mx));
    }
    return rows > 0 ? total / (double)rows : 0.0;
}

void mlw_cross_entropy_backward_f32(const float *probs, const float *labels, float *grad, long rows, long cols, float scale) {
    for (long r = 0; r < rows; r++) {
        const float *pr = probs + r * cols;
        float *gr = grad + r * cols;
        long y = (long)labels[r];
        for (long j = 0; j < cols; j++) gr[j] = (pr[j] - (j == y ? 1.0f : 0.0f)) * scale;
    }
}

// ---- column statistics ----

#define STAT_COLS 64   // columns per task; each column is summed over all rows by one task

typedef struct { const float *x; long rows, cols; double *mean, *std, *min, *max; } stats_ctx;

#define STAT_ROWS 64   // rows summed in float before the sums move to double

// Sums shifted by the first row keep the variance accurate without a second pass; each
// block of STAT_ROWS rows is summed in float (vectorised), the blocks in double.
MLW_INLINE void stats_body(const stats_ctx *s, long j0, long j1) {
    double s1[STAT_COLS] = {0}, s2[STAT_COLS] = {0};
    float f1[STAT_COLS], f2[STAT_COLS], lo[STAT_COLS], hi[STAT_COLS], sh[STAT_COLS];
    long w = j1 - j0;
    for (long j = 0; j < w; j++) { sh[j] = lo[j] = hi[j] = s->x[j0 + j]; }
    for (long r0 = 0; r0 < s->rows; r0 += STAT_ROWS) {
        long r1 = mlw_min_l(s->rows, r0 + STAT_ROWS);
        for (long j = 0; j < w; j++) { f1[j] = 0.0f; f2[j] = 0.0f; }
        for (long r = r0; r < r1; r++) {
            const float *xr = s->x + r * s->cols + j0;
            for (long j = 0; j < w; j++) {
                float v = xr[j], d = v - sh[j];
                f1[j] += d; f2[j] += d * d;
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
        }
        for (long j = 0; j < w; j++) { s1[j] += f1[j]; s2[j] += f2[j]; }
    }
    double n = (double)s->rows;
    for (long j = 0; j < w; j++) {
        double m = s1[j] / n;
        s->mean[j0 + j] = (double)sh[j] + m;
        double var = (s2[j] - s1[j] * m) / n;
        s->std[j0 + j] = var > 0 ? sqrt(var) : 0.0;
        s->min[j0 + j] = lo[j]; s->max[j0 + j] = hi[j];
    }
}
MLW_AVX512_LOOP static void stats_avx512(const stats_ctx *s, long j0, long j1) { stats_body(s, j0, j1); }
MLW_AVX2 static void stats_avx2(const stats_ctx *s, long j0, long j1) { stats_body(s, j0, j1); }
static void stats_portable(const stats_ctx *s, long j0, long j1) { stats_body(s, j0, j1); }

static void stats_task(void *ctx, int t) {
    const stats_ctx *s = ctx;
    long j0 = (long)t * STAT_COLS, j1 = mlw_min_l(s->cols, j0 + STAT_COLS);
    int level = mlw_simd_level();
    if (level == 2) stats_avx512(s, j0, j1); else if (level == 1) stats_avx2(s, j0, j1); else stats_portable(s, j0, j1);
}

void mlw_column_stats_f32(const float *x, long rows, long cols, double *mean, double *std, double *min, double *max) {
    if (rows <= 0 || cols <= 0) return;
    stats_ctx s = {x, rows, cols, mean, std, min, max};
    int tasks = (int)((cols + STAT_COLS - 1) / STAT_COLS);
    mlw_parallel_for(tasks, rows * cols < CHUNK ? 1 : 0, stats_task, &s);
}

// ---- finiteness ----

MLW_INLINE int all_finite_body(const float *x, long n) {
    int bad = 0;
    for (long i = 0; i < n; i++) bad |= !(fabsf(x[i]) <= FLT_MAX);
    return !bad;
}
MLW_AVX2 static int all_finite_avx2(const float *x, long n) { return all_finite_body(x, n); }
static int all_finite_portable(const float *x, long n) { return all_finite_body(x, n); }

// Each task checks a run of chunks and raises the shared flag on a bad value; the others
// look at the flag between chunks and stop early. Threaded because train() checks every
// feature before it starts (tens of MB read once per call).
typedef struct { const float *x; long n, per_task; volatile int bad; } finite_ctx;

static void finite_task(void *ctx, int t) {
    finite_ctx *f = ctx;
    long end = mlw_min_l(f->n, ((long)t + 1) * f->per_task);
    for (long i = (long)t * f->per_task; i < end && !f->bad; i += CHUNK) {
        long len = mlw_min_l(CHUNK, end - i);
        if (!(mlw_simd_enabled() ? all_finite_avx2(f->x + i, len) : all_finite_portable(f->x + i, len))) f->bad = 1;
    }
}

int mlw_all_finite_f32(const float *x, long n) {
    if (n <= 0) return 1;
    long per_task = 16 * (long)CHUNK;
    finite_ctx f = {x, n, per_task, 0};
    mlw_parallel_for((int)((n + per_task - 1) / per_task), n <= per_task ? 1 : 0, finite_task, &f);
    return !f.bad;
}
