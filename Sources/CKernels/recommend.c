// Recommender kernels; see include/recommend.h. Every parallel loop splits rows into fixed
// chunks that each write their own rows, so results do not depend on the thread count.
#include "recommend.h"
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROW_CHUNK 64
#define ITEM_BLOCK 2048

// ---- top-k ----

typedef struct { float s; int32_t i; } entry;

// a is "worse" than b: lower score, or equal score and higher index.
static inline int worse(entry a, entry b) { return a.s < b.s || (a.s == b.s && a.i > b.i); }

static void sift_down(entry *h, int n, int p) {
    for (;;) {
        int l = 2 * p + 1, r = l + 1, w = p;
        if (l < n && worse(h[l], h[w])) w = l;
        if (r < n && worse(h[r], h[w])) w = r;
        if (w == p) return;
        entry t = h[p]; h[p] = h[w]; h[w] = t; p = w;
    }
}

static void sift_up(entry *h, int c) {
    while (c > 0) {
        int p = (c - 1) / 2;
        if (!worse(h[c], h[p])) return;
        entry t = h[p]; h[p] = h[c]; h[c] = t; c = p;
    }
}

static int by_rank(const void *a, const void *b) {
    entry x = *(const entry *)a, y = *(const entry *)b;
    if (worse(x, y)) return 1;
    if (worse(y, x)) return -1;
    return 0;
}

// Offers e to a best-k heap of *h entries (the worst on top); NaN scores never enter.
static inline void heap_offer(entry *heap, int *h, int k, entry e) {
    if (isnan(e.s)) return;
    if (*h < k) { heap[*h] = e; sift_up(heap, *h); (*h)++; }
    else if (k > 0 && worse(heap[0], e)) { heap[0] = e; sift_down(heap, *h, 0); }
}

// Writes the heap best first as row r's k results (-1 and -inf past its end).
static void heap_emit(entry *heap, int h, int k, int64_t r, int32_t *out_idx, float *out_score) {
    qsort(heap, h, sizeof(entry), by_rank);
    for (int t = 0; t < k; t++) {
        out_idx[r * k + t] = t < h ? heap[t].i : -1;
        out_score[r * k + t] = t < h ? heap[t].s : -INFINITY;
    }
}

typedef struct {
    int n, f, m, k;
    const float *U, *W, *bias;
    const int64_t *seen_indptr; const int32_t *seen_idx, *seen_row;
    int32_t *out_idx; float *out_score;
} topk_job;

static void topk_task(void *ctx, int task) {
    topk_job *j = ctx;
    int r0 = task * ROW_CHUNK, r1 = r0 + ROW_CHUNK < j->n ? r0 + ROW_CHUNK : j->n;
    float *scores = malloc(sizeof(float) * ITEM_BLOCK);
    entry *heap = malloc(sizeof(entry) * (j->k > 0 ? j->k : 1));
    for (int r = r0; r < r1; r++) {
        const float *u = j->U + (int64_t)r * j->f;
        const int32_t *seen = NULL; int64_t ns = 0;
        if (j->seen_indptr && j->seen_row && j->seen_row[r] >= 0) {
            int64_t a = j->seen_indptr[j->seen_row[r]], b = j->seen_indptr[j->seen_row[r] + 1];
            seen = j->seen_idx + a; ns = b - a;
        }
        int64_t sp = 0;
        int h = 0;
        for (int b0 = 0; b0 < j->m; b0 += ITEM_BLOCK) {
            int bn = j->m - b0 < ITEM_BLOCK ? j->m - b0 : ITEM_BLOCK;
            if (j->bias) memcpy(scores, j->bias + b0, sizeof(float) * bn);
            else memset(scores, 0, sizeof(float) * bn);
            for (int c = 0; c < j->f; c++) {
                float uc = u[c];
                const float *w = j->W + (int64_t)c * j->m + b0;
                for (int i = 0; i < bn; i++) scores[i] += uc * w[i];
            }
            for (int i = 0; i < bn; i++) {
                int32_t item = b0 + i;
                while (sp < ns && seen[sp] < item) sp++;
                if (sp < ns && seen[sp] == item) continue;
                heap_offer(heap, &h, j->k, (entry){ scores[i], item });
            }
        }
        heap_emit(heap, h, j->k, r, j->out_idx, j->out_score);
    }
    free(scores); free(heap);
}

