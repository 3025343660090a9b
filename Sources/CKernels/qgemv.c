// Int8 GEMV: acc += x[k] * W[k, :] row by row; the inner loop over N is vectorised by clang
// (sign-extend 8 bytes to int32, multiply, add). In an AVX2 function that is 8 lanes per
// instruction; the portable build gets SSE2. Exact int32 results either way.
#include "ckernels.h"
#include "qgemv.h"
#include "internal.h"
#include <string.h>

#define QGEMV_BODY(XT)                                                        \
    memset(acc, 0, (size_t)N * sizeof(int32_t));                              \
    for (long k = 0; k < K; k++) {                                            \
        int32_t xv = (int32_t)x[k];                                           \
        if (xv == 0) continue;                                                \
        const int8_t *w = W + k * N;                                          \
        for (long n = 0; n < N; n++) acc[n] += xv * (int32_t)w[n];            \
    }

MLW_AVX2 static void qgemv_s8_avx2(long K, long N, const int8_t *x, const int8_t *W, int32_t *acc) { QGEMV_BODY(int8_t) }
static void qgemv_s8_portable(long K, long N, const int8_t *x, const int8_t *W, int32_t *acc) { QGEMV_BODY(int8_t) }
MLW_AVX2 static void qgemv_u8_avx2(long K, long N, const uint8_t *x, const int8_t *W, int32_t *acc) { QGEMV_BODY(uint8_t) }
static void qgemv_u8_portable(long K, long N, const uint8_t *x, const int8_t *W, int32_t *acc) { QGEMV_BODY(uint8_t) }

void mlw_qgemv_s8(long K, long N, const int8_t *x, const int8_t *W, int32_t *acc) {
    if (mlw_simd_enabled()) qgemv_s8_avx2(K, N, x, W, acc); else qgemv_s8_portable(K, N, x, W, acc);
}
void mlw_qgemv_u8(long K, long N, const uint8_t *x, const int8_t *W, int32_t *acc) {
    if (mlw_simd_enabled()) qgemv_u8_avx2(K, N, x, W, acc); else qgemv_u8_portable(K, N, x, W, acc);
}
