// Dataset columns (float64, one array per column) to a row-major float32 matrix: the
// transposition every train()/to_tensors call on a dataset starts with.
#include "include/train_kernels.h"
#include "include/ckernels.h"
#include "internal.h"
#include <immintrin.h>

#define TILE 16   // 16 columns x 16 rows: 16 reads of 128 contiguous bytes, 16 whole-line writes
#define BLOCK 64  // rows per pass over all columns: the output block (64 rows) stays in L2

// A full 16 x 16 tile on AVX-512: each column's 16 doubles convert to one vector of 16
// floats in a small tile; each output row gathers its 16 values back out of it (in L1).
MLW_AVX512 static void tile_avx512(const double *const *cols, long k0, long i0, float *dst, long ld) {
    float tile[TILE][TILE] __attribute__((aligned(64)));
    for (int k = 0; k < TILE; k++) {
        const double *s = cols[k0 + k] + i0;
        __m256 lo = _mm512_cvtpd_ps(_mm512_loadu_pd(s)), hi = _mm512_cvtpd_ps(_mm512_loadu_pd(s + 8));
        _mm256_store_ps(tile[k], lo);
        _mm256_store_ps(tile[k] + 8, hi);
    }
    const __m512i idx = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
    for (int i = 0; i < TILE; i++) _mm512_storeu_ps(dst + (i0 + i) * ld, _mm512_i32gather_ps(idx, &tile[0][i], 4));
}

static void tile_portable(const double *const *cols, long k0, long kn, long i0, long in, float *dst, long ld) {
    for (long i = i0; i < i0 + in; i++)
        for (long k = 0; k < kn; k++) dst[i * ld + k] = (float)cols[k0 + k][i];
}

void mlw_columns_to_rows_f64(const double *const *cols, const long *at, long ncols, long rows, float *dst, long ld) {
    int avx512 = mlw_simd_level() == 2;
    for (long b0 = 0; b0 < rows; b0 += BLOCK) {
        long b1 = mlw_min_l(rows, b0 + BLOCK);
        for (long k0 = 0; k0 < ncols; k0 += TILE) {
            long kn = mlw_min_l(TILE, ncols - k0);
            // The vector tile needs 16 columns that land side by side in the output.
            int contiguous = kn == TILE && at[k0 + TILE - 1] - at[k0] == TILE - 1;
            for (long i0 = b0; i0 < b1; i0 += TILE) {
                long in = mlw_min_l(TILE, b1 - i0);
                if (contiguous && avx512 && in == TILE) tile_avx512(cols, k0, i0, dst + at[k0], ld);
                else if (contiguous) tile_portable(cols, k0, kn, i0, in, dst + at[k0], ld);
                else for (long k = 0; k < kn; k++)
                    for (long i = i0; i < i0 + in; i++) dst[i * ld + at[k0 + k]] = (float)cols[k0 + k][i];
            }
        }
    }
}
