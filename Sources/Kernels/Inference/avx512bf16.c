// AVX-512 BF16 inference kernels: bf16 operands, fp32 accumulation with vdpbf16ps (two multiply-adds
// per lane per instruction), fp32 bias, residual, activation and output. The tiles are the fp32
// AVX-512 set's (a 14x32 GEMM tile, 14-, 7- and 4-pixel x 16-channel convolution tiles); the
// reduction runs over pairs of values, so packed operands hold adjacent reduction indices side by side.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "../epilogue.h"

#define BF_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,fma,avx2")))
enum { BF_MR = 14, BF_NR = 32 };

/// A pair of bf16 values broadcast to every 32-bit lane.
BF_ATTR static inline __m512bh bf_pair(const rn_bf16 *p) {
    int v;
    memcpy(&v, p, sizeof v);
    return (__m512bh)_mm512_set1_epi32(v);
}

BF_ATTR static inline __m512bh bf_load(const rn_bf16 *p) { return (__m512bh)_mm512_loadu_si512(p); }

BF_ATTR static inline __mmask16 bf_first(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// Adds bias (and a residual), applies ReLU and stores the first n lanes of v.
BF_ATTR static inline void bf_store(float *dst, const float *res, __m512 v, __m512 bias, size_t n, int act) {
    const __mmask16 mask = bf_first(n);
    __m512 x = _mm512_add_ps(v, bias);
    if (res) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, res));
    if (act == RN_ACT_RELU) x = _mm512_max_ps(x, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(dst, mask, x);
}

/// 16 residual values (the first lanes of mask) from element `col` of a float32 or bf16 row, as floats.
BF_ATTR static inline __m512 bf_residual(const void *row, size_t col, __mmask16 mask, int bf16) {
    if (!bf16) return _mm512_maskz_loadu_ps(mask, (const float *)row + col);
    const __m256i h = _mm256_maskz_loadu_epi16(mask, (const rn_bf16 *)row + col);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/// n floats (times n gates when g is not NULL) rounded to bf16, nearest even.
BF_ATTR static inline void bf_round(size_t n, const float *src, const float *g, rn_bf16 *dst) {
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 mask = bf_first(n - j);
        __m512 x = _mm512_maskz_loadu_ps(mask, src + j);
        if (g) x = _mm512_mul_ps(x, _mm512_maskz_loadu_ps(mask, g + j));
        _mm256_mask_storeu_epi16(dst + j, mask, (__m256i)_mm512_cvtneps_pbh(x));
    }
}

/// One panel of 32 columns: 14 rows x 2 vectors of accumulators, k (even) reduction steps two at a time.
BF_ATTR static inline void gemm_panel_14x32_avx512bf16(size_t m, size_t n, size_t k, const rn_bf16 *a, size_t lda,
                                                       const rn_bf16 *b, size_t col, void *const *c_rows,
                                                       const void *const *r_rows, const float *bias, int act,
                                                       int formats) {
    __m512 acc[BF_MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < BF_MR; ++i) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < k; p += 2) {
        const __m512bh b0 = bf_load(b), b1 = bf_load(b + 32);
#pragma clang loop unroll(full)
        for (int i = 0; i < BF_MR; ++i) {
            const __m512bh av = bf_pair(a + i * lda);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
        }
        a += 2;
        b += 2 * BF_NR;
    }
    const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
    const size_t width = n < BF_NR ? n : BF_NR;
    const __mmask16 mask0 = bf_first(width), mask1 = bf_first(width > 16 ? width - 16 : 0);
    const int out_bf16 = formats & RN_BF16_OUTPUT, res_bf16 = formats & RN_BF16_RESIDUAL;
#pragma clang loop unroll(full)
    for (int i = 0; i < BF_MR; ++i) {
        if ((size_t)i >= m) break;
        __m512 x0 = _mm512_add_ps(acc[i][0], bias0), x1 = _mm512_add_ps(acc[i][1], bias1);
        if (r_rows) {
            x0 = _mm512_add_ps(x0, bf_residual(r_rows[i], col, mask0, res_bf16));
            x1 = _mm512_add_ps(x1, bf_residual(r_rows[i], col + 16, mask1, res_bf16));
        }
        if (vector_act == RN_ACT_RELU) {
            x0 = _mm512_max_ps(x0, _mm512_setzero_ps());
            x1 = _mm512_max_ps(x1, _mm512_setzero_ps());
        }
        if (out_bf16) {
            const __mmask32 mask = width >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << width) - 1);
            _mm512_mask_storeu_epi16((rn_bf16 *)c_rows[i] + col, mask, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
        } else {
            _mm512_mask_storeu_ps((float *)c_rows[i] + col, mask0, x0);
            _mm512_mask_storeu_ps((float *)c_rows[i] + col + 16, mask1, x1);
        }
    }
    if (act == RN_ACT_SIGMOID && !out_bf16)
        for (size_t i = 0; i < m; ++i) {
            float *c = (float *)c_rows[i] + col;
            for (size_t j = 0; j < width; ++j) c[j] = rn_activate(c[j], act);
        }
}

