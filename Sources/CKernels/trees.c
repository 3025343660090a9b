// Tree-family kernels (see include/trees.h). Reductions run in a fixed order: one
// feature's histogram sums its rows in ascending position on one thread, and features are
// split into fixed tasks, so the bits do not depend on the thread count.
#include "ckernels.h"
#include "trees.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int mlw_tree_bin_edges(const float *x, int64_t n, int64_t stride, int max_bins, float *upper, float *scratch) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i * stride];
        if (!isnan(v)) scratch[m++] = v;
    }
    if (max_bins < 2 || m == 0) { upper[0] = INFINITY; return 1; }
    qsort(scratch, (size_t)m, sizeof(float), cmp_float);
    // Distinct values in place, with their counts kept in a second pass.
    int64_t distinct = 0;
    for (int64_t i = 0; i < m; i++) if (i == 0 || scratch[i] != scratch[i - 1]) distinct++;
    int nb = 0;
    if (distinct <= max_bins) {
        for (int64_t i = 0; i < m; i++) {
            if (i + 1 < m && scratch[i + 1] == scratch[i]) continue;
            upper[nb++] = scratch[i];
        }
    } else {
        // Greedy equal-count cuts over the sorted values, only between distinct values.
        double per = (double)m / max_bins;
        for (int64_t i = 0; i < m && nb < max_bins - 1; i++) {
            if (i + 1 < m && scratch[i + 1] == scratch[i]) continue;
            if ((double)(i + 1) >= per * (nb + 1)) upper[nb++] = scratch[i];
        }
        if (nb == 0 || upper[nb - 1] != scratch[m - 1]) upper[nb++] = scratch[m - 1];
    }
    upper[nb - 1] = INFINITY;
    return nb;
}

void mlw_tree_bin_column(const float *x, int64_t n, int64_t stride, const float *upper, int nbins, uint8_t *out) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i * stride];
        if (isnan(v)) { out[i] = (uint8_t)nbins; continue; }
        int lo = 0, hi = nbins - 1;   // first b with v <= upper[b]; upper[nbins-1] = +inf
        while (lo < hi) {
            int mid = (lo + hi) >> 1;
            if (v <= upper[mid]) hi = mid; else lo = mid + 1;
        }
        out[i] = (uint8_t)lo;
    }
}

typedef struct {
    const uint8_t *bins; int64_t nrows; const int32_t *offsets, *nbins; const uint8_t *used;
    const int32_t *rows; int64_t count; const double *gh; mlw_hbin *hist;
} hist_job;

static void hist_task(void *ctx, int f) {
    hist_job *j = ctx;
    if (!j->used[f]) return;
    mlw_hbin *hb = j->hist + j->offsets[f];
    memset(hb, 0, sizeof(mlw_hbin) * (size_t)(j->nbins[f] + 1));
    const uint8_t *col = j->bins + (int64_t)f * j->nrows;
    const double *gh = j->gh;
    if (j->rows) {
        const int32_t *r = j->rows;
        for (int64_t i = 0; i < j->count; i++) {
            mlw_hbin *b = hb + col[r[i]];
            b->g += gh[2 * i]; b->h += gh[2 * i + 1]; b->c += 1;
        }
    } else {
        for (int64_t i = 0; i < j->count; i++) {
            mlw_hbin *b = hb + col[i];
            b->g += gh[2 * i]; b->h += gh[2 * i + 1]; b->c += 1;
        }
    }
}