void mlw_rec_topk(int n, int f, int m, const float *U, const float *W, const float *bias,
                  const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                  int k, int32_t *out_idx, float *out_score) {
    topk_job j = { n, f, m, k, U, W, bias, seen_indptr, seen_idx, seen_row, out_idx, out_score };
    int tasks = (n + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks == 1) topk_task(&j, 0);
    else mlw_parallel_for(tasks, 64, topk_task, &j);
}

// ---- top-k of precomputed scores ----

typedef struct {
    int n, m, k; const float *scores; long lds;
    const int64_t *seen_indptr; const int32_t *seen_idx, *seen_row;
    int32_t *out_idx; float *out_score;
} select_job;

static void select_task(void *ctx, int task) {
    select_job *j = ctx;
    int r0 = task * ROW_CHUNK, r1 = r0 + ROW_CHUNK < j->n ? r0 + ROW_CHUNK : j->n;
    entry *heap = malloc(sizeof(entry) * (j->k > 0 ? j->k : 1));
    for (int r = r0; r < r1; r++) {
        const float *s = j->scores + (int64_t)r * j->lds;
        const int32_t *seen = NULL; int64_t ns = 0, sp = 0;
        if (j->seen_indptr && j->seen_row && j->seen_row[r] >= 0) {
            int64_t a = j->seen_indptr[j->seen_row[r]], b = j->seen_indptr[j->seen_row[r] + 1];
            seen = j->seen_idx + a; ns = b - a;
        }
        int h = 0;
        for (int32_t i = 0; i < j->m; i++) {
            while (sp < ns && seen[sp] < i) sp++;
            if (sp < ns && seen[sp] == i) continue;
            heap_offer(heap, &h, j->k, (entry){ s[i], i });
        }
        heap_emit(heap, h, j->k, r, j->out_idx, j->out_score);
    }
    free(heap);
}

void mlw_rec_select(int n, int m, const float *scores, long lds,
                    const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                    int k, int32_t *out_idx, float *out_score) {
    select_job j = { n, m, k, scores, lds, seen_indptr, seen_idx, seen_row, out_idx, out_score };
    int tasks = (n + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks == 1) select_task(&j, 0);
    else if (tasks > 1) mlw_parallel_for(tasks, 64, select_task, &j);
}

// ---- implicit ALS ----

static inline float dotf(const float *a, const float *b, int f) {
    float s = 0;
    for (int i = 0; i < f; i++) s += a[i] * b[i];
    return s;
}

typedef struct {
    int n, f, cg_steps;
    float *X; const float *Y, *YtY;
    const int64_t *indptr; const int32_t *idx; const float *conf;
} cg_job;

static void cg_task(void *ctx, int task) {
    cg_job *j = ctx;
    int f = j->f;
    float *r = malloc(sizeof(float) * f * 3), *p = r + f, *ap = r + 2 * f;
    int r0 = task * ROW_CHUNK, r1 = r0 + ROW_CHUNK < j->n ? r0 + ROW_CHUNK : j->n;
    for (int u = r0; u < r1; u++) {
        float *x = j->X + (int64_t)u * f;
        // r = b - A x, with A = YtY + sum_i (c_i - 1) y_i y_i^T and b = sum_i c_i y_i.
        for (int a = 0; a < f; a++) r[a] = -dotf(j->YtY + (int64_t)a * f, x, f);
        for (int64_t e = j->indptr[u]; e < j->indptr[u + 1]; e++) {
            const float *y = j->Y + (int64_t)j->idx[e] * f;
            float c = j->conf[e], t = c - (c - 1) * dotf(y, x, f);
            for (int a = 0; a < f; a++) r[a] += t * y[a];
        }
        memcpy(p, r, sizeof(float) * f);
        float rs = dotf(r, r, f);
        for (int it = 0; it < j->cg_steps; it++) {
            if (rs < 1e-20f) break;
            for (int a = 0; a < f; a++) ap[a] = dotf(j->YtY + (int64_t)a * f, p, f);
            for (int64_t e = j->indptr[u]; e < j->indptr[u + 1]; e++) {
                const float *y = j->Y + (int64_t)j->idx[e] * f;
                float t = (j->conf[e] - 1) * dotf(y, p, f);
                for (int a = 0; a < f; a++) ap[a] += t * y[a];
            }
            float pap = dotf(p, ap, f);
            if (!(pap > 0)) break;
            float alpha = rs / pap;
            for (int a = 0; a < f; a++) { x[a] += alpha * p[a]; r[a] -= alpha * ap[a]; }
            float rn = dotf(r, r, f);
            for (int a = 0; a < f; a++) p[a] = r[a] + (rn / rs) * p[a];
            rs = rn;
        }
    }
    free(r);
}

