// Reductions and row softmax. The sum has one fixed association order for a
// given length: 32 float lanes inside each 4096-element block, blocks added in
// double inside 64K-element chunks, chunk sums added in order. Threads only pick
// which chunk they compute, so the result never depends on the thread count,
// and the SIMD and portable versions produce the same bits.
#include "ckernels.h"
#include "internal.h"
#include "vexp.h"
#include <math.h>
#include <stdlib.h>

#define BLOCK 4096
#define CHUNK 65536

MLW_INLINE float block_sum_body(const float *x, long n) {
    float acc[32] = {0};
    long i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 32; l++) acc[l] += x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l];
    for (int w = 16; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}
MLW_AVX2 static float block_sum_avx2(const float *x, long n) { return block_sum_body(x, n); }
static float block_sum_portable(const float *x, long n) { return block_sum_body(x, n); }

static double chunk_sum(const float *x, long n, int simd) {
    double s = 0.0;
    for (long i = 0; i < n; i += BLOCK) {
        long len = mlw_min_l(BLOCK, n - i);
        s += simd ? block_sum_avx2(x + i, len) : block_sum_portable(x + i, len);
    }
    return s;
}

static double serial_sum(const float *x, long n, int simd) {
    double s = 0.0;
    for (long i = 0; i < n; i += CHUNK) s += chunk_sum(x + i, mlw_min_l(CHUNK, n - i), simd);
    return s;
}

typedef struct { const float *x; long n, rows, cols; double *parts; float *out; int simd; } red_ctx;

static void sum_task(void *p, int t) {
    red_ctx *g = p;
    long i0 = (long)t * CHUNK;
    g->parts[t] = chunk_sum(g->x + i0, mlw_min_l(CHUNK, g->n - i0), g->simd);
}

double mlw_sum_f32(const float *x, long n) {
    if (n <= 0) return 0.0;
    int simd = mlw_simd_enabled();
    int chunks = (int)((n + CHUNK - 1) / CHUNK);
    if (chunks < 4) return serial_sum(x, n, simd);
    double *parts = malloc(sizeof(double) * (size_t)chunks);
    if (!parts) return serial_sum(x, n, simd);
    red_ctx g = {x, n, 0, 0, parts, NULL, simd};
    mlw_parallel_for(chunks, 0, sum_task, &g);
    double s = 0.0;
    for (int c = 0; c < chunks; c++) s += parts[c];
    free(parts);
    return s;
}

// ---- row kernels: a fixed number of rows per task ----

static long rows_per_task(long cols) { return mlw_max_l(1, CHUNK / mlw_max_l(1, cols)); }

static void run_rows(red_ctx *g, void (*task)(void *, int)) {
    long rpt = rows_per_task(g->cols);
    long tasks = (g->rows + rpt - 1) / rpt;
    mlw_parallel_for((int)tasks, g->rows * g->cols < 131072 ? 1 : 0, task, g);
}

#define ROW_RANGE(g, t) long rpt = rows_per_task((g)->cols), r0 = (long)(t) * rpt, r1 = mlw_min_l((g)->rows, r0 + rpt)

static void sum_rows_task(void *p, int t) {
    red_ctx *g = p; ROW_RANGE(g, t);
    for (long r = r0; r < r1; r++) g->out[r] = (float)serial_sum(g->x + r * g->cols, g->cols, g->simd);
}

void mlw_sum_rows_f32(const float *x, long rows, long cols, float *out) {
    if (rows <= 0) return;
    red_ctx g = {x, 0, rows, cols, NULL, out, mlw_simd_enabled()};
    run_rows(&g, sum_rows_task);
}

MLW_INLINE float row_max_body(const float *x, long n) {
    float m = x[0];
    int nan = 0;
    for (long i = 0; i < n; i++) { m = x[i] > m ? x[i] : m; nan |= x[i] != x[i]; }
    return nan ? NAN : m;
}
MLW_INLINE float row_min_body(const float *x, long n) {
    float m = x[0];
    int nan = 0;
    for (long i = 0; i < n; i++) { m = x[i] < m ? x[i] : m; nan |= x[i] != x[i]; }
    return nan ? NAN : m;
}
MLW_AVX2 static float row_max_avx2(const float *x, long n) { return row_max_body(x, n); }
MLW_AVX2 static float row_min_avx2(const float *x, long n) { return row_min_body(x, n); }
static float row_max_portable(const float *x, long n) { return row_max_body(x, n); }
static float row_min_portable(const float *x, long n) { return row_min_body(x, n); }

