// Micro-kernels of the training engine (backward passes and strided GEMMs): Training/template.h
// instantiated once per instruction set (avx512.c, avx2.c, neon.c, portable.c), chosen at run time like the
// inference set (Training/select.c).
#ifndef REGNET_TRAINING_KERNELS_H
#define REGNET_TRAINING_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Columns of a packed B panel in the training GEMMs.
#define RN_TRAIN_NR 32

/// GEMM tile with strided operands: for i < m (m <= the set's mr) and j < n (n <= RN_TRAIN_NR),
///   c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum_p A(i, p) * b[p * ldb + j].
/// `nn`: A(i, p) = a[i * lda + p] (rows of A contiguous). `tn`: A(i, p) = a[p * lda + i] (A stored
/// transposed, as activations are when a weight gradient reduces over pixels).
/// b: k rows of RN_TRAIN_NR readable values, `ldb` apart: a packed panel (ldb = RN_TRAIN_NR), or rows
/// of an activation or weight matrix read in place; values past n are read and ignored (buffers keep
/// RN_TRAIN_NR floats of slack). Only valid rows of A are read.
typedef void (*rn_train_gemm_fn)(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                                 float *c, size_t ldc, int accumulate);

/// Convolution weight-gradient tile for one kernel tap over `rows` rows of `np` pixels:
///   dw[c * 16 + j] += sum_{r < rows, p < np} x[r * x_row + p * x_pixel + c] * dy[r * dy_row + p * dy_pixel + j]
/// for c < ci (<= 16), j < 16. dy is read 16 lanes wide (lanes past the block's channels are computed
/// and ignored, so the buffer needs 16 readable floats past its last pixel); dw holds ci rows of 16 lanes.
typedef void (*rn_wgrad_fn)(size_t rows, size_t np, size_t ci, const float *x, size_t x_row, size_t x_pixel,
                            const float *dy, size_t dy_row, size_t dy_pixel, float *dw);

/// Weight gradient of a 3x3 convolution for one group of 8 input and 8 output channels (group width
/// 8, the narrow groups of small RegNets), all nine taps per pass with every vector lane used:
///   dw[(t * 8 + o) * 8 + i] += sum_{r < rows, p < np} x[r * x_row + p * x_pixel + ky * x_tap_row + kx * x_col + i] * dy[r * dy_row + p * dy_pixel + o]
/// for tap t = ky * 3 + kx, o < 8, i < 8. x is a zero-padded input, so every tap of every pixel is inside it.
typedef void (*rn_wgrad_3x3_g8_fn)(size_t rows, size_t np, const float *x, size_t x_row, size_t x_pixel, size_t x_tap_row,
                                   size_t x_col, const float *dy, size_t dy_row, size_t dy_pixel, float *dw);

/// Activation of a training convolution tile's epilogue (the inference set's RN_ACT_NONE / RN_ACT_RELU).
enum { RN_TRAIN_ACT_NONE = 0, RN_TRAIN_ACT_RELU = 1 };

/// Direct convolution tile over two groups of 8 channels at once (group width 8), every vector lane
/// used: xb (<= 14) output pixels; input "channel" c < ci of pixel p at tap (ky, kx) is the pair
///   in[ky * in_row + kx * in_col + p * in_pixel + 2c + h], h = 0 for group a, 1 for group b
/// (the two groups' channels interleaved); w: [kh][kw][ci][16], lane 2j + h for output channel j of
/// group h; bias: 16 values in that lane order, or NULL; act: RN_TRAIN_ACT_NONE or _RELU. Writes the
/// first co (8 or 16) of group a's 8 output channels followed by group b's at out + p * out_pixel.
typedef void (*rn_conv_pair8_fn)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in, size_t in_row,
                                 size_t in_col, size_t in_pixel, const float *w, const float *bias, float *out,
                                 size_t out_pixel, int act);

/// Copies `pixels` pixels (src_pixel apart) of `groups` groups of 8 channels into rn_conv_pair8_fn's
/// input layout (dst_pixel apart): pair q's 16 floats hold groups 2q and 2q + 1 interleaved channel
/// by channel; for an odd number of groups the last pair's second group is zeros.
typedef void (*rn_interleave_pairs8_fn)(size_t pixels, size_t groups, const float *src, size_t src_pixel, float *dst,
                                        size_t dst_pixel);

