// Kernels of the training loop (train.c): optimizer updates, the fused ReLU/bias
// backward of dense layers, cross-entropy on logits, and per-column statistics.
// Like every kernel here: AVX2 or portable chosen at run time, identical bits on
// both (no FMA contraction), fixed chunks when threaded, no split reductions.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One Adam step over n parameters, in place (PyTorch semantics; c1, c2 are the bias
/// corrections 1 - beta^t). decoupled: p -= lr*wd*p first (AdamW), else g += wd*p.
void mlw_adam_f32(float *p, const float *g, float *m, float *v, long n, float lr, float beta1, float beta2,
                  float c1, float c2, float eps, float wd, int decoupled);

/// Backward of y = relu(z) (+ the bias sum of a dense layer), for a [rows, cols] matrix:
/// out = y > 0 ? g : 0 (y may be NULL: out = g), and when bias_grad is not NULL
/// bias_grad[j] = sum over rows of out[:, j], added in row order. out may equal g.
void mlw_dense_act_backward_f32(const float *g, const float *y, float *out, float *bias_grad, long rows, long cols);

/// Cross-entropy from logits [rows, cols] and class labels (as floats; checked by the caller).
/// probs <- softmax rows; returns the mean over rows of -log softmax(z)[label].
double mlw_cross_entropy_f32(const float *z, const float *labels, float *probs, long rows, long cols);
/// Its gradient: grad = (probs - onehot(label)) * scale.
void mlw_cross_entropy_backward_f32(const float *probs, const float *labels, float *grad, long rows, long cols, float scale);

/// Per-column statistics of a [rows, cols] matrix in double: mean, population std
/// (divided by n, like the data library's describe), min and max. Inputs are finite
/// (the train loop checks before it asks).
void mlw_column_stats_f32(const float *x, long rows, long cols, double *mean, double *std, double *min, double *max);

/// Rows [0, rows) of double columns written row-major as floats: column k (cols[k][r]) to
/// dst[r * ld + at[k]]. Callers offset cols and dst to the first row of their block.
void mlw_columns_to_rows_f64(const double *const *cols, const long *at, long ncols, long rows, float *dst, long ld);

/// 1 when all n values are finite.
int mlw_all_finite_f32(const float *x, long n);

#ifdef __cplusplus
}
#endif