void mlw_tree_hist(const uint8_t *bins, int64_t nrows, int nfeat, const int32_t *offsets, const int32_t *nbins,
                   const uint8_t *used, const int32_t *rows, int64_t count, const double *g, const double *h,
                   mlw_hbin *hist) {
    // Gradients in row order of the leaf (LightGBM's "ordered gradients"): one gather,
    // then every feature streams them.
    double *gh = malloc(sizeof(double) * 2 * (size_t)(count > 0 ? count : 1));
    if (!gh) return;
    for (int64_t i = 0; i < count; i++) {
        int64_t r = rows ? rows[i] : i;
        gh[2 * i] = g[r]; gh[2 * i + 1] = h[r];
    }
    hist_job j = { bins, nrows, offsets, nbins, used, rows, count, gh, hist };
    mlw_parallel_for(nfeat, count * nfeat < 65536 ? 1 : 0, hist_task, &j);
    free(gh);
}

void mlw_tree_hist_sub(const mlw_hbin *parent, const mlw_hbin *child, mlw_hbin *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        out[i].g = parent[i].g - child[i].g;
        out[i].h = parent[i].h - child[i].h;
        out[i].c = parent[i].c - child[i].c;
    }
}

static inline double threshold_l1(double g, double l1) {
    double a = fabs(g) - l1;
    if (a <= 0) return 0;
    return g > 0 ? a : -a;
}

double mlw_tree_leaf_value(double g, double h, double l1, double l2) {
    double d = h + l2;
    if (d <= 0) return 0;
    return -threshold_l1(g, l1) / d;
}

static inline double leaf_gain(double g, double h, double l1, double l2) {
    double t = threshold_l1(g, l1), d = h + l2;
    return d > 0 ? t * t / d : 0;
}

typedef struct {
    const mlw_hbin *hist; const int32_t *offsets, *nbins; const uint8_t *used;
    double sg, sh, sc; const mlw_tree_params *p; mlw_split *out;
} split_job;

static void split_task(void *ctx, int f) {
    split_job *j = ctx;
    mlw_split best = { -INFINITY, -1, 0, 0, 0, 0 };
    if (j->used[f]) {
        const mlw_tree_params *p = j->p;
        const mlw_hbin *hb = j->hist + j->offsets[f];
        int nb = j->nbins[f];
        mlw_hbin miss = hb[nb];
        double parent = leaf_gain(j->sg, j->sh, p->l1, p->l2);
        // With no missing rows in this leaf there is one pass; the missing direction then
        // follows the larger child (where unseen missing values most likely belong).
        int passes = miss.c > 0 ? 2 : 1;
        for (int pass = 0; pass < passes; pass++) {
            int mleft = pass == 1;
            double lg = mleft ? miss.g : 0, lh = mleft ? miss.h : 0, lc = mleft ? miss.c : 0;
            for (int b = 0; b < nb - 1; b++) {
                lg += hb[b].g; lh += hb[b].h; lc += hb[b].c;
                double rg = j->sg - lg, rh = j->sh - lh, rc = j->sc - lc;
                if (lc < p->min_child_samples || rc < p->min_child_samples) continue;
                if (lh < p->min_child_weight || rh < p->min_child_weight) continue;
                double gain = leaf_gain(lg, lh, p->l1, p->l2) + leaf_gain(rg, rh, p->l1, p->l2) - parent;
                if (gain > best.gain) {
                    best.gain = gain; best.bin = b; best.lg = lg; best.lh = lh; best.lc = lc;
                    best.missing_left = passes == 2 ? mleft : (lc >= rc);
                }
            }
        }
    }
    j->out[f] = best;
}

void mlw_tree_find_splits(const mlw_hbin *hist, int nfeat, const int32_t *offsets, const int32_t *nbins,
                          const uint8_t *used, double sum_g, double sum_h, double sum_c,
                          const mlw_tree_params *p, mlw_split *out) {
    split_job j = { hist, offsets, nbins, used, sum_g, sum_h, sum_c, p, out };
    mlw_parallel_for(nfeat, nfeat < 8 ? 1 : 0, split_task, &j);
}