/// GEMM row tile (see rn_gemm_bf16_fn): panel after panel.
BF_ATTR static void gemm_14x32_avx512bf16(size_t m, size_t n, size_t k, const rn_bf16 *a, size_t lda, const rn_bf16 *b,
                                          size_t col, void *const *c_rows, const void *const *r_rows, const float *bias,
                                          int act, int formats) {
    for (size_t first = 0; first < n; first += BF_NR)
        gemm_panel_14x32_avx512bf16(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows,
                                    bias ? bias + first : NULL, act, formats);
}

/// n bf16 values (times n float gates when g is not NULL, rounded again) copied.
BF_ATTR static inline void bf_copy(size_t n, const rn_bf16 *src, const float *g, rn_bf16 *dst) {
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 mask = bf_first(n - j);
        const __m256i h = _mm256_maskz_loadu_epi16(mask, src + j);
        if (g) {
            const __m512 x = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
            _mm256_mask_storeu_epi16(dst + j, mask, (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(x, _mm512_maskz_loadu_ps(mask, g + j))));
        } else {
            _mm256_mask_storeu_epi16(dst + j, mask, h);
        }
    }
}

/// Packs mr rows (float32 or bf16, gated) into bf16 rows of k rounded up to even, the pad zero (see rn_pack_bf16_fn).
BF_ATTR static void pack_rows_avx512bf16(size_t mr, size_t k, const void *const *rows, const float *const *scales,
                                         rn_bf16 *dst, int in_bf16) {
    const size_t stride = (k + 1) & ~(size_t)1;
    for (size_t i = 0; i < mr; ++i, dst += stride) {
        const float *g = scales ? scales[i] : NULL;
        if (in_bf16) bf_copy(k, (const rn_bf16 *)rows[i], g, dst);
        else bf_round(k, (const float *)rows[i], g, dst);
        if (k & 1) dst[k] = 0;
    }
}

/// n floats to bf16 (see rn_convert_bf16_fn).
BF_ATTR static void convert_avx512bf16(size_t n, const float *src, rn_bf16 *dst) { bf_round(n, src, NULL, dst); }

/// Direct convolution tile of TILE pixels x 16 channels over pairs of input channels (see rn_conv_bf16_fn).
#define BF_CONV_TILE(TILE)                                                                                     \
    BF_ATTR static void conv_##TILE##x16_avx512bf16(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,      \
                                                    const rn_bf16 *in, size_t in_row, size_t in_col,            \
                                                    size_t in_pixel, const rn_bf16 *w, const float *bias,       \
                                                    void *out, size_t out_pixel, int act, int out_bf16) {       \
        const size_t pairs = (ci + 1) / 2;                                                                     \
        __m512 acc[TILE];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) acc[p] = _mm512_setzero_ps();        \
        for (size_t ky = 0; ky < kh; ++ky)                                                                     \
            for (size_t kx = 0; kx < kw; ++kx) {                                                               \
                const rn_bf16 *pin = in + ky * in_row + kx * in_col;                                           \
                const rn_bf16 *pw = w + (ky * kw + kx) * pairs * 2 * RN_CONV_LANES;                            \
                for (size_t c = 0; c < pairs; ++c) {                                                           \
                    const __m512bh wv = bf_load(pw + c * 2 * RN_CONV_LANES);                                   \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                          \
                        acc[p] = _mm512_dpbf16_ps(acc[p], bf_pair(pin + p * in_pixel + 2 * c), wv);            \
                }                                                                                              \
            }                                                                                                  \
        const __m512 bias_v = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();                              \
        const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;                                      \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                    \
            if ((size_t)p >= xb) break;                                                                        \
            bf_store_pixel((char *)out + p * out_pixel * (out_bf16 ? 2 : 4), acc[p], bias_v, co, vector_act, out_bf16); \
        }                                                                                                      \
        if (act == RN_ACT_SIGMOID && !out_bf16)                                                                \
            for (size_t p = 0; p < xb; ++p) {                                                                  \
                float *o = (float *)out + p * out_pixel;                                                       \
                for (size_t j = 0; j < co; ++j) o[j] = rn_activate(o[j], act);                                 \
            }                                                                                                  \
    }

