// bf16 training kernels for AVX-512 BF16 (vdpbf16ps, two multiply-adds per fp32 lane, fp32 accumulation):
// the weight gradient of a GEMM-shaped layer, whose reduction runs over pixels. Both operands are
// packed first into pairs of pixels side by side (pack_pairs), the layout vdpbf16ps multiplies, so the
// tile reads each operand in place with a stride, as the fp32 gemm_tn does.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "RegNetTrainingKernels.h"

#define BT_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,fma,avx2")))
enum { BT_MR = 14 };

/// A pair of bf16 values broadcast to every 32-bit lane.
BT_ATTR static inline __m512bh bt_pair(const rn_train_bf16 *p) {
    int v;
    memcpy(&v, p, sizeof v);
    return (__m512bh)_mm512_set1_epi32(v);
}

BT_ATTR static inline __mmask16 bt_first(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// The first n lanes of v into dst, added to what is there when accumulating.
BT_ATTR static inline void bt_store(float *dst, __m512 v, size_t n, int accumulate) {
    const __mmask16 mask = bt_first(n);
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, dst));
    _mm512_mask_storeu_ps(dst, mask, v);
}

/// A 14x32 tile of C = A^T B over kp pairs of reduction steps (rn_train_gemm_tn_bf16_fn).
BT_ATTR static void gemm_tn_14x32_avx512bf16(size_t m, size_t n, size_t kp, const rn_train_bf16 *a, size_t lda,
                                             const rn_train_bf16 *b, size_t ldb, float *c, size_t ldc, int accumulate) {
    __m512 acc[BT_MR][2];
    size_t col[BT_MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < BT_MR; ++i) {
        acc[i][0] = _mm512_setzero_ps();
        acc[i][1] = _mm512_setzero_ps();
        col[i] = 2 * ((size_t)i < m ? (size_t)i : m - 1);
    }
    for (size_t p = 0; p < kp; ++p, a += lda, b += ldb) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 32);
#pragma clang loop unroll(full)
        for (int i = 0; i < BT_MR; ++i) {
            const __m512bh av = bt_pair(a + col[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
        }
    }
    const size_t width = n < RN_TRAIN_NR ? n : RN_TRAIN_NR;
#pragma clang loop unroll(full)
    for (int i = 0; i < BT_MR; ++i) {
        if ((size_t)i >= m) break;
        bt_store(c + i * ldc, acc[i][0], width, accumulate);
        if (width > 16) bt_store(c + i * ldc + 16, acc[i][1], width - 16, accumulate);
    }
}

/// Stores `cols` (<= 16) pairs: `rows` holds row 2q's values in its 16-bit lanes 0-15 and row 2q + 1's in
/// 16-31; they are interleaved value by value.
BT_ATTR static inline void bt_store_pairs(rn_train_bf16 *dst, __m512i rows, size_t cols) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __mmask32 pairs = cols >= 16 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1ull << (2 * cols)) - 1);
    _mm512_mask_storeu_epi16(dst, pairs, _mm512_permutexvar_epi16(order, rows));
}

/// Rows 2q and 2q + 1 of a float32 matrix, rounded to bf16 (nearest even) and interleaved value by
/// value (rn_train_pack_pairs_bf16_fn).
BT_ATTR static void pack_pairs_avx512bf16(size_t rows, size_t cols, const float *src, size_t src_ld, rn_train_bf16 *dst,
                                          size_t dst_ld) {
    for (size_t r = 0; r < rows; r += 2, src += 2 * src_ld, dst += dst_ld) {
        const float *second = r + 1 < rows ? src + src_ld : NULL;
        for (size_t j = 0; j < cols; j += 16) {
            const __mmask16 mask = bt_first(cols - j);
            const __m512 x0 = _mm512_maskz_loadu_ps(mask, src + j);
            const __m512 x1 = second ? _mm512_maskz_loadu_ps(mask, second + j) : _mm512_setzero_ps();
            bt_store_pairs(dst + 2 * j, (__m512i)_mm512_cvtne2ps_pbh(x1, x0), cols - j);
        }
    }
}

/// Rows 2q and 2q + 1 of a bf16 matrix interleaved value by value (rn_train_interleave_pairs_bf16_fn).
BT_ATTR static void interleave_pairs_avx512bf16(size_t rows, size_t cols, const rn_train_bf16 *src, size_t src_ld,
                                                rn_train_bf16 *dst, size_t dst_ld) {
    for (size_t r = 0; r < rows; r += 2, src += 2 * src_ld, dst += dst_ld) {
        const rn_train_bf16 *second = r + 1 < rows ? src + src_ld : NULL;
        for (size_t j = 0; j < cols; j += 16) {
            const __mmask16 mask = bt_first(cols - j);
            const __m256i x0 = _mm256_maskz_loadu_epi16(mask, src + j);
            const __m256i x1 = second ? _mm256_maskz_loadu_epi16(mask, second + j) : _mm256_setzero_si256();
            bt_store_pairs(dst + 2 * j, _mm512_inserti64x4(_mm512_castsi256_si512(x0), x1, 1), cols - j);
        }
    }
}

const rn_bf16_training_kernels rn_avx512bf16_training_kernels = {"avx512bf16", BT_MR, gemm_tn_14x32_avx512bf16,
                                                                 pack_pairs_avx512bf16, interleave_pairs_avx512bf16};
#endif