int64_t mlw_tree_partition(int32_t *rows, int64_t count, const uint8_t *col, int bin, int missing_bin,
                           int missing_left, int32_t *tmp) {
    int64_t nl = 0, nr = 0;
    for (int64_t i = 0; i < count; i++) {
        int32_t r = rows[i];
        int b = col[r];
        int left = b == missing_bin ? missing_left : b <= bin;
        if (left) rows[nl++] = r; else tmp[nr++] = r;
    }
    memcpy(rows + nl, tmp, sizeof(int32_t) * (size_t)nr);
    return nl;
}

int64_t mlw_tree_partition_mask(int32_t *rows, int64_t count, const uint8_t *col, const uint8_t *left_of_bin, int32_t *tmp) {
    int64_t nl = 0, nr = 0;
    for (int64_t i = 0; i < count; i++) {
        int32_t r = rows[i];
        if (left_of_bin[col[r]]) rows[nl++] = r; else tmp[nr++] = r;
    }
    memcpy(rows + nl, tmp, sizeof(int32_t) * (size_t)nr);
    return nl;
}

void mlw_tree_gradients(int objective, int64_t n, int k, const double *score, const float *y,
                        const double *w, double delta, double *g, double *h) {
    for (int64_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        switch (objective) {
        case 0: g[i] = (score[i] - y[i]) * wi; h[i] = wi; break;
        case 1: {
            double p = 1.0 / (1.0 + exp(-score[i]));
            g[i] = (p - y[i]) * wi; h[i] = fmax(p * (1 - p), 1e-16) * wi;
            break;
        }
        case 2: {
            const double *s = score + i * k;
            double m = s[0];
            for (int c = 1; c < k; c++) if (s[c] > m) m = s[c];
            double sum = 0;
            for (int c = 0; c < k; c++) sum += exp(s[c] - m);
            // LightGBM's multiclass hessian factor k / (k - 1).
            double factor = (double)k / (k - 1);
            for (int c = 0; c < k; c++) {
                double p = exp(s[c] - m) / sum;
                double t = (int)y[i] == c ? 1.0 : 0.0;
                g[(int64_t)c * n + i] = (p - t) * wi;
                h[(int64_t)c * n + i] = fmax(factor * p * (1 - p), 1e-16) * wi;
            }
            break;
        }
        case 3: {
            double d = score[i] - y[i];
            g[i] = (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0) * wi; h[i] = wi;
            break;
        }
        default: {
            double d = score[i] - y[i];
            g[i] = (fabs(d) <= delta ? d : (d > 0 ? delta : -delta)) * wi; h[i] = wi;
            break;
        }
        }
    }
}

void mlw_tree_add_binned(const uint8_t *bins, int64_t nrows, int nfeat, const int32_t *nbins,
                         const int32_t *feature, const int32_t *bin, const uint8_t *missing_left,
                         const int32_t *left, const int32_t *right, const double *value,
                         const uint8_t *cat_masks, double *score, int k, int col) {
    (void)nfeat;
    for (int64_t i = 0; i < nrows; i++) {
        int node = 0;
        while (feature[node] >= 0) {
            int f = feature[node];
            int b = bins[(int64_t)f * nrows + i];
            int go_left = bin[node] < 0 ? cat_masks[(int64_t)node * 256 + b]
                        : b == nbins[f] ? missing_left[node] : b <= bin[node];
            node = go_left ? left[node] : right[node];
        }
        score[i * k + col] += value[node];
    }
}

