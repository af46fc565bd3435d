// Innermost SIMD micro-kernels for the RegNet executor, one instruction set per file, chosen at run time.
// Kernels take raw pointers, sizes and strides only: GEMM and convolution tiles with their epilogues,
// and the packing of a GEMM tile's rows (copied, gated, rounded or quantised on the way). Tiling,
// weight layouts, threading and fusion live in Swift.
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

/// A bfloat16 value: the upper 16 bits of a float (round to nearest even when narrowing).
typedef unsigned short rn_bf16;

/// Element formats of a bf16 GEMM's output and residual rows (float32 unless the flag is set).
enum { RN_BF16_OUTPUT = 1, RN_BF16_RESIDUAL = 2 };

/// bf16 GEMM row tile, as rn_gemm_fn with bf16 operands and fp32 accumulation: k is even (odd depths
/// are padded with a zero), A rows hold k bf16 values, and B's panels are [k / 2][nr][2] (reduction
/// indices 2p and 2p + 1 of a column side by side). With RN_BF16_OUTPUT in formats, c_rows point at
/// bf16 rows and the result is rounded to bf16 as it is stored (act must then not be RN_ACT_SIGMOID);
/// with RN_BF16_RESIDUAL, r_rows point at bf16 rows.
typedef void (*rn_gemm_bf16_fn)(size_t m, size_t n, size_t k, const rn_bf16 *a, size_t lda, const rn_bf16 *b,
                                size_t col, void *const *c_rows, const void *const *r_rows, const float *bias, int act,
                                int formats);

/// As rn_pack_fn, to bf16: each dst row holds k rounded up to even values, the pad zero. The rows are
/// float32 (rounded as they are copied), or bf16 with in_bf16; scales are float32 either way.
typedef void (*rn_pack_bf16_fn)(size_t mr, size_t k, const void *const *rows, const float *const *scales, rn_bf16 *dst,
                                int in_bf16);

/// As rn_conv_fn with a bf16 input (strides in bf16 elements) and bf16 weights packed
/// [kh][kw][ceil(ci / 2)][16][2] (input channels 2c and 2c + 1 of a lane side by side, a zero for an odd
/// count's last). With an odd ci, each pixel's read runs one channel past its last (multiplied by zero).
/// With out_bf16, out is bf16 (rounded as stored; act must then not be RN_ACT_SIGMOID).
typedef void (*rn_conv_bf16_fn)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,
                                const rn_bf16 *in, size_t in_row, size_t in_col, size_t in_pixel,
                                const rn_bf16 *w, const float *bias, void *out, size_t out_pixel, int act, int out_bf16);

/// Two rn_conv_bf16_fn tiles at once, for narrow outputs where one tile's few accumulators would leave
/// the dot-product units waiting: the second tile (co1 channels) reads its input at in + in_next, its
/// weights at w + w_next, its bias at bias + 16 and writes at out + 16 (out elements). in_next is 0 for
/// the next 16-channel block of the same group (the broadcasts are then shared), or the group width
/// for the next group. act must not be RN_ACT_SIGMOID.
typedef void (*rn_conv2_bf16_fn)(size_t xb, size_t co0, size_t co1, size_t kh, size_t kw, size_t ci,
                                 const rn_bf16 *in, size_t in_next, size_t in_row, size_t in_col, size_t in_pixel,
                                 const rn_bf16 *w, size_t w_next, const float *bias, void *out, size_t out_pixel,
                                 int act, int out_bf16);

/// Rounds n floats to bf16 (nearest even).
typedef void (*rn_convert_bf16_fn)(size_t n, const float *src, rn_bf16 *dst);

/// The bf16 micro-kernels (AVX-512 BF16 or AArch64 BF16) and their tile sizes.
typedef struct {
    const char *name;   ///< "avx512bf16" or "neonbf16"
    int mr;             ///< GEMM rows per tile
    int nr;             ///< GEMM columns per packed panel
    int xb;             ///< convolution pixels per tile
    rn_gemm_bf16_fn gemm;
    rn_conv_bf16_fn conv;
    int xb2;            ///< pixels per tile of conv2 (outputs at most this wide use it); 0 when there is none
    rn_conv2_bf16_fn conv2;   ///< NULL when xb2 is 0
    rn_pack_bf16_fn pack;
    rn_convert_bf16_fn convert;
} rn_bf16_kernels;

/// The bf16 kernels, or NULL when the CPU has no bf16 dot-product instructions (vdpbf16ps, bfdot).
const rn_bf16_kernels *rn_bf16_kernels_for(void);

