// The AMX tile operations in plain C, with the instructions' semantics (Intel SDM, TDPBF16PS; the
// Bochs emulator's amx.cc): eight tiles of 16 rows x 64 bytes per thread; TDPBF16PS adds to each fp32
// accumulator the two products of each K pair in turn, bf16 inputs that are denormal read as zero,
// every result rounded to nearest even with denormals flushed to zero. The kernels of template.h run
// on it on any CPU (`amxbf16ref`), so they are tested where there is no AMX.
#include <string.h>
#include <math.h>
#include "RegNetAMXKernels.h"

typedef struct {
    unsigned char bytes[16][64];
} ref_tile;

static _Thread_local ref_tile ref_tiles[8];

/// A bf16 value as fp32, denormals (and zeros) read as zero of the same sign.
static inline float ref_bf16(unsigned short h) {
    unsigned int bits = (unsigned int)h << 16;
    if ((bits & 0x7F800000u) == 0) bits &= 0x80000000u;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// x with a denormal result flushed to zero of the same sign.
static inline float ref_flush(float x) { return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x; }

static void ref_zero(int t) { memset(&ref_tiles[t], 0, sizeof ref_tiles[t]); }

static void ref_load(int t, const void *p, size_t stride) {
    for (int r = 0; r < 16; ++r) memcpy(ref_tiles[t].bytes[r], (const char *)p + r * stride, 64);
}

static void ref_store(int t, void *p, size_t stride) {
    for (int r = 0; r < 16; ++r) memcpy((char *)p + r * stride, ref_tiles[t].bytes[r], 64);
}

static void ref_dpbf16(int c, int a, int b) {
    for (int m = 0; m < 16; ++m) {
        float acc[16];
        memcpy(acc, ref_tiles[c].bytes[m], sizeof acc);
        unsigned short arow[32];
        memcpy(arow, ref_tiles[a].bytes[m], sizeof arow);
        for (int k = 0; k < 16; ++k) {
            unsigned short brow[32];
            memcpy(brow, ref_tiles[b].bytes[k], sizeof brow);
            const float a0 = ref_bf16(arow[2 * k]), a1 = ref_bf16(arow[2 * k + 1]);
            for (int n = 0; n < 16; ++n) {
                acc[n] = ref_flush(acc[n] + ref_flush(a0 * ref_bf16(brow[2 * n])));
                acc[n] = ref_flush(acc[n] + ref_flush(a1 * ref_bf16(brow[2 * n + 1])));
            }
        }
        memcpy(ref_tiles[c].bytes[m], acc, sizeof acc);
    }
}

/// Configuring zeroes every tile, as LDTILECFG does; releasing zeroes them too.
static void ref_begin(void) { memset(ref_tiles, 0, sizeof ref_tiles); }
static void ref_end(void) { memset(ref_tiles, 0, sizeof ref_tiles); }

#define AT_ATTR
#define AT_ISA amxbf16ref
#define AT_ZERO(t) ref_zero(t)
#define AT_LOAD(t, p, stride) ref_load(t, p, stride)
#define AT_DPBF16(c, a, b) ref_dpbf16(c, a, b)
#define AT_STORE(t, p, stride) ref_store(t, p, stride)
#include "template.h"

const rn_amx_bf16_kernels rn_amxbf16ref_kernels = {"amxbf16ref", ref_begin, ref_end, gemm_32x32_amxbf16ref};
