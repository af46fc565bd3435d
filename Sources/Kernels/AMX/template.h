// AMX bf16 kernels written once against tile operations, instantiated by amxbf16.c (the AMX
// instructions) and amxbf16ref.c (a plain-C reference with their semantics). Kernel names carry
// their tile sizes and implementation (gemm_32x32_amxbf16, gemm_32x32_amxbf16ref).
//
// The including file defines:
//   AT_ATTR                  function attributes (target features)
//   AT_ISA                   suffix of the kernel names
//   AT_ZERO(t)               tile t := 0
//   AT_LOAD(t, p, stride)    tile t := 16 rows of 64 bytes from p, rows `stride` bytes apart
//   AT_DPBF16(c, a, b)       tile c (16 x 16 fp32) += tile a (16 x 32 bf16) x tile b (16 x 16 x 2 bf16)
//   AT_STORE(t, p, stride)   16 rows of 64 bytes of tile t to p, rows `stride` bytes apart
// Tile numbers are constants (the instructions take them as immediates).
#include "RegNetAMXKernels.h"

#define AT_CAT3(a, b) a##_##b
#define AT_CAT(a, b) AT_CAT3(a, b)

// Tiles: accumulators C00 C01 C10 C11 (rows 0-15 / 16-31 x columns 0-15 / 16-31), A rows 0-15 and
// 16-31, B columns 0-15 and 16-31.
enum { AT_C00 = 0, AT_C01 = 1, AT_C10 = 2, AT_C11 = 3, AT_A0 = 4, AT_A1 = 5, AT_B0 = 6, AT_B1 = 7 };

/// A 32 x 32 block of C over kb packed blocks of K (rn_amx_gemm_bf16_fn): 2 x 2 accumulator tiles,
/// each block's two A tiles and two B tiles loaded once and multiplied four times.
AT_ATTR static void AT_CAT(gemm_32x32, AT_ISA)(size_t m, size_t n, size_t kb, const rn_amx_bf16 *a, const rn_amx_bf16 *b, float *c,
                                               size_t ldc, int accumulate) {
    float out[RN_AMX_MR * RN_AMX_NR] __attribute__((aligned(64)));
    AT_ZERO(AT_C00);
    AT_ZERO(AT_C01);
    AT_ZERO(AT_C10);
    AT_ZERO(AT_C11);
    for (size_t q = 0; q < kb; ++q, a += RN_AMX_MR * RN_AMX_KB, b += RN_AMX_KB * RN_AMX_NR) {
        AT_LOAD(AT_A0, a, 2 * RN_AMX_KB);
        AT_LOAD(AT_A1, a + 16 * RN_AMX_KB, 2 * RN_AMX_KB);
        AT_LOAD(AT_B0, b, 4 * RN_AMX_NR);
        AT_LOAD(AT_B1, b + 32, 4 * RN_AMX_NR);
        AT_DPBF16(AT_C00, AT_A0, AT_B0);
        AT_DPBF16(AT_C01, AT_A0, AT_B1);
        AT_DPBF16(AT_C10, AT_A1, AT_B0);
        AT_DPBF16(AT_C11, AT_A1, AT_B1);
    }
    AT_STORE(AT_C00, out, 4 * RN_AMX_NR);
    AT_STORE(AT_C01, out + 16, 4 * RN_AMX_NR);
    AT_STORE(AT_C10, out + 16 * RN_AMX_NR, 4 * RN_AMX_NR);
    AT_STORE(AT_C11, out + 16 * RN_AMX_NR + 16, 4 * RN_AMX_NR);
    for (size_t i = 0; i < m; ++i) {
        for (size_t j = 0; j < n; ++j) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + out[i * RN_AMX_NR + j];
    }
}