void mlw_rec_als_cg(int n, int f, float *X, const float *Y, const float *YtY,
                    const int64_t *indptr, const int32_t *idx, const float *conf, int cg_steps) {
    cg_job j = { n, f, cg_steps, X, Y, YtY, indptr, idx, conf };
    int tasks = (n + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks > 0) mlw_parallel_for(tasks, 64, cg_task, &j);
}

double mlw_rec_als_loss(int n, int m, int f, const float *X, const float *Y, const float *YtY,
                        const int64_t *indptr, const int32_t *idx, const float *conf, float l2) {
    double loss = 0, norms = 0;
    for (int u = 0; u < n; u++) {
        const float *x = X + (int64_t)u * f;
        // Every pair as unobserved: x^T YtY x; then correct the observed ones.
        double q = 0;
        for (int a = 0; a < f; a++) q += (double)x[a] * dotf(YtY + (int64_t)a * f, x, f);
        loss += q;
        for (int64_t e = indptr[u]; e < indptr[u + 1]; e++) {
            double s = dotf(x, Y + (int64_t)idx[e] * f, f), c = conf[e];
            loss += c * (1 - s) * (1 - s) - s * s;
        }
        norms += dotf(x, x, f);
    }
    for (int i = 0; i < m; i++) norms += dotf(Y + (int64_t)i * f, Y + (int64_t)i * f, f);
    return loss + l2 * norms;
}

// ---- explicit ALS: ridge rows ----

// Solves A z = b in place (A symmetric positive definite, d x d) by Cholesky; 0 when singular.
static int cholesky_solve(double *A, double *b, int d) {
    for (int c = 0; c < d; c++) {
        double s = A[c * d + c];
        for (int k = 0; k < c; k++) s -= A[c * d + k] * A[c * d + k];
        if (!(s > 0)) return 0;
        double l = sqrt(s);
        A[c * d + c] = l;
        for (int r = c + 1; r < d; r++) {
            double t = A[r * d + c];
            for (int k = 0; k < c; k++) t -= A[r * d + k] * A[c * d + k];
            A[r * d + c] = t / l;
        }
    }
    for (int r = 0; r < d; r++) {
        double t = b[r];
        for (int k = 0; k < r; k++) t -= A[r * d + k] * b[k];
        b[r] = t / A[r * d + r];
    }
    for (int r = d - 1; r >= 0; r--) {
        double t = b[r];
        for (int k = r + 1; k < d; k++) t -= A[k * d + r] * b[k];
        b[r] = t / A[r * d + r];
    }
    return 1;
}

typedef struct {
    int n, d; const float *F, *off; const int64_t *indptr; const int32_t *idx; const float *target; float l2; float *out;
} ridge_job;

