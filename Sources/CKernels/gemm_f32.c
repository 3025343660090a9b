// Packed, cache-blocked float32 GEMM in the BLIS/GotoBLAS style.
//
//   for jc (NC columns of C)           B block KC x NC lives in L3/L2
//     for pc (KC deep slice of K)      pack B -> NR-wide panels, A -> MR-high panels
//       tasks: mc x NCT tiles of C     B block KC x NCT lives in L2, A panel MR x KC in L1
//         micro-kernel MR x NR         AVX2: 6x16 in 12 ymm; AVX-512: 12x32 in 24 zmm
//
// Determinism: every element of C is produced by exactly one micro-kernel call
// per pc slice and the pc slices run in a fixed order, so the sum order never
// depends on the thread count. Packing and the tile tasks are split into fixed
// chunks; threads only change who computes a chunk.
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// Tile shapes: 6x16 for AVX2 and the portable kernel, 12x32 for AVX-512 (when the CPU
// has it; 32 zmm registers hold 24 accumulators). MR_MAX/NR_MAX size stack buffers.
#define MR_MAX 12
#define NR_MAX 32
#define KC 384     // K slice: the only blocking parameter that affects the results' bits
#include "gemm_f32_smallm.h"
_Static_assert(KC == SMALLM_KC, "the small-M path must slice K like the packed path (same bits)");
#define NCT 256    // columns per compute task (multiple of every NR)
#define NC 3072    // columns per packed B block
#define MBIG 3072  // rows of A packed at once (bounds the packed-A buffer)

typedef struct {
    long M, N, K;
    float alpha, beta;
    const float *A; long rsa, csa;
    const float *B; long rsb, csb;
    float *C; long ldc;
    const float *bias; int bias_mode, act;
    // current block
    long jc, nc, pc, kc, ic, mc;
    float *Ap, *Bp;
    int simd;      // 0 portable, 1 AVX2+FMA, 2 AVX-512
    long mr, nr;
    long mc_task;  // rows per compute task; any multiple of MR gives the same bits
    long nc_task;  // columns per compute task; any multiple of NR gives the same bits
} gemm_ctx;

// ---- packing ----

// Panel p of A: rows ic+p*MR .. +MR, k in [pc, pc+kc); layout [k][MR], zero padded.
static void pack_a_panel(const gemm_ctx *g, long row0, long rows, float *dst) {
    const float *A = g->A;
    long rsa = g->rsa, csa = g->csa, kc = g->kc, pc = g->pc, MR = g->mr;
    if (rows == MR && csa == 1) {
        const float *r0 = A + row0 * rsa + pc;
        for (long k = 0; k < kc; k++)
            for (int r = 0; r < MR; r++) dst[k * MR + r] = r0[r * rsa + k];
    } else if (rows == MR && rsa == 1) {
        const float *c0 = A + row0 + pc * csa;
        for (long k = 0; k < kc; k++) memcpy(dst + k * MR, c0 + k * csa, MR * sizeof(float));
    } else {
        for (long k = 0; k < kc; k++)
            for (int r = 0; r < MR; r++)
                dst[k * MR + r] = r < rows ? A[(row0 + r) * rsa + (pc + k) * csa] : 0.0f;
    }
}

// Panel of B: columns col0 .. +NR, layout [k][NR], zero padded.
static void pack_b_panel(const gemm_ctx *g, long col0, long cols, float *dst) {
    const float *B = g->B;
    long rsb = g->rsb, csb = g->csb, kc = g->kc, pc = g->pc, NR = g->nr;
    if (cols == NR && csb == 1) {
        const float *b0 = B + pc * rsb + col0;
        for (long k = 0; k < kc; k++) memcpy(dst + k * NR, b0 + k * rsb, NR * sizeof(float));
    } else if (cols == NR && rsb == 1) {
        // transposed B: column j is contiguous in k; read each column once
        for (int c = 0; c < NR; c++) {
            const float *src = B + (col0 + c) * csb + pc;
            for (long k = 0; k < kc; k++) dst[k * NR + c] = src[k];
        }
    } else {
        for (long k = 0; k < kc; k++)
            for (int c = 0; c < NR; c++)
                dst[k * NR + c] = c < cols ? B[(pc + k) * rsb + (col0 + c) * csb] : 0.0f;
    }
}