/// Weight gradient of a 3x3 convolution with at most 3 input channels (a stem reading RGB), all nine
/// taps in one pass so the output gradient is read once:
///   dw[((ky * 3 + kx) * 3 + c) * 16 + j] += sum_{p < np} x[ky * x_row + kx * x_col + p * x_pixel + c] * dy[p * dy_pixel + j]
/// for c < ci (<= 3), j < 16 (dy read 16 lanes wide).
typedef void (*rn_wgrad_stem3_fn)(size_t np, size_t ci, const float *x, size_t x_row, size_t x_col, size_t x_pixel,
                                  const float *dy, size_t dy_pixel, float *dw);

/// One instruction set's training kernels.
typedef struct {
    const char *name;   ///< "avx512", "avx2", "neon" or "portable"
    int mr;             ///< GEMM rows per tile (14 with 32 vector registers, 4 otherwise)
    rn_train_gemm_fn gemm_nn;
    rn_train_gemm_fn gemm_tn;
    rn_wgrad_fn wgrad;
    rn_wgrad_3x3_g8_fn wgrad_3x3_g8;
    rn_wgrad_stem3_fn wgrad_stem3;
    rn_conv_pair8_fn conv_pair8;
    rn_interleave_pairs8_fn interleave_pairs8;
} rn_training_kernels;

/// A bfloat16 value in the training kernels (the inference header's rn_bf16).
typedef unsigned short rn_train_bf16;

/// bf16 GEMM tile of a reduction over pixels (a weight gradient), both operands packed in pairs of
/// reduction steps (rn_train_pack_pairs_bf16_fn): for i < m (<= the set's mr), j < n (<= RN_TRAIN_NR),
///   c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum_{p < kp, h < 2} a[p * lda + 2i + h] * b[p * ldb + 2j + h]
/// with bf16 products summed in fp32. b is read RN_TRAIN_NR columns wide (2 * RN_TRAIN_NR values per
/// pair row; the buffer needs that much slack); only valid rows of a are read.
typedef void (*rn_train_gemm_tn_bf16_fn)(size_t m, size_t n, size_t kp, const rn_train_bf16 *a, size_t lda,
                                         const rn_train_bf16 *b, size_t ldb, float *c, size_t ldc, int accumulate);

/// Packs `rows` rows of `cols` floats (src_ld apart) in pairs: dst[q * dst_ld + 2j + h] = bf16(src[(2q + h) * src_ld + j])
/// rounded to nearest even, h = 0, 1; an odd row count's last pair has zeros for its second row.
typedef void (*rn_train_pack_pairs_bf16_fn)(size_t rows, size_t cols, const float *src, size_t src_ld, rn_train_bf16 *dst,
                                            size_t dst_ld);

/// rn_train_pack_pairs_bf16_fn for rows already stored as bf16 (activations only bf16 layers read): the
/// same layout, the values copied as they are.
typedef void (*rn_train_interleave_pairs_bf16_fn)(size_t rows, size_t cols, const rn_train_bf16 *src, size_t src_ld,
                                                  rn_train_bf16 *dst, size_t dst_ld);

/// The bf16 training kernels (AVX-512 BF16), beside the inference set's bf16 GEMM and convolutions.
typedef struct {
    const char *name;   ///< "avx512bf16"
    int mr;             ///< rows per gemm_tn tile
    rn_train_gemm_tn_bf16_fn gemm_tn;
    rn_train_pack_pairs_bf16_fn pack_pairs;
    rn_train_interleave_pairs_bf16_fn interleave_pairs;
} rn_bf16_training_kernels;

/// The bf16 training kernels, or NULL when this CPU has none (no AVX-512 BF16; AArch64 has none yet).
const rn_bf16_training_kernels *rn_bf16_training_kernels_for(void);

/// The CPU's vendor as CPUID reports it: 1 Intel, 2 AMD, 0 anything else (and every non-x86 CPU).
/// Whether bf16 dot products beat fp32 FMAs depends on it (see BFloat16Arithmetic).
int rn_cpu_vendor(void);

/// The training kernels for `isa` ("avx512", "avx2", "neon", "portable", or NULL/"" for the best this CPU
/// runs); NULL when the CPU cannot run the requested set.
const rn_training_kernels *rn_training_kernels_for(const char *isa);

#ifdef __cplusplus
}
#endif
#endif
