// CKernels: hand-written CPU kernels for the Tensor module.
//
// Every entry point picks an AVX2+FMA version at run time when the CPU has it
// (checked once with __builtin_cpu_supports) and otherwise runs a portable C
// version. All parallel kernels split their work into FIXED chunks whose
// boundaries do not depend on the thread count, and no reduction is ever split
// across threads, so results are bit-identical for any thread count.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int mlw_ckernels_version(void);

// ---- threading (parallel.c) ----
/// Sets the number of threads kernels may use (>= 1). Default: $MLW_THREADS or the core count.
void mlw_set_threads(int n);
int mlw_get_threads(void);
/// Runs body(ctx, t) for t in [0, ntasks) on up to min(threads, max_threads) threads.
void mlw_parallel_for(int ntasks, int max_threads, void (*body)(void *ctx, int task), void *ctx);
// At most 64 tasks, task t preferably on thread t (the caller runs task 0): a task that
// streams the same part of a matrix every call finds it in its own core's cache.
void mlw_parallel_for_pinned(int ntasks, void (*body)(void *ctx, int task), void *ctx);
/// 1 when SIMD kernels (AVX2+FMA or better) are in use.
int mlw_simd_enabled(void);
/// 0 = portable C, 1 = AVX2+FMA, 2 = AVX-512F (GEMM micro-kernels; the rest stay AVX2).
/// Default: the best the CPU has, capped by $MLW_SIMD=portable|avx2.
int mlw_simd_level(void);
/// Caps the level (clamped to what the CPU supports). mlw_set_simd(0) forces portable kernels.
void mlw_set_simd(int level);

// ---- float32 GEMM (gemm_f32.c) ----
enum { MLW_BIAS_NONE = 0, MLW_BIAS_PER_COL = 1, MLW_BIAS_PER_ROW = 2 };
enum { MLW_ACT_NONE = 0, MLW_ACT_RELU = 1 };
/// C[M,N] = act(alpha * A[M,K] * B[K,N] + beta * C + bias).
/// A(i,k) = A[i*rsa + k*csa], B(k,j) = B[k*rsb + j*csb] (any strides, so transposes are free),
/// C(i,j) = C[i*ldc + j]. beta == 0 ignores the old C (may be uninitialised).
/// bias has N entries (PER_COL) or M entries (PER_ROW). Returns 0, or -1 when the
/// packing buffers cannot be allocated (C is then unspecified).
int mlw_sgemm(long M, long N, long K, float alpha,
               const float *A, long rsa, long csa,
               const float *B, long rsb, long csb,
               float beta, float *C, long ldc,
               const float *bias, int bias_mode, int act);
/// Products with at most max_rows rows (default 64, cap 128) skip packing (gemm_f32_smallm.c);
/// 0 turns that path off. For tests and benchmarks that compare the two paths.
void mlw_sgemm_set_small_m(int max_rows);

// ---- integer GEMM (gemm_i8.c) ----
/// C[M,N] (int32) = A[M,K] (int8) * B[K,N] (int8); exact. A row-major (lda), B row-major (ldb).
/// Returns 0, or -1 when out of memory.
int mlw_gemm_s8s8s32(long M, long N, long K, const int8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc);
/// Same with an unsigned A: C = A (uint8) * B (int8); exact.
int mlw_gemm_u8s8s32(long M, long N, long K, const uint8_t *A, long lda,
                      const int8_t *B, long ldb, int32_t *C, long ldc);

// ---- sparse (sparse.c) ----
/// C[M,N] = S * B where S is CSR (M rows, indptr[M+1], indices, values) and B is [K,N] row-major.
void mlw_csr_spmm(long M, long N, const int64_t *indptr, const int32_t *indices,
                  const float *values, const float *B, long ldb, float *C, long ldc);
/// Pruned dense layer (sparse_linear.c): y[M, N] = act(x[M, K] · Sᵀ + bias) where S [N, K] is
/// CSR with int32 indptr[N+1] / indices (all < K, checked by the caller) / values; bias may
/// be NULL; act is ReLU when `relu`. Returns 0, or -1 when out of memory.
int mlw_csr_linear(long M, long K, long N, const float *x, long ldx, const int32_t *indptr, const int32_t *indices,
                   const float *values, const float *bias, int relu, float *y, long ldy);

