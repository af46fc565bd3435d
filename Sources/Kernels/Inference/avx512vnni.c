// AVX-512 VNNI inference kernels: uint8 activations (zero point 0: the inputs quantised are never
// negative) times int8 weights with vpdpbusd (four multiply-adds per 32-bit lane), int32 accumulation,
// then a float32 epilogue: per-output-channel scale (activation scale x weight scale), bias, residual,
// ReLU, and a float32 or requantised uint8 store. The tiles are the fp32 AVX-512 set's (14x32 GEMM;
// 14-, 7- and 4-pixel x 16-channel convolution); the reduction runs over quads of values.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "../epilogue.h"

#define Q_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,fma,avx2")))
enum { Q_MR = 14, Q_NR = 32 };

/// Four consecutive bytes broadcast to every 32-bit lane.
Q_ATTR static inline __m512i q_quad(const unsigned char *p) {
    int v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

Q_ATTR static inline __mmask16 q_first(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// x / scale rounded to nearest even and saturated to [0, 255], as 16 bytes.
Q_ATTR static inline __m128i q_quantize(__m512 x, __m512 inverse_scale) {
    const __m512i q = _mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x, inverse_scale)), _mm512_setzero_si512());
    return _mm512_cvtusepi32_epi8(q);
}

/// acc x scale + bias (+ residual), ReLU, stored as n float32 or uint8 values.
Q_ATTR static inline void q_store(void *dst, const float *res, __m512i acc, __m512 scale, __m512 bias, size_t n, int act,
                                  int out_u8, __m512 out_inverse_scale) {
    const __mmask16 mask = q_first(n);
    __m512 x = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), scale, bias);
    if (res) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, res));
    if (act == RN_ACT_RELU) x = _mm512_max_ps(x, _mm512_setzero_ps());
    if (out_u8) _mm_mask_storeu_epi8(dst, mask, q_quantize(x, out_inverse_scale));
    else _mm512_mask_storeu_ps(dst, mask, x);
}

/// One panel of 32 columns: 14 rows x 2 vectors of int32 accumulators, k (a multiple of 4) four at a time.
Q_ATTR static inline void gemm_panel_14x32_avx512vnni(size_t m, size_t n, size_t k, const unsigned char *a, size_t lda,
                                                      const signed char *b, size_t col, void *const *c_rows,
                                                      const float *const *r_rows, const float *scale, const float *bias,
                                                      int act, int out_u8, float out_scale) {
    __m512i acc[Q_MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < Q_MR; ++i) { acc[i][0] = _mm512_setzero_si512(); acc[i][1] = _mm512_setzero_si512(); }
    for (size_t p = 0; p < k; p += 4) {
        const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64);
#pragma clang loop unroll(full)
        for (int i = 0; i < Q_MR; ++i) {
            const __m512i av = q_quad(a + i * lda);
            acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], av, b1);
        }
        a += 4;
        b += 4 * Q_NR;
    }
    const __m512 scale0 = _mm512_loadu_ps(scale), scale1 = _mm512_loadu_ps(scale + 16);
    const __m512 bias0 = _mm512_loadu_ps(bias), bias1 = _mm512_loadu_ps(bias + 16);
    const __m512 inverse = _mm512_set1_ps(out_u8 ? 1.0f / out_scale : 0.0f);
    const size_t width = n < Q_NR ? n : Q_NR, bytes = out_u8 ? 1 : 4;
#pragma clang loop unroll(full)
    for (int i = 0; i < Q_MR; ++i) {
        if ((size_t)i >= m) break;
        const float *res = r_rows ? r_rows[i] + col : NULL;
        char *c = (char *)c_rows[i] + col * bytes;
        q_store(c, res, acc[i][0], scale0, bias0, width, act, out_u8, inverse);
        q_store(c + 16 * bytes, res ? res + 16 : NULL, acc[i][1], scale1, bias1, width > 16 ? width - 16 : 0, act, out_u8, inverse);
    }
    if (act == RN_ACT_SIGMOID && !out_u8)
        for (size_t i = 0; i < m; ++i) {
            float *c = (float *)c_rows[i] + col;
            for (size_t j = 0; j < width; ++j) c[j] = rn_activate(c[j], act);
        }
}

/// int8 GEMM row tile (see rn_gemm_int8_fn): panel after panel.
Q_ATTR static void gemm_14x32_avx512vnni(size_t m, size_t n, size_t k, const unsigned char *a, size_t lda, const signed char *b,
                                         size_t col, void *const *c_rows, const float *const *r_rows, const float *scale,
                                         const float *bias, int act, int out_u8, float out_scale) {
    for (size_t first = 0; first < n; first += Q_NR)
        gemm_panel_14x32_avx512vnni(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows, scale + first,
                                    bias + first, act, out_u8, out_scale);
}

/// n float32 values (times n gates when g is not NULL) quantised to uint8 with 1 / scale.
Q_ATTR static inline void q_round(size_t n, const float *src, const float *g, __m512 inverse, unsigned char *dst) {
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 mask = q_first(n - j);
        __m512 x = _mm512_maskz_loadu_ps(mask, src + j);
        if (g) x = _mm512_mul_ps(x, _mm512_maskz_loadu_ps(mask, g + j));
        _mm_mask_storeu_epi8(dst + j, mask, q_quantize(x, inverse));
    }
}

