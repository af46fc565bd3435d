// AMX (Intel Advanced Matrix Extensions) bf16 kernels, written once against a small set of tile
// operations (configure, zero, load, multiply, store, release) with two implementations: the AMX
// instructions (`amxbf16`, Intel Xeon 4th generation and later) and a plain-C reference with the
// instructions' semantics (`amxbf16ref`, every CPU), so the kernels are tested everywhere and
// natively where the CPU has AMX.
#ifndef REGNET_AMX_KERNELS_H
#define REGNET_AMX_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A bfloat16 value in the AMX kernels.
typedef unsigned short rn_amx_bf16;

/// K per packed block: one bf16 tile row (64 bytes).
#define RN_AMX_KB 32
/// Rows and columns of C one GEMM call computes at most (2 x 2 tiles of 16 x 16 fp32).
#define RN_AMX_MR 32
#define RN_AMX_NR 32

/// C (m <= RN_AMX_MR rows, n <= RN_AMX_NR columns, rows ldc apart) = (accumulate ? C : 0) + A B over
/// `kb` blocks of RN_AMX_KB: A packed by rn_amx_pack_a_bf16 (per block 32 rows of 32 bf16), B by
/// rn_amx_pack_b_bf16 (per block 16 rows of 32 columns x 2 consecutive K: the VNNI layout the tile
/// multiply reads). Products of bf16 pairs accumulate in fp32 as TDPBF16PS does (denormal inputs
/// and results flushed to zero, round to nearest even). Tiles must be configured (begin) on the
/// calling thread.
typedef void (*rn_amx_gemm_bf16_fn)(size_t m, size_t n, size_t kb, const rn_amx_bf16 *a, const rn_amx_bf16 *b, float *c,
                                    size_t ldc, int accumulate);

/// One implementation of the AMX bf16 kernels.
typedef struct {
    const char *name;           ///< "amxbf16" (the instructions) or "amxbf16ref" (the reference)
    void (*begin)(void);        ///< configures this thread's tiles (all 8 as 16 rows x 64 bytes)
    void (*end)(void);          ///< releases them (TILERELEASE: lets an idle core sleep deeply)
    rn_amx_gemm_bf16_fn gemm;   ///< gemm_32x32
} rn_amx_bf16_kernels;

/// "amxbf16": the AMX instructions, when this CPU has AMX-TILE and AMX-BF16, the OS enables tile
/// state (XCR0), CPUID reports a tile palette and Linux grants the process tile data
/// (arch_prctl ARCH_REQ_XCOMP_PERM); otherwise NULL. "amxbf16ref": the reference, always.
const rn_amx_bf16_kernels *rn_amx_bf16_kernels_for(const char *name);

/// Whether this process can use AMX tiles (the conditions of rn_amx_bf16_kernels_for("amxbf16")).
int rn_amx_available(void);

/// Packs A (m <= RN_AMX_MR rows by k, element (i, p) at a[i * row_stride + p * k_stride], float32)
/// rounded to bf16 (nearest even) into ceil(k / RN_AMX_KB) blocks of RN_AMX_MR rows x RN_AMX_KB,
/// zeros past m rows and k columns (so nothing past the operands reaches a tile).
void rn_amx_pack_a_bf16(size_t m, size_t k, const float *a, size_t row_stride, size_t k_stride, rn_amx_bf16 *dst);

/// Packs B (k by n <= RN_AMX_NR, element (p, j) at b[p * k_stride + j * column_stride], float32)
/// rounded to bf16 into ceil(k / RN_AMX_KB) blocks of RN_AMX_KB / 2 rows x RN_AMX_NR columns x 2
/// consecutive K, zeros past n columns and k rows.
void rn_amx_pack_b_bf16(size_t k, size_t n, const float *b, size_t k_stride, size_t column_stride, rn_amx_bf16 *dst);

/// Packed sizes (bf16 elements) of rn_amx_pack_a_bf16 and rn_amx_pack_b_bf16 for depth k.
size_t rn_amx_packed_elements(size_t k);

#ifdef __cplusplus
}
#endif

#endif
