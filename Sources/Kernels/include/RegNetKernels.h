// Innermost SIMD micro-kernels for the RegNet executor, one instruction set per file, chosen at run time.
// Kernels take raw pointers, sizes and strides only; tiling, packing, threading and fusion live in Swift.
#ifndef REGNET_KERNELS_H
#define REGNET_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Activation applied in a kernel's epilogue.
enum { RN_ACT_NONE = 0, RN_ACT_RELU = 1, RN_ACT_SIGMOID = 2 };

/// Output channels per convolution tile (one 16-lane vector on AVX-512).
#define RN_CONV_LANES 16

/// GEMM row tile over a block of panels: for i < m (m <= mr) and j < n,
///   c_rows[i][col + j] = act(A[i, 0..<k] · B[:, j] + bias[j] + r_rows[i][col + j]).
/// A: row i at a + i * lda, k contiguous values; all mr rows must be readable (rows >= m are ignored).
/// B: ceil(n / nr) packed panels [k][nr], zero-padded, one after another. bias: n values padded to
/// whole panels, or NULL. r_rows: NULL or m residual row pointers.
typedef void (*rn_gemm_fn)(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t col,
                           float *const *c_rows, const float *const *r_rows, const float *bias, int act);

/// Packs mr rows of k values into dst (row-major, stride k): dst row i = rows[i] (· scales[i] when
/// scales is not NULL). Gathers strided or padded inputs and applies squeeze-excite gates.
typedef void (*rn_pack_fn)(size_t mr, size_t k, const float *const *rows, const float *const *scales, float *dst);

/// Direct convolution tile: xb output pixels (xb <= the kernel's xb) by co (<= 16) output channels.
/// in: input at the top-left tap of pixel 0 and the first input channel of the group;
///     tap (ky, kx) of pixel p, channel c is in[ky * in_row + kx * in_col + p * in_pixel + c].
/// w: packed [kh][kw][ci][16], zero-padded lanes. bias: 16 values or NULL.
/// out: pixel p's first channel at out + p * out_pixel.
typedef void (*rn_conv_fn)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,
                           const float *in, size_t in_row, size_t in_col, size_t in_pixel,
                           const float *w, const float *bias, float *out, size_t out_pixel, int act);

/// A set of micro-kernels for one instruction set, with the tile sizes the operators must use.
typedef struct {
    const char *name;   ///< "avx512", "avx2" or "portable"
    int mr;             ///< GEMM rows per tile
    int nr;             ///< GEMM columns per packed panel
    int xb;             ///< convolution pixels per tile
    rn_gemm_fn gemm;
    rn_conv_fn conv;
    rn_pack_fn pack;
} rn_kernels;

/// The kernels for `isa` ("avx512", "avx2", "portable", or NULL/"" for the best this CPU runs);
/// NULL when the CPU cannot run the requested set.
const rn_kernels *rn_kernels_for(const char *isa);

#ifdef __cplusplus
}
#endif
#endif
