// Kernels of the classical models (classical.c, select.c): float64 products for the
// normal equations and logistic gradients, Cholesky, the symmetric Jacobi
// eigendecomposition (PCA), and row-wise selection (argmin, top-k) for k-means and kNN.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[d, d] = X' diag(w) X for X [n, d] row-major (w NULL: all ones). Symmetric, full.
void mlw_gram_f64(const double *x, long n, long d, const double *w, double *out);
/// out[n, c] = X[n, d] @ W[d, c] (+ b[c] when b is not NULL).
void mlw_matmul_f64(const double *x, long n, long d, const double *wt, long c, const double *b, double *out);
/// out[d, c] = X[n, d]' @ R[n, c].
void mlw_matmul_tn_f64(const double *x, long n, long d, const double *r, long c, double *out);
/// In-place Cholesky A = L L' of a symmetric [n, n] matrix (L in the lower triangle).
/// Returns 0, or the 1-based column where a pivot was not positive (not positive definite)
/// or smaller than rel_tol times the largest diagonal entry (ill-conditioned).
long mlw_cholesky_f64(double *a, long n, double rel_tol);
/// Solves L L' x = b in place (b [n]) with the factor from mlw_cholesky_f64.
void mlw_cholesky_solve_f64(const double *l, long n, double *b);
/// Least squares min ||A x - b|| by Householder QR with column pivoting; A [m, n] (m >= n)
/// and b [m] are overwritten. Columns whose pivot falls below rcond times the first are
/// dropped (their coefficient is 0: a basic solution). x [n]. Returns the rank.
long mlw_lstsq_qr_f64(double *a, long m, long n, double *b, double rcond, double *x);
/// Eigendecomposition of a symmetric [n, n] matrix by cyclic Jacobi rotations: a is
/// destroyed; evals [n] descending, evecs [n, n] with eigenvector i in column i.
/// Returns the sweeps used (max_sweeps when it did not converge).
int mlw_jacobi_eigen_f64(double *a, long n, double *evals, double *evecs, int max_sweeps);

/// Row-wise arg-min of x [rows, cols] (the first on ties) into idx, and the minimum into
/// minval when not NULL.
void mlw_argmin_rows_f32(const float *x, long rows, long cols, int32_t *idx, float *minval);
/// Row-wise top-k of x [rows, cols] by partial selection: the k largest (smallest when
/// smallest != 0) in order, best first, ties to the lower column. idx [rows, k], val [rows, k].
void mlw_topk_rows_f32(const float *x, long rows, long cols, long k, int smallest, int32_t *idx, float *val);

#ifdef __cplusplus
}
#endif