#define PANELS_PER_PACK_TASK 8

static void pack_a_task(void *ctx, int t) {
    gemm_ctx *g = ctx;
    long MR = g->mr, npanels = (g->mc + MR - 1) / MR;
    for (long p = (long)t * PANELS_PER_PACK_TASK; p < npanels && p < (long)(t + 1) * PANELS_PER_PACK_TASK; p++) {
        long row0 = g->ic + p * MR;
        pack_a_panel(g, row0, mlw_min_l(MR, g->M - row0), g->Ap + p * MR * g->kc);
    }
}

static void pack_b_task(void *ctx, int t);

// First the B-panel tasks, then the A-panel tasks: one barrier instead of two.
typedef struct { gemm_ctx *g; int b_tasks; } pack_both_ctx;
static void pack_both_task(void *ctx, int t) {
    pack_both_ctx *p = ctx;
    if (t < p->b_tasks) pack_b_task(p->g, t); else pack_a_task(p->g, t - p->b_tasks);
}

static void pack_b_task(void *ctx, int t) {
    gemm_ctx *g = ctx;
    long NR = g->nr, npanels = (g->nc + NR - 1) / NR;
    for (long p = (long)t * PANELS_PER_PACK_TASK; p < npanels && p < (long)(t + 1) * PANELS_PER_PACK_TASK; p++) {
        long col0 = g->jc + p * NR;
        pack_b_panel(g, col0, mlw_min_l(NR, g->N - col0), g->Bp + p * NR * g->kc);
    }
}

// ---- epilogue helpers ----

// Merges an mr x nr accumulator tile (row-major, stride nr) into C.
static void store_tile_scalar(const gemm_ctx *g, const float *acc, float *c, long rows, long cols, int first) {
    long NR = g->nr;
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < cols; j++) {
            float v = g->alpha * acc[r * NR + j];
            float *dst = c + r * g->ldc + j;
            if (!first) v += *dst;
            else if (g->beta != 0.0f) v += g->beta * *dst;
            *dst = v;
        }
}

// Bias and activation, applied once after the last K slice.
static void apply_epilogue(const gemm_ctx *g, long row0, long col0, long rows, long cols) {
    if (g->bias_mode == MLW_BIAS_NONE && g->act == MLW_ACT_NONE) return;
    for (long r = 0; r < rows; r++) {
        float *c = g->C + (row0 + r) * g->ldc + col0;
        if (g->bias_mode == MLW_BIAS_PER_COL) for (long j = 0; j < cols; j++) c[j] += g->bias[col0 + j];
        else if (g->bias_mode == MLW_BIAS_PER_ROW) { float b = g->bias[row0 + r]; for (long j = 0; j < cols; j++) c[j] += b; }
        if (g->act == MLW_ACT_RELU) for (long j = 0; j < cols; j++) c[j] = c[j] > 0.0f ? c[j] : 0.0f;
    }
}

// ---- micro-kernels ----

#define MR 6
#define NR 16
static void ukernel_portable(long kc, const float *a, const float *b, float *acc) {
    for (int i = 0; i < MR * NR; i++) acc[i] = 0.0f;
    for (long k = 0; k < kc; k++) {
        const float *ak = a + k * MR, *bk = b + k * NR;
        for (int r = 0; r < MR; r++) {
            float av = ak[r];
            for (int j = 0; j < NR; j++) acc[r * NR + j] += av * bk[j];
        }
    }
}

