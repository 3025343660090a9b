// Shared by the small-M GEMM files (gemm_f32_smallm*.c): context and the scalar merge.
#pragma once
#include "ckernels.h"
#include "internal.h"

#define SMALLM_KC 384   // == KC of gemm_f32.c: the same K slices give the packed path's bits

typedef struct {
    long M, N, K;
    float alpha, beta;
    const float *A; long rsa, csa;
    const float *B; long rsb, csb;
    float *C; long ldc;
    const float *bias; int bias_mode, act;
} smallm_ctx;

// One C element after a K slice, exactly as gemm_f32.c's scalar store + epilogue do it
// (mul and add rounded separately: callers are portable-target functions).
static inline float smallm_merge_scalar(const smallm_ctx *g, float acc, const float *c, long row, long col, int first, int last) {
    float v = g->alpha * acc;
    if (!first) v += *c;
    else if (g->beta != 0.0f) v += g->beta * *c;
    if (last) {
        if (g->bias_mode == MLW_BIAS_PER_COL) v += g->bias[col];
        else if (g->bias_mode == MLW_BIAS_PER_ROW) v += g->bias[row];
        if (g->act == MLW_ACT_RELU) v = v > 0.0f ? v : 0.0f;
    }
    return v;
}

void mlw_smallm_nn_portable(const smallm_ctx *g, long i0, long rows, long j0, long j1);
void mlw_smallm_nt_portable(const smallm_ctx *g, long i0, long rows, long j0, long j1);
void mlw_smallm_nn_avx2(const smallm_ctx *g, long i0, long rows, long j0, long j1);
void mlw_smallm_nt_avx2(const smallm_ctx *g, long i0, long rows, long j0, long j1);
void mlw_smallm_nn_avx512(const smallm_ctx *g, long i0, long rows, long j0, long j1);
void mlw_smallm_nt_avx512(const smallm_ctx *g, long i0, long rows, long j0, long j1);