/// int8 GEMM row tile (AVX-512 VNNI vpdpbusd, AArch64 usdot or sdot): uint8 A (zero point 0) times int8 B, int32 accumulation, then
/// c = act(acc x scale[j] + bias[j] + residual) for j < n. k is a multiple of 4 (depths padded with
/// zeros), A rows hold k bytes, B's panels are [k / 4][nr][4] (reduction indices 4p..4p+3 of a column
/// side by side). scale and bias hold n values padded to whole panels. c_rows point at float32 rows,
/// or with out_u8 at uint8 rows, stored as round(c / out_scale) saturated to [0, 255] (act must then
/// not be RN_ACT_SIGMOID).
typedef void (*rn_gemm_int8_fn)(size_t m, size_t n, size_t k, const unsigned char *a, size_t lda, const signed char *b,
                                size_t col, void *const *c_rows, const float *const *r_rows, const float *scale,
                                const float *bias, int act, int out_u8, float out_scale);

/// As rn_pack_fn, to uint8: each dst row holds k rounded up to a multiple of 4 values, the pad zero.
/// Float32 rows (gated) are quantised with 1 / scale; uint8 rows (in_u8) are copied, or multiplied by
/// their gates and rounded again (the same scale).
typedef void (*rn_pack_int8_fn)(size_t mr, size_t k, const void *const *rows, const float *const *scales,
                                unsigned char *dst, int in_u8, float scale);

/// As rn_conv_fn with a uint8 input (strides in bytes) and int8 weights packed [kh][kw][ceil(ci / 4)][16][4]
/// (zeros past ci: each pixel's read runs up to three channels past its last), with the epilogue of
/// rn_gemm_int8_fn over 16 channels (scale and bias 16 values).
typedef void (*rn_conv_int8_fn)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,
                                const unsigned char *in, size_t in_row, size_t in_col, size_t in_pixel,
                                const signed char *w, const float *scale, const float *bias, void *out, size_t out_pixel,
                                int act, int out_u8, float out_scale);

/// Quantises n floats to uint8: round(x / scale) saturated to [0, 255].
typedef void (*rn_convert_int8_fn)(size_t n, const float *src, unsigned char *dst, float scale);

/// The int8 micro-kernels (AVX-512 VNNI, AArch64 I8MM or DotProd) and their tile sizes.
typedef struct {
    const char *name;   ///< "avx512vnni", "neoni8mm" or "neondotprod"
    int mr;             ///< GEMM rows per tile
    int nr;             ///< GEMM columns per packed panel
    int xb;             ///< convolution pixels per tile
    rn_gemm_int8_fn gemm;
    rn_conv_int8_fn conv;
    rn_pack_int8_fn pack;
    rn_convert_int8_fn convert;
} rn_int8_kernels;

/// The int8 kernels, or NULL when the CPU has no 8-bit dot products (AVX-512 VNNI; AArch64 I8MM or DotProd).
const rn_int8_kernels *rn_int8_kernels_for(void);

/// A convolution tile a set's `conv` dispatches to, named for its size and ISA as XNNPACK names its
/// kernels (conv_14x16_avx512); each is tested alone, and the row splitter reads the widths here.
typedef struct {
    const char *name;
    int xb;             ///< pixels per call, at most
    int lanes;          ///< output channels per call, at most (16, or 8 for 256-bit tiles)
    int divides_rows;   ///< rows are split into calls of this width when it divides them (1), or it only ends rows (0)
    rn_conv_fn fn;
} rn_conv_tile;

/// A set of micro-kernels for one instruction set, with the tile sizes the operators must use.
typedef struct {
    const char *name;   ///< "avx512", "avx2", "neon" or "portable"
    int mr;             ///< GEMM rows per tile
    int nr;             ///< GEMM columns per packed panel
    int xb;             ///< convolution pixels per tile
    rn_gemm_fn gemm;
    rn_conv_fn conv;    ///< dispatches to the tile of `tiles` that fits xb and co
    rn_pack_fn pack;
    const rn_conv_tile *tiles;
    int tile_count;
    /// The bf16 and int8 sets that go with this one, when this CPU runs them (NULL otherwise).
    const rn_bf16_kernels *(*bf16)(void);
    const rn_int8_kernels *(*int8)(void);
} rn_kernels;

/// The kernels for `isa` ("avx512", "avx2", "neon", "portable", or NULL/"" for the best this CPU runs);
/// NULL when the CPU cannot run the requested set.
const rn_kernels *rn_kernels_for(const char *isa);

#ifdef __cplusplus
}
#endif
#endif
