// Kernels of the tree family (trees.c): binning, gradient/hessian histograms, split search,
// row partitioning and flattened-ensemble inference. Every reduction runs in a fixed order
// (rows ascending inside one feature's histogram; features split into fixed tasks), so
// results are bit-identical for any thread count.
#ifndef MLW_TREES_H
#define MLW_TREES_H
#include <stdint.h>

/// One histogram bin: sums of gradients, hessians and row counts.
typedef struct { double g, h, c; } mlw_hbin;

/// The best split of one feature: rows with bin <= bin go left; the missing bin goes left
/// when missing_left. gain <= 0: no valid split.
typedef struct { double gain; int32_t bin; int32_t missing_left; double lg, lh, lc; } mlw_split;

typedef struct {
    double l1, l2, min_split_gain, min_child_weight;
    int64_t min_child_samples;
} mlw_tree_params;

/// Upper bin edges of one feature from n values `stride` apart (NaN skipped), quantiles
/// over the distinct values as LightGBM does: at most max_bins edges, ascending, each a
/// value of the data except the last, +inf. Returns the number of bins (>= 1).
/// scratch: room for n floats.
int mlw_tree_bin_edges(const float *x, int64_t n, int64_t stride, int max_bins, float *upper, float *scratch);

/// Bin of each value (first b with x <= upper[b]); NaN -> nbins (the missing bin).
void mlw_tree_bin_column(const float *x, int64_t n, int64_t stride, const float *upper, int nbins, uint8_t *out);

/// Histograms of the rows `rows[0..count)` (all rows 0..nrows when rows is NULL) for every
/// feature with used[f] != 0: feature f's nbins[f] + 1 bins (the last: missing) start at
/// hist + offsets[f]. bins: column-major [nfeat][nrows]. g, h: per row.
void mlw_tree_hist(const uint8_t *bins, int64_t nrows, int nfeat, const int32_t *offsets, const int32_t *nbins,
                   const uint8_t *used, const int32_t *rows, int64_t count, const double *g, const double *h,
                   mlw_hbin *hist);

/// hist[i] = parent[i] - child[i] for n bins.
void mlw_tree_hist_sub(const mlw_hbin *parent, const mlw_hbin *child, mlw_hbin *out, int64_t n);

/// Best split of each used feature of one leaf (out[f]; unused features get gain -inf).
void mlw_tree_find_splits(const mlw_hbin *hist, int nfeat, const int32_t *offsets, const int32_t *nbins,
                          const uint8_t *used, double sum_g, double sum_h, double sum_c,
                          const mlw_tree_params *p, mlw_split *out);

/// Leaf output -ThresholdL1(G) / (H + l2).
double mlw_tree_leaf_value(double g, double h, double l1, double l2);

/// Stable partition of rows[0..count) by one split; returns the left count. tmp: count ints.
int64_t mlw_tree_partition(int32_t *rows, int64_t count, const uint8_t *col, int bin, int missing_bin,
                           int missing_left, int32_t *tmp);

/// Stable partition by a per-bin flag (left_of_bin[b] != 0: bin b goes left); returns the
/// left count. Used for categorical splits (and any split given as a bin mask).
int64_t mlw_tree_partition_mask(int32_t *rows, int64_t count, const uint8_t *col, const uint8_t *left_of_bin, int32_t *tmp);

/// Gradients and hessians of one objective at scores [n][k]:
/// 0 L2 regression, 1 binary log loss (k = 1), 2 softmax (k classes), 3 L1, 4 Huber (delta).
/// Outputs g, h: [k][n]. w: per-row weights or NULL.
void mlw_tree_gradients(int objective, int64_t n, int k, const double *score, const float *y,
                        const double *w, double delta, double *g, double *h);

/// Adds one tree (in bin space: feature, bin, missing_left, left, right per node; leaves have
/// feature -1 and their value in value[]) to score[i * k + col] for every row. A node with
/// bin < 0 is categorical: bin b goes left when cat_masks[node * 256 + b] != 0.
void mlw_tree_add_binned(const uint8_t *bins, int64_t nrows, int nfeat, const int32_t *nbins,
                         const int32_t *feature, const int32_t *bin, const uint8_t *missing_left,
                         const int32_t *left, const int32_t *right, const double *value,
                         const uint8_t *cat_masks, double *score, int k, int col);

/// Checks a flattened ensemble: nodes [m][8] (feature, threshold, left, right, value,
/// missing_left, gain, cover), trees [t][2] (root, output column). A categorical node has
/// missing_left = -(word rows) and threshold = the index of its first word row; a word row
/// has feature -2 and seven 24-bit words of the node's left-category bitset. Children come after their parent, so
/// a walk always ends. Returns 0 when valid, else 1 + the index of the first bad node
/// (or -(1 + tree) for a bad tree).
int64_t mlw_tree_check(const float *nodes, int64_t m, const float *trees, int64_t t, int64_t nfeat, int k);

/// Raw sums of the ensemble for n rows of x [n][nfeat] into out [n][k] (overwritten).
void mlw_tree_predict(const float *x, int64_t n, int64_t nfeat, const float *nodes, const float *trees,
                      int64_t t, int k, double *out);
#endif
