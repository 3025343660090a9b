// Int8 dense layer (see qlinear.h): packing, the portable kernels, and the dispatcher.
// Work is split into fixed groups of rows (quantize + multiply + epilogue per group), so
// results never depend on the thread count; integer sums are exact, so the SIMD levels
// agree bit for bit too.
#pragma clang fp contract(off)
#include "qlinear_internal.h"
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

#define QROWS 16            // rows per task
#define QPAR_MACS 1.0e6     // below this one thread is faster (wake-up > work)
#define QSTACK 8192         // scratch bytes kept on the stack (batch 1)

long mlw_qpack_bytes(long K, long N) { return (K + 3) / 4 * N * 4; }

void mlw_qpack(long K, long N, const int8_t *W, long ldw, int8_t *packed) {
    long kq = (K + 3) / 4;
    for (long q = 0; q < kq; q++)
        for (long n = 0; n < N; n++)
            for (long h = 0; h < 4; h++) {
                long k = 4 * q + h;
                packed[(q * N + n) * 4 + h] = k < K ? W[k * ldw + n] : 0;
            }
}

void mlw_q_row_params(const mlw_qlinear_args *a, float lo, float hi, float *scale, int32_t *zero) {
    float s; int32_t z;
    if (!a->dynamic) { s = a->act_scale; z = a->act_zero; }
    else if (a->act_unsigned) {
        s = (hi - lo) / 255.0f;
        s = s > 0.0f ? s : 1.0f;
        float t = -lo / s;
        t = t > 0.0f ? t : 0.0f;
        t = t < 255.0f ? t : 255.0f;
        z = (int32_t)((t + 12582912.0f) - 12582912.0f);
    } else {
        s = (hi > -lo ? hi : -lo) / 127.0f;
        s = s > 0.0f ? s : 1.0f;
        z = 0;
    }
    *scale = s;
    *zero = a->act_unsigned ? z : z + 128;   // signed activations are stored +128
}

void mlw_q_quantize_row_portable(const qctx *c, long r) {
    const mlw_qlinear_args *a = c->a;
    const float *x = a->x + r * a->ldx;
    float lo = 0.0f, hi = 0.0f;
    if (a->dynamic)
        for (long k = 0; k < a->K; k++) { lo = x[k] < lo ? x[k] : lo; hi = x[k] > hi ? x[k] : hi; }
    mlw_q_row_params(a, lo, hi, &c->scale[r], &c->zero[r]);
    float inv = 1.0f / c->scale[r], zf = (float)(a->act_unsigned ? c->zero[r] : 0);
    uint8_t *u = c->u + r * c->kp;
    for (long k = 0; k < a->K; k++) u[k] = q_one(x[k], inv, zf, a->act_unsigned);
    for (long k = a->K; k < c->kp; k++) u[k] = 0;
}

// Rows r0..r1, columns j0..j1, from the packed weights; 64 columns of sums at a time.
void mlw_q_rows_portable(const qctx *c, long r0, long r1, long j0, long j1) {
    const mlw_qlinear_args *a = c->a;
    long kq = c->kp / 4, N = a->N;
    for (long r = r0; r < r1; r++) {
        const uint8_t *u = c->u + r * c->kp;
        for (long jb = j0; jb < j1; jb += 64) {
            long cols = mlw_min_l(64, j1 - jb);
            int32_t acc[64] = {0};
            for (long q = 0; q < kq; q++) {
                int32_t u0 = u[4 * q], u1 = u[4 * q + 1], u2 = u[4 * q + 2], u3 = u[4 * q + 3];
                const int8_t *w = a->w + (q * N + jb) * 4;
                for (long n = 0; n < cols; n++)
                    acc[n] += u0 * w[4 * n] + u1 * w[4 * n + 1] + u2 * w[4 * n + 2] + u3 * w[4 * n + 3];
            }
            float *y = a->y + r * a->ldy + jb;
            for (long n = 0; n < cols; n++) y[n] = q_epilogue(a, acc[n], c->scale[r], c->zero[r], jb + n);
        }
    }
}

int mlw_cpu_has_vnni512(void);   // gemm_i8_vnni.c

static int q_level(void) {
    int level = mlw_simd_level();
    if (level >= 2 && !mlw_cpu_has_vnni512()) level = 1;
    return level;
}

int mlw_qlinear_uses_vnni(void) { return q_level() >= 2; }

typedef struct { qctx c; int level; } qtask;

static void q_task(void *p, int t) {
    const qtask *s = p;
    const qctx *c = &s->c;
    long r0 = (long)t * QROWS, r1 = mlw_min_l(c->a->M, r0 + QROWS);
    for (long r = r0; r < r1; r++) {
        if (s->level >= 2) mlw_q_quantize_row_avx512(c, r);
        else if (s->level == 1) mlw_q_quantize_row_avx2(c, r);
        else mlw_q_quantize_row_portable(c, r);
    }
    if (s->level >= 2) mlw_q_rows_vnni(c, r0, r1);
    else if (s->level == 1) mlw_q_rows_avx2(c, r0, r1);
    else mlw_q_rows_portable(c, r0, r1, 0, c->a->N);
}

int mlw_qlinear(const mlw_qlinear_args *a) {
    if (a->M <= 0 || a->N <= 0) return 0;
    long kp = (a->K + 3) / 4 * 4;
    size_t bytes = (size_t)a->M * (size_t)kp + (size_t)a->M * 8 + 16;
    _Alignas(64) unsigned char stack[QSTACK];
    unsigned char *buf = bytes <= QSTACK ? stack : malloc(bytes);
    if (!buf) return -1;
    float *scale = (float *)(void *)buf;
    int32_t *zero = (int32_t *)(void *)(buf + 4 * a->M);
    qtask s = {{a, kp, buf + 8 * a->M, scale, zero}, q_level()};
    int tasks = (int)((a->M + QROWS - 1) / QROWS);
    double macs = (double)a->M * (double)a->N * (double)a->K;
    if (tasks == 1) q_task(&s, 0);
    else mlw_parallel_for(tasks, macs < QPAR_MACS ? 1 : 0, q_task, &s);
    if (buf != stack) free(buf);
    return 0;
}
