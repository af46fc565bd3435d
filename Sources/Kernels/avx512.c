// AVX-512 kernels: 14x32 GEMM tile (28 zmm accumulators) and 14-pixel x 16-channel convolution tiles.
#include "epilogue.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define RN_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
enum { MR = 14, NR = 32, XB = 14 };

RN_AVX512 static inline __m512 act512(__m512 v, int act) {
    return act == RN_ACT_RELU ? _mm512_max_ps(v, _mm512_setzero_ps()) : v;
}

RN_AVX512 static inline void gemm_avx512_panel(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                                               size_t col, float *const *c_rows, const float *const *r_rows,
                                               const float *bias, int act) {
    __m512 c0[MR], c1[MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < k; ++p) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; ++i) {
            const __m512 av = _mm512_set1_ps(a[i * lda]);
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
        }
        a += 1;
        b += NR;
    }
    const __mmask16 m0 = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 m1 = n >= 32 ? 0xFFFF : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
    const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i) {
        if ((size_t)i >= m) break;
        float *dst = c_rows[i] + col;
        __m512 v0 = _mm512_add_ps(c0[i], bias0), v1 = _mm512_add_ps(c1[i], bias1);
        if (r_rows) {
            const float *res = r_rows[i] + col;
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, res));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, res + 16));
        }
        _mm512_mask_storeu_ps(dst, m0, act512(v0, vector_act));
        _mm512_mask_storeu_ps(dst + 16, m1, act512(v1, vector_act));
    }
    if (act == RN_ACT_SIGMOID)
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n && j < NR; ++j) c_rows[i][col + j] = rn_activate(c_rows[i][col + j], act);
}

RN_AVX512 static void gemm_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t col,
                                  float *const *c_rows, const float *const *r_rows, const float *bias, int act) {
    for (size_t first = 0; first < n; first += NR) {
        gemm_avx512_panel(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows,
                          bias ? bias + first : NULL, act);
    }
}

RN_DEFINE_PACK(pack_avx512, RN_AVX512)

// One instantiation per tile width so the accumulators stay in registers.
#define RN_CONV_TILE(NAME, TILE)                                                                          \
    RN_AVX512 static void NAME(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in,      \
                               size_t in_row, size_t in_col, size_t in_pixel, const float *w,              \
                               const float *bias, float *out, size_t out_pixel, int act) {                 \
        __m512 acc[TILE];                                                                                  \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) acc[p] = _mm512_setzero_ps();     \
        for (size_t ky = 0; ky < kh; ++ky)                                                                 \
            for (size_t kx = 0; kx < kw; ++kx) {                                                           \
                const float *pin = in + ky * in_row + kx * in_col;                                         \
                const float *pw = w + (ky * kw + kx) * ci * RN_CONV_LANES;                                 \
                for (size_t c = 0; c < ci; ++c) {                                                          \
                    const __m512 wv = _mm512_loadu_ps(pw + c * RN_CONV_LANES);                             \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                      \
                        acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(pin[p * in_pixel + c]), wv, acc[p]);       \
                }                                                                                          \
            }                                                                                              \
        const __mmask16 mask = co >= 16 ? 0xFFFF : (__mmask16)((1u << co) - 1);                            \
        const __m512 bv = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();                             \
        const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;                                  \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                \
            if ((size_t)p >= xb) break;                                                                    \
            _mm512_mask_storeu_ps(out + p * out_pixel, mask, act512(_mm512_add_ps(acc[p], bv), vector_act)); \
        }                                                                                                  \
        if (act == RN_ACT_SIGMOID)                                                                         \
            for (size_t p = 0; p < xb; ++p)                                                                \
                for (size_t j = 0; j < co; ++j) out[p * out_pixel + j] = rn_activate(out[p * out_pixel + j], act); \
    }

RN_CONV_TILE(conv_avx512_14, 14)
RN_CONV_TILE(conv_avx512_7, 7)
RN_CONV_TILE(conv_avx512_4, 4)

RN_AVX512 static void conv_avx512(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in,
                                  size_t in_row, size_t in_col, size_t in_pixel, const float *w,
                                  const float *bias, float *out, size_t out_pixel, int act) {
    if (xb > 7) conv_avx512_14(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 4) conv_avx512_7(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else conv_avx512_4(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
}

const rn_kernels rn_avx512_kernels = {"avx512", MR, NR, XB, gemm_avx512, conv_avx512, pack_avx512};
#endif