static void ridge_task(void *ctx, int task) {
    ridge_job *j = ctx;
    int d = j->d;
    double *A = malloc(sizeof(double) * (d * d + d)), *b = A + d * d;
    int r0 = task * ROW_CHUNK, r1 = r0 + ROW_CHUNK < j->n ? r0 + ROW_CHUNK : j->n;
    for (int u = r0; u < r1; u++) {
        float *z = j->out + (int64_t)u * d;
        if (j->indptr[u] == j->indptr[u + 1]) { memset(z, 0, sizeof(float) * d); continue; }
        memset(A, 0, sizeof(double) * (d * d + d));
        for (int a = 0; a < d; a++) A[a * d + a] = j->l2;
        for (int64_t e = j->indptr[u]; e < j->indptr[u + 1]; e++) {
            const float *fe = j->F + (int64_t)j->idx[e] * d;
            double t = j->target[e] - j->off[j->idx[e]];
            for (int a = 0; a < d; a++) {
                b[a] += t * fe[a];
                for (int c = 0; c <= a; c++) A[a * d + c] += (double)fe[a] * fe[c];
            }
        }
        for (int a = 0; a < d; a++) for (int c = a + 1; c < d; c++) A[a * d + c] = A[c * d + a];
        if (cholesky_solve(A, b, d)) { for (int a = 0; a < d; a++) z[a] = (float)b[a]; }
        else memset(z, 0, sizeof(float) * d);
    }
    free(A);
}

void mlw_rec_ridge(int n, int d, const float *F, const float *off, const int64_t *indptr,
                   const int32_t *idx, const float *target, float l2, float *out) {
    ridge_job j = { n, d, F, off, indptr, idx, target, l2, out };
    int tasks = (n + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks > 0) mlw_parallel_for(tasks, 64, ridge_task, &j);
}

// ---- BPR ----

static inline uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int row_has(const int32_t *idx, int64_t a, int64_t b, int32_t item) {
    int64_t end = b;
    while (a < b) {
        int64_t mid = (a + b) / 2;
        if (idx[mid] < item) a = mid + 1; else b = mid;
    }
    return a < end && idx[a] == item;
}

double mlw_rec_bpr_epoch(int n, int m, int f, float *X, float *Y, const int64_t *indptr,
                         const int32_t *idx, const int32_t *row_of, int64_t nnz,
                         float lr, float l2, int verify_negatives, uint64_t seed, int64_t *skipped) {
    (void)n; (void)m;
    uint64_t s = seed;
    int64_t correct = 0, seen = 0, skip = 0;
    for (int64_t step = 0; step < nnz; step++) {
        // As implicit's bpr_update: both the liked and the disliked item are drawn from the
        // entries, so negatives follow item popularity (not uniform over items).
        int64_t e = (int64_t)(splitmix(&s) % (uint64_t)nnz);
        int32_t u = row_of[e], liked = idx[e];
        int32_t disliked = idx[(int64_t)(splitmix(&s) % (uint64_t)nnz)];
        if (verify_negatives && row_has(idx, indptr[u], indptr[u + 1], disliked)) { skip++; continue; }
        float *x = X + (int64_t)u * f, *yl = Y + (int64_t)liked * f, *yd = Y + (int64_t)disliked * f;
        float score = 0;
        for (int a = 0; a < f; a++) score += x[a] * (yl[a] - yd[a]);
        float z = 1.0f / (1.0f + expf(score));
        seen++;
        if (z < 0.5f) correct++;
        // The last user column is the constant 1 that gives items a bias: it is not trained.
        for (int a = 0; a < f - 1; a++) {
            float xa = x[a], la = yl[a], da = yd[a];
            x[a] += lr * (z * (la - da) - l2 * xa);
            yl[a] += lr * (z * xa - l2 * la);
            yd[a] += lr * (-z * xa - l2 * da);
        }
        yl[f - 1] += lr * (z - l2 * yl[f - 1]);
        yd[f - 1] += lr * (-z - l2 * yd[f - 1]);
    }
    if (skipped) *skipped = skip;
    return seen > 0 ? (double)correct / (double)seen : 0;
}

// ---- item kNN ----

typedef struct {
    int ni, k;
    const int64_t *item_indptr; const int32_t *item_users; const float *item_w;
    const int64_t *user_indptr; const int32_t *user_items; const float *user_w;
    int32_t *out_idx; float *out_val; int32_t *out_count;
} knn_job;

#define KNN_CHUNK 16

