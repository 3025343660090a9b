// Layer normalisation over the last axis (eval forward): per row, mean and biased
// variance summed in 8 double lanes (fixed order, so any SIMD level or thread count gives
// the same bits), then y = (x - mean) * rstd * gamma + beta in float32, each operation
// rounded on its own (no FMA: this file is built for the baseline target).
#include "ckernels.h"
#include "internal.h"
#include <math.h>

typedef struct { const float *x, *gamma, *beta; long rows, cols; float eps; float *y; long rows_per_task; } ln_ctx;

static double sum8(const double l[8]) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

static void ln_row(const ln_ctx *g, long r) {
    const float *x = g->x + r * g->cols;
    float *y = g->y + r * g->cols;
    long n = g->cols, j;
    double l[8] = {0};
    for (j = 0; j + 8 <= n; j += 8) for (int q = 0; q < 8; q++) l[q] += x[j + q];
    double s = sum8(l);
    for (; j < n; j++) s += x[j];
    double mean = s / (double)n;
    double v[8] = {0};
    for (j = 0; j + 8 <= n; j += 8) for (int q = 0; q < 8; q++) { double d = x[j + q] - mean; v[q] += d * d; }
    double ss = sum8(v);
    for (; j < n; j++) { double d = x[j] - mean; ss += d * d; }
    float mu = (float)mean, rstd = (float)(1.0 / sqrt(ss / (double)n + (double)g->eps));
    for (j = 0; j < n; j++) {
        float t = (x[j] - mu) * rstd;
        t = t * g->gamma[j];
        y[j] = t + g->beta[j];
    }
}

static void ln_task(void *p, int t) {
    const ln_ctx *g = p;
    long r0 = (long)t * g->rows_per_task, r1 = mlw_min_l(g->rows, r0 + g->rows_per_task);
    for (long r = r0; r < r1; r++) ln_row(g, r);
}

void mlw_layer_norm_rows_f32(const float *x, long rows, long cols, const float *gamma, const float *beta, float eps, float *y) {
    if (rows <= 0 || cols <= 0) return;
    long rpt = mlw_max_l(1, 16384 / cols);
    ln_ctx g = {x, gamma, beta, rows, cols, eps, y, rpt};
    mlw_parallel_for((int)((rows + rpt - 1) / rpt), rows * cols < 131072 ? 1 : 0, ln_task, &g);
}