// 6x16: per k step 2 loads of B, 6 broadcasts of A, 12 FMAs into 12 accumulators.
// Full tiles are merged into C straight from registers.
MLW_AVX2 static void ukernel_avx2(long kc, const float *a, const float *b, float *c, long ldc,
                                  long rows, long cols, int first, const gemm_ctx *g) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define STEP(off) { \
        __m256 b0 = _mm256_load_ps(b + (off) * NR), b1 = _mm256_load_ps(b + (off) * NR + 8); \
        __m256 av; const float *ak = a + (off) * MR; \
        av = _mm256_broadcast_ss(ak + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01); \
        av = _mm256_broadcast_ss(ak + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11); \
        av = _mm256_broadcast_ss(ak + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21); \
        av = _mm256_broadcast_ss(ak + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31); \
        av = _mm256_broadcast_ss(ak + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41); \
        av = _mm256_broadcast_ss(ak + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51); }
    for (int r = 0; r < MR; r++) { _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + r * ldc + 8), _MM_HINT_T0); }
    long k = 0;
    for (; k + 4 <= kc; k += 4) {
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
        STEP(0) STEP(1) STEP(2) STEP(3)
        a += 4 * MR; b += 4 * NR;
    }
    for (; k < kc; k++) { STEP(0) a += MR; b += NR; }
#undef STEP
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (rows == MR && cols == NR) {
        __m256 alpha = _mm256_set1_ps(g->alpha), beta = _mm256_set1_ps(g->beta);
        int scale = g->alpha != 1.0f;
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            __m256 v0 = acc[2 * r], v1 = acc[2 * r + 1];
            if (scale) { v0 = _mm256_mul_ps(v0, alpha); v1 = _mm256_mul_ps(v1, alpha); }
            if (!first) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr)); v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
            } else if (g->beta != 0.0f) {
                v0 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(cr), v0); v1 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(cr + 8), v1);
            }
            _mm256_storeu_ps(cr, v0); _mm256_storeu_ps(cr + 8, v1);
        }
    } else {
        float tile[MR_MAX * NR_MAX] __attribute__((aligned(64)));
        for (int i = 0; i < 12; i++) _mm256_store_ps(tile + i * 8, acc[i]);
        store_tile_scalar(g, tile, c, rows, cols, first);
    }
}

#undef MR
#undef NR
#include "gemm_f32_avx512.h"

static inline void tile_kernel(const gemm_ctx *g, const float *ap, const float *bp, float *c, long rows, long cols, int first) {
    if (g->simd == 2) {
        ukernel_avx512(g->kc, ap, bp, c, g->ldc, rows, cols, first, g);
    } else if (g->simd == 1) {
        ukernel_avx2(g->kc, ap, bp, c, g->ldc, rows, cols, first, g);
    } else {
        float tile[MR_MAX * NR_MAX];
        ukernel_portable(g->kc, ap, bp, tile);
        store_tile_scalar(g, tile, c, rows, cols, first);
    }
}

static void compute_task(void *ctx, int t) {
    gemm_ctx *g = ctx;
    long MR = g->mr, NR = g->nr;
    long MC = g->mc_task, mtasks = (g->mc + MC - 1) / MC;
    long mt = t % mtasks, nt = t / mtasks;
    long i0 = mt * MC, i1 = mlw_min_l(g->mc, i0 + MC);
    long j0 = nt * g->nc_task, j1 = mlw_min_l(g->nc, j0 + g->nc_task);
    int first = g->pc == 0, last = g->pc + g->kc >= g->K;
    // i outer: the A micro-panel stays in L1 while B panels stream from L2.
    for (long i = i0; i < i1; i += MR) {
        const float *ap = g->Ap + (i / MR) * MR * g->kc;
        long rows = mlw_min_l(MR, i1 - i);
        for (long j = j0; j < j1; j += NR) {
            const float *bp = g->Bp + (j / NR) * NR * g->kc;
            long cols = mlw_min_l(NR, j1 - j);
            float *c = g->C + (g->ic + i) * g->ldc + g->jc + j;
            tile_kernel(g, ap, bp, c, rows, cols, first);
            if (last) apply_epilogue(g, g->ic + i, g->jc + j, rows, cols);
        }
    }
}

