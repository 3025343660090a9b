// Recommender kernels (recommend.c): exact top-k over a factor matrix, the implicit ALS
// conjugate-gradient row update and its loss, the ridge row solve of explicit ALS, and a BPR
// epoch. Rows of interactions are CSR (indptr of n+1 int64, int32 column indices).
#ifndef MLW_RECOMMEND_H
#define MLW_RECOMMEND_H
#include <stdint.h>

/// For each of n user vectors U[r] (length f): the k items with the highest
/// U[r] . W[:, i] + bias[i] (W is [f, m] row-major; bias may be NULL), skipping the items
/// of CSR row seen_row[r] (seen_row[r] < 0 or seen_indptr NULL: skip nothing). Exact;
/// ties go to the lower item index. Slots past the available items get index -1.
void mlw_rec_topk(int n, int f, int m, const float *U, const float *W, const float *bias,
                  const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                  int k, int32_t *out_idx, float *out_score);

/// The same selection over precomputed scores: row r of scores ([n, m], row stride lds),
/// skipping the items of CSR row seen_row[r]; exact, ties to the lower index, -1 past the end.
void mlw_rec_select(int n, int m, const float *scores, long lds,
                    const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                    int k, int32_t *out_idx, float *out_score);

/// Implicit ALS half step (Hu-Koren-Volinsky with conjugate gradient, Takacs et al.): for
/// every row u, cg_steps CG iterations from X[u] on
///   (YtY + Y^T (C_u - I) Y) x = Y^T C_u p_u,   C_u = diag(conf), p_u = 1 on the row's items.
/// YtY must already hold Y^T Y + l2 I. Parallel over fixed chunks of rows.
void mlw_rec_als_cg(int n, int f, float *X, const float *Y, const float *YtY,
                    const int64_t *indptr, const int32_t *idx, const float *conf, int cg_steps);

/// The implicit ALS objective: sum over all (u, i) of c_ui (p_ui - x_u . y_i)^2 (c = 1
/// off the data) plus l2 (|X|^2 + |Y|^2). YtY is Y^T Y (no regularization).
double mlw_rec_als_loss(int n, int m, int f, const float *X, const float *Y, const float *YtY,
                        const int64_t *indptr, const int32_t *idx, const float *conf, float l2);

/// Ridge rows: for every row u, z = argmin sum_j (t_uj - off[j] - z . F[j])^2 + l2 |z|^2
/// over the row's columns j (F is [m, d]); rows without entries get z = 0. Out is [n, d].
void mlw_rec_ridge(int n, int d, const float *F, const float *off, const int64_t *indptr,
                   const int32_t *idx, const float *target, float l2, float *out);

/// One BPR epoch of nnz SGD steps, the algorithm of implicit's bpr_update: the (user,
/// liked) pair is a random entry, the disliked item the item of another random entry
/// (popularity-weighted negatives); with verify_negatives a disliked item the user has is
/// skipped (counted in *skipped, which may be NULL). X is [n, f] users, Y is [m, f] items;
/// the last column of X is held at 1 so the last column of Y is an item bias. Rows'
/// indices must be sorted. Single thread: the same seed gives the same bits. Returns the
/// fraction of the pairs not skipped that were already ranked correctly.
double mlw_rec_bpr_epoch(int n, int m, int f, float *X, float *Y, const int64_t *indptr,
                         const int32_t *idx, const int32_t *row_of, int64_t nnz,
                         float lr, float l2, int verify_negatives, uint64_t seed, int64_t *skipped);
/// Item kNN by sparse co-occurrence (implicit's all_pairs_knn): for every item i, the sum
/// over the users u who have i of item_w[(i, u)] * user_w[(u, j)] for each item j of u
/// (the item itself included), accumulated in double, then its k best j by a heap (ties to
/// the lower index). item_* is the by-item CSR (entries carry item_w), user_* the by-user
/// CSR (entries carry user_w). Row i of the output is out_idx/out_val[i*k .. i*k+k),
/// best first, out_count[i] of them used. Parallel over fixed chunks of items.
void mlw_rec_item_knn(int ni, int k, const int64_t *item_indptr, const int32_t *item_users, const float *item_w,
                      const int64_t *user_indptr, const int32_t *user_items, const float *user_w,
                      int32_t *out_idx, float *out_val, int32_t *out_count);

/// Item-kNN top-k (the sparse item_knn model): for each of n users, the scores are the sum
/// over the items j of CSR row rows[r] (rows[r] < 0: none) of value_j times item j's
/// similarity row (nbr/sim [m, kn], row-major; neighbour -1 or out of range: padding),
/// then the k best as mlw_rec_topk picks them (seen items of seen_row[r] skipped, ties to
/// the lower index, -1 past the end); untouched items score 0. Equal to mlw_rec_topk over
/// the dense rows and similarity matrix. Returns 0, or -1 when scratch memory ran out.
int mlw_rec_knn_topk(int n, int m, int kn, const int64_t *row_indptr, const int32_t *row_idx, const float *row_val,
                     const int32_t *rows, const int32_t *nbr, const float *sim,
                     const int64_t *seen_indptr, const int32_t *seen_idx, const int32_t *seen_row,
                     int k, int32_t *out_idx, float *out_score);

/// The same scores as a dense [n, m] output from dense user rows [n, m]; neighbours are
/// float item indices here (the graph's params), those outside 0..<m skipped.
void mlw_rec_knn_dense(int n, int m, int kn, const float *rows, const float *nbr, const float *sim, float *out);
#endif
