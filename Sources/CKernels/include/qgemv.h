// Int8 matrix-vector kernels for small batches (module Compress's int8 dense layers at batch 1).
// The int8 GEMM packs its B operand on every call, which costs more than the arithmetic when
// A has one row; these read the int8 weight W [K, N] row-major directly.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// acc[N] (int32) = x[K] (int8) · W[K, N] (int8), exact. Rows of W whose x entry is 0 are
/// skipped (post-ReLU inputs are often half zeros).
void mlw_qgemv_s8(long K, long N, const int8_t *x, const int8_t *W, int32_t *acc);
/// Same with an unsigned x (uint8); zero entries of x skipped too.
void mlw_qgemv_u8(long K, long N, const uint8_t *x, const int8_t *W, int32_t *acc);

#ifdef __cplusplus
}
#endif
