// Dense float64 linear algebra for the classical models: small (d x d) systems and
// row-major products over n rows. Accuracy matters more than peak speed here (the
// results are checked against LAPACK through scikit-learn); rows are split over threads.
#include "classical.h"
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const double *x; long n, d; const double *w; double *partial; int tasks; } gram_ctx;

static void gram_task(void *p, int t) {
    gram_ctx *c = p;
    long lo = c->n * t / c->tasks, hi = c->n * (t + 1) / c->tasks, d = c->d;
    double *g = c->partial + (long)t * d * d;
    memset(g, 0, sizeof(double) * d * d);
    for (long i = lo; i < hi; i++) {
        const double *r = c->x + i * d;
        double wi = c->w ? c->w[i] : 1.0;
        for (long a = 0; a < d; a++) {
            double v = r[a] * wi;
            if (v == 0) continue;
            double *ga = g + a * d;
            for (long b = a; b < d; b++) ga[b] += v * r[b];
        }
    }
}

void mlw_gram_f64(const double *x, long n, long d, const double *w, double *out) {
    int tasks = n >= 4096 ? mlw_get_threads() : 1;
    if (tasks < 1) tasks = 1;
    double *partial = malloc(sizeof(double) * d * d * tasks);
    gram_ctx c = {x, n, d, w, partial, tasks};
    if (tasks == 1) gram_task(&c, 0); else mlw_parallel_for(tasks, tasks, gram_task, &c);
    memset(out, 0, sizeof(double) * d * d);
    for (int t = 0; t < tasks; t++)   // fixed order: the result does not depend on timing
        for (long k = 0; k < d * d; k++) out[k] += partial[(long)t * d * d + k];
    for (long a = 0; a < d; a++)
        for (long b = 0; b < a; b++) out[a * d + b] = out[b * d + a];
    free(partial);
}

void mlw_matmul_f64(const double *x, long n, long d, const double *wt, long c, const double *b, double *out) {
    for (long i = 0; i < n; i++) {
        double *o = out + i * c;
        for (long j = 0; j < c; j++) o[j] = b ? b[j] : 0.0;
        const double *r = x + i * d;
        for (long k = 0; k < d; k++) {
            double v = r[k];
            if (v == 0) continue;
            const double *wr = wt + k * c;
            for (long j = 0; j < c; j++) o[j] += v * wr[j];
        }
    }
}

void mlw_matmul_tn_f64(const double *x, long n, long d, const double *r, long c, double *out) {
    memset(out, 0, sizeof(double) * d * c);
    for (long i = 0; i < n; i++) {
        const double *xr = x + i * d, *rr = r + i * c;
        for (long k = 0; k < d; k++) {
            double v = xr[k];
            if (v == 0) continue;
            double *o = out + k * c;
            for (long j = 0; j < c; j++) o[j] += v * rr[j];
        }
    }
}

long mlw_cholesky_f64(double *a, long n, double rel_tol) {
    double maxd = 0;
    for (long i = 0; i < n; i++) if (a[i * n + i] > maxd) maxd = a[i * n + i];
    for (long j = 0; j < n; j++) {
        double s = a[j * n + j];
        for (long k = 0; k < j; k++) s -= a[j * n + k] * a[j * n + k];
        if (!(s > rel_tol * maxd) || s <= 0) return j + 1;
        double l = sqrt(s);
        a[j * n + j] = l;
        for (long i = j + 1; i < n; i++) {
            double t = a[i * n + j];
            for (long k = 0; k < j; k++) t -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = t / l;
        }
    }
    return 0;
}

