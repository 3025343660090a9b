// Row-wise selection for k-means (argmin over centroid distances) and kNN / recommenders
// (top-k by partial selection: a k-entry sorted buffer per row, O(cols * log k)-ish with
// early rejection, exact, ties to the lower column).
#include "classical.h"
#include <stdlib.h>

void mlw_argmin_rows_f32(const float *x, long rows, long cols, int32_t *idx, float *minval) {
    for (long i = 0; i < rows; i++) {
        const float *r = x + i * cols;
        long best = 0; float bv = r[0];
        for (long j = 1; j < cols; j++) if (r[j] < bv) { bv = r[j]; best = j; }
        idx[i] = (int32_t)best;
        if (minval) minval[i] = bv;
    }
}

// a is better than b (a strictly first in the order), values compared in the wanted direction.
static inline int better(float a, float b, int smallest) { return smallest ? a < b : a > b; }

void mlw_topk_rows_f32(const float *x, long rows, long cols, long k, int smallest, int32_t *idx, float *val) {
    if (k > cols) k = cols;
    for (long i = 0; i < rows; i++) {
        const float *r = x + i * cols;
        int32_t *ri = idx + i * k; float *rv = val + i * k;
        long filled = 0;
        for (long j = 0; j < cols; j++) {
            float v = r[j];
            // Later columns lose ties, so a value must be strictly better than the worst kept.
            if (filled == k && !better(v, rv[k - 1], smallest)) continue;
            long pos = filled < k ? filled : k - 1;
            while (pos > 0 && better(v, rv[pos - 1], smallest)) {
                rv[pos] = rv[pos - 1]; ri[pos] = ri[pos - 1]; pos--;
            }
            rv[pos] = v; ri[pos] = (int32_t)j;
            if (filled < k) filled++;
        }
    }
}
