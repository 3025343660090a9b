// Int8 dense layer kernels (module Compress's `qdense` op): weights packed once, activations
// quantized inside the kernel, int32 accumulation, dequantization + bias + ReLU fused.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes of the packed form of an int8 weight W [K, N]: ceil(K/4) * N * 4.
long mlw_qpack_bytes(long K, long N);
/// Packs W [K, N] (row-major, row stride ldw) into [ceil(K/4)][N][4]: the weights of
/// k = 4q..4q+3 for column n are 4 adjacent bytes (zeros past K), the operand layout of
/// vpdpbusd, so 16 columns x 4 k are one 64-byte load.
void mlw_qpack(long K, long N, const int8_t *W, long ldw, int8_t *packed);

/// y[M, N] = act(dequant(quant(x) · W) + bias). Activations per row: `dynamic` takes the
/// scale (and, when `act_unsigned`, the zero point) from the row's range, else `act_scale` /
/// `act_zero`; signed = symmetric int8 in [-127, 127], unsigned = uint8 with a zero point.
/// Products are exact int32 sums; scale is wscale[n] (per_channel) or wscale[0];
/// colsum[n] = Σ_k W[k, n] corrects the zero point. Same bits at every SIMD level and
/// thread count.
typedef struct {
    long M, K, N;
    const float *x; long ldx;
    const int8_t *w;              // packed by mlw_qpack
    const float *wscale; int per_channel;
    const int32_t *colsum;
    const float *bias;            // [N] or NULL
    int dynamic; float act_scale; int act_zero; int act_unsigned;
    int relu;
    float *y; long ldy;
} mlw_qlinear_args;

/// Returns 0, or -1 when its scratch buffer cannot be allocated.
int mlw_qlinear(const mlw_qlinear_args *a);
/// 1 when mlw_qlinear uses AVX512-VNNI at the current SIMD level.
int mlw_qlinear_uses_vnni(void);

#ifdef __cplusplus
}
#endif