/// Stores one pixel's 16 accumulators (+ bias, activation) as float32 or bf16.
BF_ATTR static inline void bf_store_pixel(void *out, __m512 acc, __m512 bias, size_t co, int act, int out_bf16) {
    if (out_bf16) {
        __m512 x = _mm512_add_ps(acc, bias);
        if (act == RN_ACT_RELU) x = _mm512_max_ps(x, _mm512_setzero_ps());
        _mm256_mask_storeu_epi16((rn_bf16 *)out, bf_first(co), (__m256i)_mm512_cvtneps_pbh(x));
    } else {
        bf_store((float *)out, NULL, acc, bias, co, act);
    }
}

/// Two 7-pixel x 16-channel tiles (see rn_conv2_bf16_fn): 14 accumulators.
BF_ATTR static void conv_7x16x2_avx512bf16(size_t xb, size_t co0, size_t co1, size_t kh, size_t kw, size_t ci,
                                           const rn_bf16 *in, size_t in_next, size_t in_row, size_t in_col,
                                           size_t in_pixel, const rn_bf16 *w, size_t w_next, const float *bias,
                                           void *out, size_t out_pixel, int act, int out_bf16) {
    enum { TILE = 7 };
    const size_t pairs = (ci + 1) / 2;
    __m512 acc0[TILE], acc1[TILE];
#pragma clang loop unroll(full)
    for (int p = 0; p < TILE; ++p) { acc0[p] = _mm512_setzero_ps(); acc1[p] = _mm512_setzero_ps(); }
    for (size_t ky = 0; ky < kh; ++ky)
        for (size_t kx = 0; kx < kw; ++kx) {
            const rn_bf16 *pin = in + ky * in_row + kx * in_col;
            const rn_bf16 *pw = w + (ky * kw + kx) * pairs * 2 * RN_CONV_LANES;
            if (in_next == 0) {
                for (size_t c = 0; c < pairs; ++c) {
                    const __m512bh w0 = bf_load(pw + c * 2 * RN_CONV_LANES), w1 = bf_load(pw + w_next + c * 2 * RN_CONV_LANES);
#pragma clang loop unroll(full)
                    for (int p = 0; p < TILE; ++p) {
                        const __m512bh x = bf_pair(pin + p * in_pixel + 2 * c);
                        acc0[p] = _mm512_dpbf16_ps(acc0[p], x, w0);
                        acc1[p] = _mm512_dpbf16_ps(acc1[p], x, w1);
                    }
                }
            } else {
                for (size_t c = 0; c < pairs; ++c) {
                    const __m512bh w0 = bf_load(pw + c * 2 * RN_CONV_LANES), w1 = bf_load(pw + w_next + c * 2 * RN_CONV_LANES);
#pragma clang loop unroll(full)
                    for (int p = 0; p < TILE; ++p) {
                        acc0[p] = _mm512_dpbf16_ps(acc0[p], bf_pair(pin + p * in_pixel + 2 * c), w0);
                        acc1[p] = _mm512_dpbf16_ps(acc1[p], bf_pair(pin + in_next + p * in_pixel + 2 * c), w1);
                    }
                }
            }
        }
    const __m512 bias0 = _mm512_loadu_ps(bias), bias1 = _mm512_loadu_ps(bias + 16);
    const size_t bytes = out_bf16 ? 2 : 4;
#pragma clang loop unroll(full)
    for (int p = 0; p < TILE; ++p) {
        if ((size_t)p >= xb) break;
        char *o = (char *)out + p * out_pixel * bytes;
        bf_store_pixel(o, acc0[p], bias0, co0, act, out_bf16);
        bf_store_pixel(o + 16 * bytes, acc1[p], bias1, co1, act, out_bf16);
    }
}

BF_CONV_TILE(14)
BF_CONV_TILE(7)
BF_CONV_TILE(4)

BF_ATTR static void conv_avx512bf16(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const rn_bf16 *in,
                                    size_t in_row, size_t in_col, size_t in_pixel, const rn_bf16 *w, const float *bias,
                                    void *out, size_t out_pixel, int act, int out_bf16) {
    if (xb > 7) conv_14x16_avx512bf16(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act, out_bf16);
    else if (xb > 4) conv_7x16_avx512bf16(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act, out_bf16);
    else conv_4x16_avx512bf16(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act, out_bf16);
}

const rn_bf16_kernels rn_avx512bf16_kernels = {"avx512bf16", BF_MR, BF_NR, 14, gemm_14x32_avx512bf16, conv_avx512bf16,
                                               7, conv_7x16x2_avx512bf16, pack_rows_avx512bf16, convert_avx512bf16};
#endif
