// AVX2 + FMA kernels: 6x16 GEMM tile (12 ymm accumulators) and 6-pixel x 16-channel convolution tiles.
#include "epilogue.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define RN_AVX2 __attribute__((target("avx2,fma")))
enum { MR = 6, NR = 16, XB = 6 };

RN_AVX2 static inline __m256i lane_mask(size_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)), index);
}

RN_AVX2 static inline __m256 act256(__m256 v, int act) {
    return act == RN_ACT_RELU ? _mm256_max_ps(v, _mm256_setzero_ps()) : v;
}

RN_AVX2 static inline void store16(float *dst, const float *res, __m256 v0, __m256 v1, __m256 bias0, __m256 bias1,
                                   size_t n, int act) {
    const __m256i k0 = lane_mask(n), k1 = lane_mask(n > 8 ? n - 8 : 0);
    v0 = _mm256_add_ps(v0, bias0);
    v1 = _mm256_add_ps(v1, bias1);
    if (res) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(res, k0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(res + 8, k1));
    }
    _mm256_maskstore_ps(dst, k0, act256(v0, act));
    _mm256_maskstore_ps(dst + 8, k1, act256(v1, act));
}

RN_AVX2 static inline void gemm_avx2_panel(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                                           size_t col, float *const *c_rows, const float *const *r_rows,
                                           const float *bias, int act) {
    __m256 c0[MR], c1[MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    for (size_t p = 0; p < k; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; ++i) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
        a += 1;
        b += NR;
    }
    const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i) {
        if ((size_t)i >= m) break;
        store16(c_rows[i] + col, r_rows ? r_rows[i] + col : NULL, c0[i], c1[i], bias0, bias1, n, vector_act);
    }
    if (act == RN_ACT_SIGMOID)
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n && j < NR; ++j) c_rows[i][col + j] = rn_activate(c_rows[i][col + j], act);
}

RN_AVX2 static void gemm_avx2(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t col,
                              float *const *c_rows, const float *const *r_rows, const float *bias, int act) {
    for (size_t first = 0; first < n; first += NR) {
        gemm_avx2_panel(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows, bias ? bias + first : NULL, act);
    }
}

RN_DEFINE_PACK(pack_avx2, RN_AVX2)

RN_AVX2 static void conv_avx2(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in,
                              size_t in_row, size_t in_col, size_t in_pixel, const float *w,
                              const float *bias, float *out, size_t out_pixel, int act) {
    __m256 a0[XB], a1[XB];
#pragma clang loop unroll(full)
    for (int p = 0; p < XB; ++p) { a0[p] = _mm256_setzero_ps(); a1[p] = _mm256_setzero_ps(); }
    for (size_t ky = 0; ky < kh; ++ky)
        for (size_t kx = 0; kx < kw; ++kx) {
            const float *pin = in + ky * in_row + kx * in_col;
            const float *pw = w + (ky * kw + kx) * ci * RN_CONV_LANES;
            for (size_t c = 0; c < ci; ++c) {
                const __m256 w0 = _mm256_loadu_ps(pw + c * RN_CONV_LANES), w1 = _mm256_loadu_ps(pw + c * RN_CONV_LANES + 8);
#pragma clang loop unroll(full)
                for (int p = 0; p < XB; ++p) {
                    const __m256 x = _mm256_broadcast_ss(pin + p * in_pixel + c);
                    a0[p] = _mm256_fmadd_ps(x, w0, a0[p]);
                    a1[p] = _mm256_fmadd_ps(x, w1, a1[p]);
                }
            }
        }
    const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
#pragma clang loop unroll(full)
    for (int p = 0; p < XB; ++p) {
        if ((size_t)p >= xb) break;
        store16(out + p * out_pixel, NULL, a0[p], a1[p], bias0, bias1, co, vector_act);
    }
    if (act == RN_ACT_SIGMOID)
        for (size_t p = 0; p < xb; ++p)
            for (size_t j = 0; j < co; ++j) out[p * out_pixel + j] = rn_activate(out[p * out_pixel + j], act);
}

const rn_kernels rn_avx2_kernels = {"avx2", MR, NR, XB, gemm_avx2, conv_avx2, pack_avx2};
#endif