static void knn_task(void *ctx, int task) {
    knn_job *j = ctx;
    int i0 = task * KNN_CHUNK, i1 = i0 + KNN_CHUNK < j->ni ? i0 + KNN_CHUNK : j->ni;
    double *acc = calloc((size_t)j->ni, sizeof(double));
    int32_t *touched = malloc(sizeof(int32_t) * (size_t)j->ni);
    char *mark = calloc((size_t)j->ni, 1);
    entry *heap = malloc(sizeof(entry) * (size_t)j->k);
    for (int i = i0; i < i1; i++) {
        int nt = 0;
        for (int64_t e = j->item_indptr[i]; e < j->item_indptr[i + 1]; e++) {
            int32_t u = j->item_users[e];
            double w1 = j->item_w[e];
            for (int64_t e2 = j->user_indptr[u]; e2 < j->user_indptr[u + 1]; e2++) {
                int32_t c = j->user_items[e2];
                if (!mark[c]) { mark[c] = 1; touched[nt++] = c; }
                acc[c] += w1 * j->user_w[e2];
            }
        }
        int h = 0;
        for (int t = 0; t < nt; t++) {
            int32_t c = touched[t];
            entry en = { (float)acc[c], c };
            acc[c] = 0; mark[c] = 0;
            if (h < j->k) { heap[h] = en; sift_up(heap, h); h++; }
            else if (worse(heap[0], en)) { heap[0] = en; sift_down(heap, h, 0); }
        }
        qsort(heap, h, sizeof(entry), by_rank);
        for (int t = 0; t < h; t++) {
            j->out_idx[(int64_t)i * j->k + t] = heap[t].i;
            j->out_val[(int64_t)i * j->k + t] = heap[t].s;
        }
        j->out_count[i] = h;
    }
    free(acc); free(touched); free(mark); free(heap);
}

void mlw_rec_item_knn(int ni, int k, const int64_t *item_indptr, const int32_t *item_users, const float *item_w,
                      const int64_t *user_indptr, const int32_t *user_items, const float *user_w,
                      int32_t *out_idx, float *out_val, int32_t *out_count) {
    knn_job j = { ni, k, item_indptr, item_users, item_w, user_indptr, user_items, user_w, out_idx, out_val, out_count };
    int tasks = (ni + KNN_CHUNK - 1) / KNN_CHUNK;
    if (tasks == 1) knn_task(&j, 0);
    else if (tasks > 1) mlw_parallel_for(tasks, 64, knn_task, &j);
}

// ---- item kNN scoring (the sparse item_knn model) ----
//
// A user's scores are the sum over the user's items j (ascending) of value_j times item j's
// similarity row; each row holds kn (neighbour, similarity) pairs, neighbour -1 = padding.
// Per target item the terms add in ascending j, the order of the dense items x items GEMM
// this replaces, so the scores are the same floats.

// Per-thread scratch of m scores (kept zero between rows), marks and the touched list.
static _Thread_local float *kt_scores;
static _Thread_local unsigned char *kt_mark;
static _Thread_local int32_t *kt_touched;
static _Thread_local int64_t kt_cap;

static int knn_scratch(int64_t m) {
    if (kt_cap >= m) return 1;
    free(kt_scores); free(kt_mark); free(kt_touched);
    kt_scores = calloc((size_t)m, sizeof(float));
    kt_mark = calloc((size_t)m, 1);
    kt_touched = malloc(sizeof(int32_t) * (size_t)m);
    if (!kt_scores || !kt_mark || !kt_touched) {
        free(kt_scores); free(kt_mark); free(kt_touched);
        kt_scores = NULL; kt_mark = NULL; kt_touched = NULL; kt_cap = 0;
        return 0;
    }
    kt_cap = m;
    return 1;
}

typedef struct {
    int n, m, kn, k;
    const int64_t *row_indptr; const int32_t *row_idx; const float *row_val; const int32_t *rows;
    const int32_t *nbr; const float *sim;
    const int64_t *seen_indptr; const int32_t *seen_idx; const int32_t *seen_row;
    int32_t *out_idx; float *out_score;
    int failed;
} knn_topk_job;