int64_t mlw_tree_check(const float *nodes, int64_t m, const float *trees, int64_t t, int64_t nfeat, int k) {
    for (int64_t i = 0; i < m; i++) {
        const float *nd = nodes + i * 8;
        float f = nd[0];
        if (f == -2) {
            // A row of category words (see mlw_tree_predict): 24-bit integers.
            for (int w = 1; w < 8; w++) if (!(nd[w] == floorf(nd[w])) || nd[w] < 0 || nd[w] >= 16777216.0f) return 1 + i;
            continue;
        }
        if (!(f == floorf(f)) || f < -1 || f >= (float)nfeat) return 1 + i;
        if (!isfinite(nd[4])) return 1 + i;
        if (f >= 0) {
            float l = nd[2], r = nd[3];
            if (isnan(nd[1]) || isnan(nd[5])) return 1 + i;
            if (!(l == floorf(l) && r == floorf(r))) return 1 + i;
            if (l <= (float)i || r <= (float)i || l >= (float)m || r >= (float)m) return 1 + i;
            // Children are nodes, never word rows.
            if (nodes[(int64_t)l * 8] == -2 || nodes[(int64_t)r * 8] == -2) return 1 + i;
            if (nd[5] < 0) {
                // Categorical: nd[1] is the first of -nd[5] word rows, all after this node.
                float w = nd[1], count = -nd[5];
                if (!(w == floorf(w) && count == floorf(count)) || w <= (float)i || w + count > (float)m || count > 64) return 1 + i;
                for (int64_t q = (int64_t)w; q < (int64_t)(w + count); q++) if (nodes[q * 8] != -2) return 1 + i;
            }
        }
    }
    for (int64_t i = 0; i < t; i++) {
        float root = trees[2 * i], col = trees[2 * i + 1];
        if (!(root == floorf(root)) || root < 0 || root >= (float)m || nodes[(int64_t)root * 8] == -2) return -(1 + i);
        if (!(col == floorf(col)) || col < 0 || col >= (float)k) return -(1 + i);
    }
    return 0;
}

typedef struct {
    const float *x; int64_t n, nfeat; const float *nodes, *trees; int64_t t; int k; double *out; int64_t per;
} predict_job;

// A categorical node: code v goes left when it is a whole number below the set's size and
// its bit is set. The bits are 24 to a float (exact in float32), 7 floats to a word row
// (the row's first float is the -2 marker). NaN, negative and unseen codes go right.
static inline int mlw_tree_cat_left(const float *nodes, const float *nd, float v) {
    int64_t rows = (int64_t)(-nd[5]);
    if (!(v >= 0) || v >= (float)(rows * 7 * 24) || v != floorf(v)) return 0;
    int64_t c = (int64_t)v, q = c / 24;
    const float *w = nodes + ((int64_t)nd[1] + q / 7) * 8 + 1 + q % 7;
    return ((int64_t)*w >> (c % 24)) & 1;
}

static void predict_rows(const predict_job *j, int64_t lo, int64_t hi) {
    int k = j->k;
    for (int64_t i = lo; i < hi; i++) {
        double *o = j->out + i * k;
        for (int c = 0; c < k; c++) o[c] = 0;
        const float *xr = j->x + i * j->nfeat;
        for (int64_t tr = 0; tr < j->t; tr++) {
            const float *nd = j->nodes + (int64_t)j->trees[2 * tr] * 8;
            while (nd[0] >= 0) {
                float v = xr[(int64_t)nd[0]];
                int go_left;
                if (nd[5] >= 0) go_left = isnan(v) ? nd[5] != 0 : v <= nd[1];
                else go_left = mlw_tree_cat_left(j->nodes, nd, v);
                nd = j->nodes + (int64_t)(go_left ? nd[2] : nd[3]) * 8;
            }
            o[(int)j->trees[2 * tr + 1]] += nd[4];
        }
    }
}

static void predict_task(void *ctx, int task) {
    predict_job *j = ctx;
    int64_t lo = task * j->per, hi = lo + j->per < j->n ? lo + j->per : j->n;
    predict_rows(j, lo, hi);
}

void mlw_tree_predict(const float *x, int64_t n, int64_t nfeat, const float *nodes, const float *trees,
                      int64_t t, int k, double *out) {
    predict_job j = { x, n, nfeat, nodes, trees, t, k, out, 256 };
    if (n <= 256) { predict_rows(&j, 0, n); return; }
    mlw_parallel_for((int)((n + j.per - 1) / j.per), 0, predict_task, &j);
}