// ---- small-batch CSR layer (sparse_ell.c) ----
/// The CSR layer of mlw_csr_linear in an ELLPACK form for a few rows at a time on AVX-512
/// CPUs (x held in registers 64 inputs at a time, 16 outputs per step). NULL when it does
/// not apply: no AVX-512, a row whose indices decrease, or out of memory. indices must be
/// < K (checked by the caller); the arrays are copied, so the form must be rebuilt when the
/// weights change.
typedef struct mlw_csr_ell mlw_csr_ell;
mlw_csr_ell *mlw_csr_ell_new(long K, long N, const int32_t *indptr, const int32_t *indices, const float *values);
/// 16-lane steps per input row, padding included (the kernel's work).
long mlw_csr_ell_steps(const mlw_csr_ell *e);
void mlw_csr_ell_free(mlw_csr_ell *e);
/// y[M, N] = act(x[M, K] · Sᵀ + bias), row after row: the same sums in the same order as
/// mlw_csr_linear's batch path, so the same bits. Returns 0, or 1 (nothing written) when
/// the SIMD setting is below AVX-512.
int mlw_csr_ell_linear(const mlw_csr_ell *e, long M, const float *x, long ldx, const float *bias, int relu,
                       float *y, long ldy);

// ---- elementwise (elementwise.c) ----
enum { MLW_ADD = 0, MLW_SUB, MLW_MUL, MLW_DIV, MLW_MAX, MLW_MIN, MLW_POW };
enum { MLW_VV = 0, MLW_VS = 1, MLW_SV = 2 };
/// out[i] = a[i] op b[i] (VV), a[i] op b[0] (VS) or a[0] op b[i] (SV).
void mlw_binary_f32(int op, int mode, const float *a, const float *b, float *out, long n);
/// out[r, c] = a[r, c] op b[c] for r < rows (row broadcast, e.g. a bias).
void mlw_binary_rows_f32(int op, const float *a, const float *b, float *out, long rows, long cols);
/// out = a * b + c, all contiguous, n elements.
void mlw_fma_f32(const float *a, const float *b, const float *c, float *out, long n);

/// Transposes a rows x cols matrix of 4-byte elements: dst[j*ldd + i] = src[i*lds + j].
void mlw_transpose_32(const void *src, long rows, long cols, long lds, void *dst, long ldd);

enum { MLW_NEG = 0, MLW_ABS, MLW_EXP, MLW_LOG, MLW_SQRT, MLW_TANH, MLW_SIGMOID,
       MLW_RELU, MLW_GELU_TANH, MLW_GELU_ERF };
void mlw_unary_f32(int op, const float *x, float *out, long n);
/// out = min(max(x, lo), hi)
void mlw_clip_f32(const float *x, float *out, long n, float lo, float hi);

// ---- reductions (reduce.c) ----
/// Deterministic blocked sum (fixed 4096-element blocks, float lanes, double across blocks).
double mlw_sum_f32(const float *x, long n);
/// out[r] = sum of row r of a [rows, cols] contiguous matrix (same order as mlw_sum_f32).
void mlw_sum_rows_f32(const float *x, long rows, long cols, float *out);
/// Max / min of each row; cols must be >= 1.
void mlw_max_rows_f32(const float *x, long rows, long cols, float *out);
void mlw_min_rows_f32(const float *x, long rows, long cols, float *out);
/// Row-wise softmax / log_softmax of a [rows, cols] contiguous matrix.
void mlw_softmax_rows_f32(const float *x, long rows, long cols, float *out);
void mlw_log_softmax_rows_f32(const float *x, long rows, long cols, float *out);
/// Layer norm of each row of a [rows, cols] contiguous matrix (norm.c): mean and biased
/// variance in double, y = (x - mean) * rstd * gamma + beta. y may be x.
void mlw_layer_norm_rows_f32(const float *x, long rows, long cols, const float *gamma, const float *beta, float eps, float *y);

// ---- convolution helpers (conv.c) ----
/// im2col of one image's channel group [cg, h, w] into dst [cg*kh*kw, oh*ow] (zeros in padding).
void mlw_im2col_f32(const float *x, long cg, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long dh, long dw,
                    long oh, long ow, float *dst);
/// Stride-1 im2col over the padded width wp = w + 2*pw: dst [cg*kh*kw, oh*wp] (columns
/// past the output width are garbage, dropped after the GEMM). `padded` is scratch of
/// cg*(h+2ph)*(w+2pw) + (kw-1)*dw + 1 floats.
void mlw_im2col_padded_f32(const float *x, long cg, long h, long w, long kh, long kw, long ph, long pw,
                           long dh, long dw, long oh, float *padded, float *dst);
/// dst[r, 0..<cols] = src[r*ld + 0..<cols] for r < rows.
void mlw_compact_rows_f32(const float *src, long rows, long ld, long cols, float *dst);
/// Max (is_max=1; NaN wins) or average (padding counted in the divisor) pooling of
/// `planes` contiguous [h, w] planes into [oh, ow] planes.
void mlw_pool2d_f32(const float *x, long planes, long h, long w, long kh, long kw,
                    long sh, long sw, long ph, long pw, long oh, long ow, int is_max, float *out);

#ifdef __cplusplus
}
#endif
