// AVX-512 inference kernels: the template with 16-float zmm vectors and mask registers; a 14x32 GEMM
// tile (28 accumulators) and 14-, 7- and 4-pixel x 16-channel convolution tiles.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define IK_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define IK_ISA avx512
#define IK_VEC __m512
#define IK_VLEN 16
#define IK_MASK __mmask16
#define IK_ZERO() _mm512_setzero_ps()
#define IK_LOAD(p) _mm512_loadu_ps(p)
#define IK_SET1(x) _mm512_set1_ps(x)
#define IK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define IK_ADD(a, b) _mm512_add_ps(a, b)
#define IK_RELU(v) _mm512_max_ps(v, _mm512_setzero_ps())
#define IK_FIRST(n) ((n) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n)) - 1))
#define IK_MASKZ_LOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define IK_MASK_STORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define IK_MR 14
#define IK_GEMM gemm_14x32_avx512
#define IK_PANEL gemm_panel_14x32_avx512
#define IK_PACK pack_rows_avx512
#include "template.h"

IK_CONV_TILE(14)
IK_CONV_TILE(7)
IK_CONV_TILE(4)

IK_ATTR static void conv_avx512(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in, size_t in_row,
                                size_t in_col, size_t in_pixel, const float *w, const float *bias, float *out,
                                size_t out_pixel, int act) {
    if (xb > 7) conv_14x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 4) conv_7x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else conv_4x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
}

const rn_kernels rn_avx512_kernels = {"avx512", IK_MR, IK_NR, 14, IK_GEMM, conv_avx512, IK_PACK};
#endif