static void knn_topk_task(void *ctx, int task) {
    knn_topk_job *j = ctx;
    int r0 = task * ROW_CHUNK, r1 = r0 + ROW_CHUNK < j->n ? r0 + ROW_CHUNK : j->n;
    if (!knn_scratch(j->m)) { j->failed = 1; return; }
    float *s = kt_scores; unsigned char *mark = kt_mark; int32_t *touched = kt_touched;
    entry *heap = malloc(sizeof(entry) * (j->k > 0 ? j->k : 1));
    if (!heap) { j->failed = 1; return; }
    for (int r = r0; r < r1; r++) {
        int nt = 0;
        if (j->rows[r] >= 0) {
            for (int64_t e = j->row_indptr[j->rows[r]]; e < j->row_indptr[j->rows[r] + 1]; e++) {
                int32_t it = j->row_idx[e];
                if ((uint32_t)it >= (uint32_t)j->m) continue;
                float v = j->row_val[e];
                const int32_t *nb = j->nbr + (int64_t)it * j->kn;
                const float *sv = j->sim + (int64_t)it * j->kn;
                for (int t = 0; t < j->kn; t++) {
                    int32_t c = nb[t];
                    if ((uint32_t)c >= (uint32_t)j->m) continue;
                    if (!mark[c]) { mark[c] = 1; touched[nt++] = c; }
                    s[c] += v * sv[t];
                }
            }
        }
        const int32_t *seen = NULL; int64_t ns = 0;
        if (j->seen_indptr && j->seen_row && j->seen_row[r] >= 0) {
            int64_t a = j->seen_indptr[j->seen_row[r]], b = j->seen_indptr[j->seen_row[r] + 1];
            seen = j->seen_idx + a; ns = b - a;
        }
        for (int64_t t = 0; t < ns; t++) if ((uint32_t)seen[t] < (uint32_t)j->m) mark[seen[t]] |= 2;
        int h = 0;
        for (int t = 0; t < nt; t++) {
            int32_t c = touched[t];
            if (!(mark[c] & 2)) heap_offer(heap, &h, j->k, (entry){ s[c], c });
        }
        // Untouched items score 0: they can only be left out when k touched items beat 0.
        if (!(h == j->k && heap[0].s > 0)) {
            h = 0;
            for (int32_t i = 0; i < j->m; i++) if (!(mark[i] & 2)) heap_offer(heap, &h, j->k, (entry){ s[i], i });
        }
        heap_emit(heap, h, j->k, r, j->out_idx, j->out_score);
        for (int t = 0; t < nt; t++) { s[touched[t]] = 0; mark[touched[t]] = 0; }
        for (int64_t t = 0; t < ns; t++) if ((uint32_t)seen[t] < (uint32_t)j->m) mark[seen[t]] = 0;
    }
    free(heap);
}

int mlw_rec_knn_topk(int n, int m, int kn, const int64_t *row_indptr, const int32_t *row_idx, const float *row_val,
                     const int32_t *rows, const int32_t *nbr, const float *sim,
                     const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                     int k, int32_t *out_idx, float *out_score) {
    knn_topk_job j = { n, m, kn, k, row_indptr, row_idx, row_val, rows, nbr, sim, seen_indptr, seen_idx, seen_row,
                       out_idx, out_score, 0 };
    int tasks = (n + ROW_CHUNK - 1) / ROW_CHUNK;
    if (tasks == 1) knn_topk_task(&j, 0);
    else if (tasks > 1) mlw_parallel_for(tasks, 64, knn_topk_task, &j);
    return j.failed ? -1 : 0;
}

void mlw_rec_knn_dense(int n, int m, int kn, const float *rows, const float *nbr, const float *sim, float *out) {
    for (int r = 0; r < n; r++) {
        const float *row = rows + (int64_t)r * m;
        float *o = out + (int64_t)r * m;
        memset(o, 0, sizeof(float) * (size_t)m);
        for (int32_t it = 0; it < m; it++) {
            float v = row[it];
            if (v == 0) continue;
            const float *nb = nbr + (int64_t)it * kn;
            const float *sv = sim + (int64_t)it * kn;
            for (int t = 0; t < kn; t++) {
                float cf = nb[t];
                if (!(cf >= 0 && cf < (float)m)) continue;
                o[(int32_t)cf] += v * sv[t];
            }
        }
    }
}
