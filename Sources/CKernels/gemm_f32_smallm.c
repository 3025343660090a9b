// Small-M float32 GEMM (M <= SMALLM_MAX rows, e.g. batch-1 inference): no packing.
// Packing B costs as much as the whole product when A has a handful of rows, so B is
// streamed straight from its rows, with the rows of C held in registers.
//
//   B row-major (csb == 1, "nn"): per block of columns, k outermost inside K slices of
//     SMALLM_KC = KC; every C element is an FMA chain from zero over one slice, slices
//     merged into C in order: exactly the packed micro-kernel's arithmetic, so results
//     are bit-identical to the packed path (for beta == 0) at every SIMD level.
//   B transposed (rsb == 1, csa == 1, "nt", e.g. x @ Wᵀ): with fewer than SMALLM_NT_ROWS
//     rows, one dot product per C element, vectorised over k in 16 fixed lanes reduced by
//     a fixed tree, then the K % 16 tail. The same bits at AVX2 and AVX-512 (portable: no
//     FMA); may differ in the last bits from the packed path for the same shapes. With
//     more rows (a backward pass's dy @ W at batch 64) B is first transposed into a
//     row-major buffer (K x N, what packing would cost) and the nn kernels run: the dot
//     products would re-read B per row block and end each element in a horizontal sum.
// Threads: tasks are fixed (8 rows x 192 columns) chunks of C, used only for big products;
// K is never split and an element's arithmetic never depends on its chunk, so any
// thread count gives the same bits.
#include "gemm_f32_smallm.h"
#include <stdlib.h>

#define SMALLM_MAX 64           // default: crossover measured against the packed path (Docs/tensors.md)
#define SMALLM_CAP 128          // limit accepted by mlw_sgemm_set_small_m
#define SMALLM_ROWS 8           // rows one kernel call keeps in registers (a task's row group)
#define SMALLM_TASK_COLS 192    // columns per task: a multiple of the 2-8 row block widths
#define SMALLM_PAR_FLOPS 1.0e6  // below this one thread is faster (wake-up > work)
#define SMALLM_NT_ROWS 8        // from this many rows a transposed B is transposed once (see above)
#define SMALLM_ROW_PAR_WEIGHTS (1L << 16)  // one row: split over the threads from this many weights of B

static int smallm_max = SMALLM_MAX;
void mlw_sgemm_set_small_m(int max_rows) { smallm_max = max_rows < 0 ? 0 : (max_rows > SMALLM_CAP ? SMALLM_CAP : max_rows); }

void mlw_smallm_nn_portable(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    for (long j = j0; j < j1; j += 16) {
        long cols = mlw_min_l(16, j1 - j);
        for (long pc = 0; pc < g->K; pc += SMALLM_KC) {
            long kend = mlw_min_l(g->K, pc + SMALLM_KC);
            float acc[SMALLM_ROWS][16] = {{0}};
            for (long k = pc; k < kend; k++) {
                const float *b = g->B + k * g->rsb + j;
                for (long r = 0; r < rows; r++) {
                    float av = g->A[(i0 + r) * g->rsa + k * g->csa];
                    for (long c = 0; c < cols; c++) acc[r][c] += av * b[c];
                }
            }
            for (long r = 0; r < rows; r++) {
                float *cr = g->C + (i0 + r) * g->ldc + j;
                for (long c = 0; c < cols; c++)
                    cr[c] = smallm_merge_scalar(g, acc[r][c], cr + c, i0 + r, j + c, pc == 0, kend == g->K);
            }
        }
    }
}

void mlw_smallm_nt_portable(const smallm_ctx *g, long i0, long rows, long j0, long j1) {
    for (long r = 0; r < rows; r++) {
        const float *a = g->A + (i0 + r) * g->rsa;
        for (long j = j0; j < j1; j++) {
            const float *b = g->B + j * g->csb;
            float l[16] = {0};
            long k = 0;
            for (; k + 16 <= g->K; k += 16)
                for (int q = 0; q < 16; q++) l[q] += a[k + q] * b[k + q];
            // the SIMD kernels' reduction tree: 16 -> 8 -> 4 -> 2 -> 1
            for (int q = 0; q < 8; q++) l[q] += l[q + 8];
            for (int q = 0; q < 4; q++) l[q] += l[q + 4];
            for (int q = 0; q < 2; q++) l[q] += l[q + 2];
            float s = l[0] + l[1];
            for (; k < g->K; k++) s += a[k] * b[k];
            float *c = g->C + (i0 + r) * g->ldc + j;
            *c = smallm_merge_scalar(g, s, c, i0 + r, j, 1, 1);
        }
    }
}

typedef void (*smallm_fn)(const smallm_ctx *, long, long, long, long);
typedef struct { const smallm_ctx *g; smallm_fn fn; long groups; } smallm_task_ctx;

// Task t = (column chunk t / groups, row group t % groups): consecutive tasks share the
// chunk of B, which stays in L2 across the row groups.
static void smallm_task(void *ctx, int t) {
    const smallm_task_ctx *s = ctx;
    long i = (t % s->groups) * SMALLM_ROWS, j0 = (t / s->groups) * SMALLM_TASK_COLS;
    s->fn(s->g, i, mlw_min_l(SMALLM_ROWS, s->g->M - i), j0, mlw_min_l(s->g->N, j0 + SMALLM_TASK_COLS));
}

