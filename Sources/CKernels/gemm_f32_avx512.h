// AVX-512 micro-kernel for gemm_f32.c (included there; chosen at run time only on
// CPUs with AVX-512F). 12 rows x 32 columns: per k step 2 loads of B, 12 broadcasts
// of A (folded into the FMAs) and 24 FMAs into 24 zmm accumulators.

MLW_AVX512 static void ukernel_avx512(long kc, const float *a, const float *b, float *c, long ldc,
                                      long rows, long cols, int first, const gemm_ctx *g) {
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_setzero_ps();
    // C is merged at the end; start fetching it now so the merge does not stall on L3.
    for (int r = 0; r < 12; r++) { _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0); }
    for (long k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(b + 32 * 8), _MM_HINT_T0);
#pragma clang loop unroll(full)
        for (int r = 0; r < 12; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
            acc[2 * r] = _mm512_fmadd_ps(av, b0, acc[2 * r]);
            acc[2 * r + 1] = _mm512_fmadd_ps(av, b1, acc[2 * r + 1]);
        }
        a += 12; b += 32;
    }
    if (rows == 12 && cols == 32) {
        __m512 alpha = _mm512_set1_ps(g->alpha), beta = _mm512_set1_ps(g->beta);
        int scale = g->alpha != 1.0f;
        for (int r = 0; r < 12; r++) {
            float *cr = c + r * ldc;
            __m512 v0 = acc[2 * r], v1 = acc[2 * r + 1];
            if (scale) { v0 = _mm512_mul_ps(v0, alpha); v1 = _mm512_mul_ps(v1, alpha); }
            if (!first) {
                v0 = _mm512_add_ps(v0, _mm512_loadu_ps(cr)); v1 = _mm512_add_ps(v1, _mm512_loadu_ps(cr + 16));
            } else if (g->beta != 0.0f) {
                v0 = _mm512_fmadd_ps(beta, _mm512_loadu_ps(cr), v0); v1 = _mm512_fmadd_ps(beta, _mm512_loadu_ps(cr + 16), v1);
            }
            _mm512_storeu_ps(cr, v0); _mm512_storeu_ps(cr + 16, v1);
        }
    } else {
        float tile[12 * 32] __attribute__((aligned(64)));
        for (int i = 0; i < 24; i++) _mm512_store_ps(tile + i * 16, acc[i]);
        store_tile_scalar(g, tile, c, rows, cols, first);
    }
}