void mlw_cholesky_solve_f64(const double *l, long n, double *b) {
    for (long i = 0; i < n; i++) {
        double s = b[i];
        for (long k = 0; k < i; k++) s -= l[i * n + k] * b[k];
        b[i] = s / l[i * n + i];
    }
    for (long i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (long k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
        b[i] = s / l[i * n + i];
    }
}

long mlw_lstsq_qr_f64(double *a, long m, long n, double *b, double rcond, double *x) {
    long *perm = malloc(sizeof(long) * n);
    double *norms = malloc(sizeof(double) * n);
    for (long j = 0; j < n; j++) {
        perm[j] = j;
        double s = 0;
        for (long i = 0; i < m; i++) s += a[i * n + j] * a[i * n + j];
        norms[j] = s;
    }
    long rank = 0;
    double first = 0;
    long steps = m < n ? m : n;
    for (long k = 0; k < steps; k++) {
        // Pivot: the remaining column with the largest norm (recomputed: exact, n is small).
        long best = k; double bn = -1;
        for (long j = k; j < n; j++) {
            double s = 0;
            for (long i = k; i < m; i++) s += a[i * n + j] * a[i * n + j];
            norms[j] = s;
            if (s > bn) { bn = s; best = j; }
        }
        if (best != k) {
            for (long i = 0; i < m; i++) { double t = a[i * n + k]; a[i * n + k] = a[i * n + best]; a[i * n + best] = t; }
            long t = perm[k]; perm[k] = perm[best]; perm[best] = t;
        }
        double alpha = sqrt(bn);
        if (k == 0) first = alpha;
        if (alpha <= rcond * first || alpha == 0) break;
        rank++;
        // Householder vector v = a[k:, k] + sign * alpha e1.
        double akk = a[k * n + k];
        double s = akk >= 0 ? alpha : -alpha;
        a[k * n + k] = akk + s;
        double vnorm2 = 0;
        for (long i = k; i < m; i++) vnorm2 += a[i * n + k] * a[i * n + k];
        for (long j = k + 1; j < n; j++) {
            double dot = 0;
            for (long i = k; i < m; i++) dot += a[i * n + k] * a[i * n + j];
            double f = 2 * dot / vnorm2;
            for (long i = k; i < m; i++) a[i * n + j] -= f * a[i * n + k];
        }
        double dot = 0;
        for (long i = k; i < m; i++) dot += a[i * n + k] * b[i];
        double f = 2 * dot / vnorm2;
        for (long i = k; i < m; i++) b[i] -= f * a[i * n + k];
        a[k * n + k] = -s;   // R's diagonal
    }
    // Back substitution on the leading rank x rank block; dropped columns get 0.
    double *z = calloc(n, sizeof(double));
    for (long i = rank - 1; i >= 0; i--) {
        double t = b[i];
        for (long j = i + 1; j < rank; j++) t -= a[i * n + j] * z[j];
        z[i] = t / a[i * n + i];
    }
    for (long j = 0; j < n; j++) x[perm[j]] = z[j];
    free(z); free(perm); free(norms);
    return rank;
}

int mlw_jacobi_eigen_f64(double *a, long n, double *evals, double *evecs, int max_sweeps) {
    for (long i = 0; i < n * n; i++) evecs[i] = 0;
    for (long i = 0; i < n; i++) evecs[i * n + i] = 1;
    int sweep = 0;
    for (; sweep < max_sweeps; sweep++) {
        double off = 0, total = 0;
        for (long i = 0; i < n; i++)
            for (long j = 0; j < n; j++) { double v = a[i * n + j] * a[i * n + j]; total += v; if (i != j) off += v; }
        if (off <= 1e-30 * total || off == 0) break;
        for (long p = 0; p < n - 1; p++) {
            for (long q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double app = a[p * n + p], aqq = a[q * n + q];
                double theta = (aqq - app) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (long k = 0; k < n; k++) {   // columns p, q
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (long k = 0; k < n; k++) {   // rows p, q
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (long k = 0; k < n; k++) {
                    double vkp = evecs[k * n + p], vkq = evecs[k * n + q];
                    evecs[k * n + p] = c * vkp - s * vkq;
                    evecs[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    // Sort descending (selection sort: n is small), moving eigenvector columns along.
    for (long i = 0; i < n; i++) evals[i] = a[i * n + i];
    for (long i = 0; i < n; i++) {
        long best = i;
        for (long j = i + 1; j < n; j++) if (evals[j] > evals[best]) best = j;
        if (best != i) {
            double t = evals[i]; evals[i] = evals[best]; evals[best] = t;
            for (long k = 0; k < n; k++) { double u = evecs[k * n + i]; evecs[k * n + i] = evecs[k * n + best]; evecs[k * n + best] = u; }
        }
    }
    return sweep;
}