// One row of C on several threads (batch-1 inference of a big layer, where the time is
// streaming B from each core's L2). With more than one K slice, each task computes one
// slice's raw sums (the FMA chains the single-thread kernel builds) into its own scratch
// row and the caller merges the slices in order: the same adds in the same order, so the
// same bits, and every core reads whole rows of B. One slice: column ranges instead
// (multiples of 16 columns), which read B in shorter pieces (~30% slower per byte).
// Pinned tasks, so a core streams the same part of B every call (from its own L2).
typedef struct { const smallm_ctx *g; smallm_fn fn; long chunk; float *partial; } smallm_row_ctx;

static void smallm_row_slice_task(void *ctx, int t) {
    const smallm_row_ctx *s = ctx;
    const smallm_ctx *g = s->g;
    long k0 = (long)t * SMALLM_KC, k1 = mlw_min_l(g->K, k0 + SMALLM_KC);
    smallm_ctx sub = {1, g->N, k1 - k0, 1.0f, 0.0f, g->A + k0 * g->csa, g->rsa, g->csa, g->B + k0 * g->rsb, g->rsb, g->csb,
                      s->partial + (long)t * g->N, g->N, NULL, MLW_BIAS_NONE, MLW_ACT_NONE};
    s->fn(&sub, 0, 1, 0, g->N);
}

static void smallm_row_cols_task(void *ctx, int t) {
    const smallm_row_ctx *s = ctx;
    long j0 = t * s->chunk;
    if (j0 < s->g->N) s->fn(s->g, 0, 1, j0, mlw_min_l(s->g->N, j0 + s->chunk));
}

// 1 when it computed the row; 0 to run it on one thread.
static int smallm_row_parallel(const smallm_ctx *g, smallm_fn fn, int nn, int threads) {
    long slices = (g->K + SMALLM_KC - 1) / SMALLM_KC;
    if (slices > 1 && nn && g->alpha == 1.0f && g->beta == 0.0f && slices <= 64) {
        float stack[4096], *partial = slices * g->N <= 4096 ? stack : malloc((size_t)(slices * g->N) * sizeof(float));
        if (!partial) return 0;
        smallm_row_ctx r = {g, fn, 0, partial};
        mlw_parallel_for_pinned((int)slices, smallm_row_slice_task, &r);
        for (long j = 0; j < g->N; j++) {
            float c = 0;
            for (long t = 0; t < slices; t++) c = smallm_merge_scalar(g, partial[t * g->N + j], &c, 0, j, t == 0, t == slices - 1);
            g->C[j] = c;
        }
        if (partial != stack) free(partial);
        return 1;
    }
    if (g->N < 32) return 0;
    if (threads > g->N / 16) threads = (int)(g->N / 16);
    smallm_row_ctx r = {g, fn, (g->N + 16L * threads - 1) / (16L * threads) * 16, NULL};
    mlw_parallel_for_pinned(threads, smallm_row_cols_task, &r);
    return 1;
}

// Returns 1 when it computed C, 0 when the shape or strides are not for this path.
int mlw_sgemm_smallm(long M, long N, long K, float alpha,
                     const float *A, long rsa, long csa,
                     const float *B, long rsb, long csb,
                     float beta, float *C, long ldc,
                     const float *bias, int bias_mode, int act) {
    if (M > smallm_max || M <= 0 || N <= 0 || K <= 0) return 0;
    int nn = csb == 1, nt = !nn && rsb == 1 && csa == 1;
    if (!nn && !nt) return 0;
    float *bt = NULL;
    if (nt && M >= SMALLM_NT_ROWS && (bt = malloc((size_t)(K * N) * sizeof(float)))) {
        mlw_transpose_32(B, N, K, csb, bt, N);   // bt[k*N + j] = B(k, j)
        B = bt; rsb = N; csb = 1; nn = 1; nt = 0;
    }
    smallm_ctx g = {M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb, C, ldc, bias, bias_mode, act};
    int level = mlw_simd_level();
    smallm_fn fn = level == 2 ? (nn ? mlw_smallm_nn_avx512 : mlw_smallm_nt_avx512)
                 : level == 1 ? (nn ? mlw_smallm_nn_avx2 : mlw_smallm_nt_avx2)
                 : (nn ? mlw_smallm_nn_portable : mlw_smallm_nt_portable);
    long groups = (M + SMALLM_ROWS - 1) / SMALLM_ROWS;
    int tasks = (int)(groups * ((N + SMALLM_TASK_COLS - 1) / SMALLM_TASK_COLS));
    smallm_task_ctx s = {&g, fn, groups};
    int one_thread = 2.0 * (double)M * (double)N * (double)K < SMALLM_PAR_FLOPS;
    int threads = mlw_get_threads();
    if (M == 1 && threads > 1 && K * N >= SMALLM_ROW_PAR_WEIGHTS && smallm_row_parallel(&g, fn, nn, threads)) {}
    else if (one_thread && groups == 1) fn(&g, 0, M, 0, N);   // batch 1: no chunk boundaries
    else mlw_parallel_for(tasks, one_thread ? 1 : 0, smallm_task, &s);
    free(bt);
    return 1;
}
