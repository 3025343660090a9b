// CSR (float32) x dense: each row of C is a sum of scaled rows of B, done as
// 8-wide FMA "axpy" sweeps so the dense operand streams contiguously.
#include "ckernels.h"
#include "internal.h"
#include <immintrin.h>
#include <string.h>
#include <math.h>

typedef struct {
    long M, N; const int64_t *indptr; const int32_t *indices; const float *values;
    const float *B; long ldb; float *C; long ldc; int simd;
} csr_ctx;

#define ROWS_PER_TASK 16

static void csr_rows_portable(const csr_ctx *g, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        float *c = g->C + i * g->ldc;
        memset(c, 0, (size_t)g->N * sizeof(float));
        for (int64_t p = g->indptr[i]; p < g->indptr[i + 1]; p++) {
            float v = g->values[p];
            const float *b = g->B + (long)g->indices[p] * g->ldb;
            for (long j = 0; j < g->N; j++) c[j] += v * b[j];
        }
    }
}

// Column blocks of 64 keep the C row chunk in registers while all nonzeros of the row stream by.
MLW_AVX2 static void csr_rows_avx2(const csr_ctx *g, long r0, long r1) {
    long N = g->N;
    for (long i = r0; i < r1; i++) {
        float *c = g->C + i * g->ldc;
        int64_t p0 = g->indptr[i], p1 = g->indptr[i + 1];
        long j = 0;
        for (; j + 64 <= N; j += 64) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            __m256 a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps(), a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
            for (int64_t p = p0; p < p1; p++) {
                __m256 v = _mm256_set1_ps(g->values[p]);
                const float *b = g->B + (long)g->indices[p] * g->ldb + j;
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 8), a1);
                a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 16), a2);
                a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 24), a3);
                a4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 32), a4);
                a5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 40), a5);
                a6 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 48), a6);
                a7 = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 56), a7);
            }
            _mm256_storeu_ps(c + j, a0); _mm256_storeu_ps(c + j + 8, a1);
            _mm256_storeu_ps(c + j + 16, a2); _mm256_storeu_ps(c + j + 24, a3);
            _mm256_storeu_ps(c + j + 32, a4); _mm256_storeu_ps(c + j + 40, a5);
            _mm256_storeu_ps(c + j + 48, a6); _mm256_storeu_ps(c + j + 56, a7);
        }
        for (; j < N; j++) {
            float s = 0.0f;
            for (int64_t p = p0; p < p1; p++) s = fmaf(g->values[p], g->B[(long)g->indices[p] * g->ldb + j], s);
            c[j] = s;
        }
    }
}

static void csr_task(void *ctx, int t) {
    csr_ctx *g = ctx;
    long r0 = (long)t * ROWS_PER_TASK, r1 = mlw_min_l(g->M, r0 + ROWS_PER_TASK);
    if (g->simd) csr_rows_avx2(g, r0, r1); else csr_rows_portable(g, r0, r1);
}

void mlw_csr_spmm(long M, long N, const int64_t *indptr, const int32_t *indices,
                  const float *values, const float *B, long ldb, float *C, long ldc) {
    if (M <= 0 || N <= 0) return;
    csr_ctx g = {M, N, indptr, indices, values, B, ldb, C, ldc, mlw_simd_enabled()};
    double work = 2.0 * (double)indptr[M] * (double)N;
    mlw_parallel_for((int)((M + ROWS_PER_TASK - 1) / ROWS_PER_TASK), work < 2.0e6 ? 1 : 0, csr_task, &g);
}