static void scale_c(gemm_ctx *g) {
    // K == 0: C = beta*C (+ bias, act)
    for (long i = 0; i < g->M; i++) {
        float *c = g->C + i * g->ldc;
        for (long j = 0; j < g->N; j++) c[j] = g->beta == 0.0f ? 0.0f : g->beta * c[j];
    }
    apply_epilogue(g, 0, 0, g->M, g->N);
}

int mlw_sgemm(long M, long N, long K, float alpha,
               const float *A, long rsa, long csa,
               const float *B, long rsb, long csb,
               float beta, float *C, long ldc,
               const float *bias, int bias_mode, int act) {
    if (M <= 0 || N <= 0) return 0;
    gemm_ctx g = {M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb, C, ldc, bias, bias_mode, act};
    g.simd = mlw_simd_level();
    g.mr = g.simd == 2 ? 12 : 6;
    g.nr = g.simd == 2 ? 32 : 16;
    long MR = g.mr, NR = g.nr;
    if (K <= 0) { scale_c(&g); return 0; }
    // A few rows (batch-1 inference): streaming B beats packing it (gemm_f32_smallm.c).
    if (mlw_sgemm_smallm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, bias_mode, act)) return 0;
    // Small products are not worth waking threads.
    double flops = 2.0 * (double)M * (double)N * (double)K;
    int max_threads = flops < 4.0e6 ? 1 : 0;
    long mbig = mlw_min_l(M, MBIG), ncmax = mlw_min_l(N, NC), kcmax = mlw_min_l(K, KC);
    long ap_size = ((mbig + MR - 1) / MR) * MR * kcmax;
    long bp_size = ((ncmax + NR - 1) / NR) * NR * kcmax;
    float *Ap = aligned_alloc(64, (size_t)((ap_size * 4 + 63) / 64 * 64));
    float *Bp = aligned_alloc(64, (size_t)((bp_size * 4 + 63) / 64 * 64));
    if (!Ap || !Bp) { free(Ap); free(Bp); return -1; }
    g.Ap = Ap; g.Bp = Bp;
    for (long jc = 0; jc < N; jc += NC) {
        g.jc = jc; g.nc = mlw_min_l(NC, N - jc);
        for (long pc = 0; pc < K; pc += KC) {
            g.pc = pc; g.kc = mlw_min_l(KC, K - pc);
            long nbp = (g.nc + NR - 1) / NR;
            int b_tasks = (int)((nbp + PANELS_PER_PACK_TASK - 1) / PANELS_PER_PACK_TASK);
            for (long ic = 0; ic < M; ic += MBIG) {
                g.ic = ic; g.mc = mlw_min_l(MBIG, M - ic);
                long nap = (g.mc + MR - 1) / MR;
                int a_tasks = (int)((nap + PANELS_PER_PACK_TASK - 1) / PANELS_PER_PACK_TASK);
                if (ic == 0) {
                    pack_both_ctx pb = {&g, b_tasks};
                    mlw_parallel_for(b_tasks + a_tasks, max_threads, pack_both_task, &pb);
                } else {
                    mlw_parallel_for(a_tasks, max_threads, pack_a_task, &g);
                }
                // Task size only changes who computes a tile, never how: shrink rows per
                // task until both threads have a few tasks each.
                g.mc_task = 96; g.nc_task = NCT;
                long want = 4 * mlw_get_threads();
                for (;;) {
                    long tasks_now = ((g.mc + g.mc_task - 1) / g.mc_task) * ((g.nc + g.nc_task - 1) / g.nc_task);
                    if (tasks_now >= want) break;
                    if (g.mc_task > 48) g.mc_task /= 2;
                    else if (g.nc_task > 64) g.nc_task /= 2;
                    else if (g.mc_task > 24) g.mc_task /= 2;
                    else break;
                }
                long tasks = ((g.mc + g.mc_task - 1) / g.mc_task) * ((g.nc + g.nc_task - 1) / g.nc_task);
                mlw_parallel_for((int)tasks, max_threads, compute_task, &g);
            }
        }
    }
    free(Ap); free(Bp);
    return 0;
}