/// Packs mr rows (float32, or uint8 with in_u8; gated) into uint8 rows of k rounded up to a multiple of 4,
/// the pad zero (see rn_pack_int8_fn).
Q_ATTR static void pack_rows_avx512vnni(size_t mr, size_t k, const void *const *rows, const float *const *scales,
                                        unsigned char *dst, int in_u8, float scale) {
    const size_t stride = (k + 3) & ~(size_t)3;
    const __m512 inverse = _mm512_set1_ps(1.0f / scale), one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < mr; ++i, dst += stride) {
        const float *g = scales ? scales[i] : NULL;
        if (!in_u8) {
            q_round(k, (const float *)rows[i], g, inverse, dst);
        } else if (!g) {
            memcpy(dst, rows[i], k);
        } else {
            const unsigned char *src = (const unsigned char *)rows[i];
            for (size_t j = 0; j < k; j += 16) {
                const __mmask16 mask = q_first(k - j);
                const __m512 x = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, src + j)));
                _mm_mask_storeu_epi8(dst + j, mask, q_quantize(_mm512_mul_ps(x, _mm512_maskz_loadu_ps(mask, g + j)), one));
            }
        }
        for (size_t j = k; j < stride; ++j) dst[j] = 0;
    }
}

/// n float32 values to uint8 with 1 / scale (see rn_convert_int8_fn).
Q_ATTR static void convert_avx512vnni(size_t n, const float *src, unsigned char *dst, float scale) {
    q_round(n, src, NULL, _mm512_set1_ps(1.0f / scale), dst);
}

/// Direct convolution tile of TILE pixels x 16 channels over quads of input channels (see rn_conv_int8_fn).
#define Q_CONV_TILE(TILE)                                                                                      \
    Q_ATTR static void conv_##TILE##x16_avx512vnni(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,       \
                                                   const unsigned char *in, size_t in_row, size_t in_col,             \
                                                   size_t in_pixel, const signed char *w, const float *scale,        \
                                                   const float *bias, void *out, size_t out_pixel, int act,     \
                                                   int out_u8, float out_scale) {                               \
        const size_t quads = (ci + 3) / 4;                                                                     \
        __m512i acc[TILE];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) acc[p] = _mm512_setzero_si512();     \
        for (size_t ky = 0; ky < kh; ++ky)                                                                     \
            for (size_t kx = 0; kx < kw; ++kx) {                                                               \
                const unsigned char *pin = in + ky * in_row + kx * in_col;                                           \
                const signed char *pw = w + (ky * kw + kx) * quads * 4 * RN_CONV_LANES;                             \
                for (size_t c = 0; c < quads; ++c) {                                                           \
                    const __m512i wv = _mm512_loadu_si512(pw + c * 4 * RN_CONV_LANES);                         \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                          \
                        acc[p] = _mm512_dpbusd_epi32(acc[p], q_quad(pin + p * in_pixel + 4 * c), wv);          \
                }                                                                                              \
            }                                                                                                  \
        const __m512 scale_v = _mm512_loadu_ps(scale), bias_v = _mm512_loadu_ps(bias);                          \
        const __m512 inverse = _mm512_set1_ps(out_u8 ? 1.0f / out_scale : 0.0f);                               \
        const size_t bytes = out_u8 ? 1 : 4;                                                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                    \
            if ((size_t)p >= xb) break;                                                                        \
            q_store((char *)out + p * out_pixel * bytes, NULL, acc[p], scale_v, bias_v, co, act, out_u8, inverse); \
        }                                                                                                      \
        if (act == RN_ACT_SIGMOID && !out_u8)                                                                  \
            for (size_t p = 0; p < xb; ++p) {                                                                  \
                float *o = (float *)out + p * out_pixel;                                                       \
                for (size_t j = 0; j < co; ++j) o[j] = rn_activate(o[j], act);                                 \
            }                                                                                                  \
    }

Q_CONV_TILE(14)
Q_CONV_TILE(7)
Q_CONV_TILE(4)

Q_ATTR static void conv_avx512vnni(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const unsigned char *in, size_t in_row,
                                   size_t in_col, size_t in_pixel, const signed char *w, const float *scale, const float *bias,
                                   void *out, size_t out_pixel, int act, int out_u8, float out_scale) {
    if (xb > 7) conv_14x16_avx512vnni(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, scale, bias, out, out_pixel, act, out_u8, out_scale);
    else if (xb > 4) conv_7x16_avx512vnni(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, scale, bias, out, out_pixel, act, out_u8, out_scale);
    else conv_4x16_avx512vnni(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, scale, bias, out, out_pixel, act, out_u8, out_scale);
}

const rn_int8_kernels rn_avx512vnni_kernels = {"avx512vnni", Q_MR, Q_NR, 14, gemm_14x32_avx512vnni, conv_avx512vnni,
                                               pack_rows_avx512vnni, convert_avx512vnni};
#endif