static float row_max(const float *x, long n, int simd) { return simd ? row_max_avx2(x, n) : row_max_portable(x, n); }

static void max_rows_task(void *p, int t) {
    red_ctx *g = p; ROW_RANGE(g, t);
    for (long r = r0; r < r1; r++) g->out[r] = row_max(g->x + r * g->cols, g->cols, g->simd);
}
static void min_rows_task(void *p, int t) {
    red_ctx *g = p; ROW_RANGE(g, t);
    for (long r = r0; r < r1; r++)
        g->out[r] = g->simd ? row_min_avx2(g->x + r * g->cols, g->cols) : row_min_portable(g->x + r * g->cols, g->cols);
}

void mlw_max_rows_f32(const float *x, long rows, long cols, float *out) {
    if (rows <= 0 || cols <= 0) return;
    red_ctx g = {x, 0, rows, cols, NULL, out, mlw_simd_enabled()};
    run_rows(&g, max_rows_task);
}
void mlw_min_rows_f32(const float *x, long rows, long cols, float *out) {
    if (rows <= 0 || cols <= 0) return;
    red_ctx g = {x, 0, rows, cols, NULL, out, mlw_simd_enabled()};
    run_rows(&g, min_rows_task);
}

// ---- softmax ----
// out = exp(x - max) / sum; the sum uses 8 float lanes, then one horizontal add.

MLW_AVX2 static float exp_shift_sum_avx2(const float *x, float *out, long n, float m) {
    __m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = mlw_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        if (out) _mm256_storeu_ps(out + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    float s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (; i < n; i++) { float e = expf(x[i] - m); if (out) out[i] = e; s += e; }
    return s;
}
static float exp_shift_sum_portable(const float *x, float *out, long n, float m) {
    float s = 0.0f;
    for (long i = 0; i < n; i++) { float e = expf(x[i] - m); if (out) out[i] = e; s += e; }
    return s;
}

MLW_INLINE void scale_body(float *x, long n, float k) { for (long i = 0; i < n; i++) x[i] *= k; }
MLW_INLINE void shift_body(const float *x, float *out, long n, float k) { for (long i = 0; i < n; i++) out[i] = x[i] - k; }
MLW_AVX2 static void scale_avx2(float *x, long n, float k) { scale_body(x, n, k); }
MLW_AVX2 static void shift_avx2(const float *x, float *out, long n, float k) { shift_body(x, out, n, k); }

static void softmax_task(void *p, int t) {
    red_ctx *g = p; ROW_RANGE(g, t);
    for (long r = r0; r < r1; r++) {
        const float *x = g->x + r * g->cols;
        float *o = g->out + r * g->cols;
        float m = row_max(x, g->cols, g->simd);
        if (isinf(m) && m < 0) m = 0.0f;   // an all -inf row gives NaN like numpy, not a crash
        if (g->simd) { float s = exp_shift_sum_avx2(x, o, g->cols, m); scale_avx2(o, g->cols, 1.0f / s); }
        else { float s = exp_shift_sum_portable(x, o, g->cols, m); scale_body(o, g->cols, 1.0f / s); }
    }
}

static void log_softmax_task(void *p, int t) {
    red_ctx *g = p; ROW_RANGE(g, t);
    for (long r = r0; r < r1; r++) {
        const float *x = g->x + r * g->cols;
        float *o = g->out + r * g->cols;
        float m = row_max(x, g->cols, g->simd);
        if (isinf(m)) m = 0.0f;
        float s = g->simd ? exp_shift_sum_avx2(x, NULL, g->cols, m) : exp_shift_sum_portable(x, NULL, g->cols, m);
        float lse = m + logf(s);
        if (g->simd) shift_avx2(x, o, g->cols, lse); else shift_body(x, o, g->cols, lse);
    }
}

void mlw_softmax_rows_f32(const float *x, long rows, long cols, float *out) {
    if (rows <= 0 || cols <= 0) return;
    red_ctx g = {x, 0, rows, cols, NULL, out, mlw_simd_enabled()};
    run_rows(&g, softmax_task);
}
void mlw_log_softmax_rows_f32(const float *x, long rows, long cols, float *out) {
    if (rows <= 0 || cols <= 0) return;
    red_ctx g = {x, 0, rows, cols, NULL, out, mlw_simd_enabled()};
    run_rows(&g, log_softmax_task);
}
