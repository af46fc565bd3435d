// The AMX tile operations as the instructions (Intel Xeon 4th generation and later), and whether this
// process may use them. Tiles are configured once per thread per batch of work (begin: LDTILECFG,
// which zeroes them) and released after it (end: TILERELEASE), as oneDNN does.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE   // syscall() under strict C standards
#endif
#include <string.h>
#include "RegNetAMXKernels.h"

extern const rn_amx_bf16_kernels rn_amxbf16ref_kernels;

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AMX_ATTR __attribute__((target("amx-tile,amx-bf16,avx512f")))

/// Every tile 16 rows x 64 bytes, palette 1 (the 64-byte LDTILECFG layout).
typedef struct {
    unsigned char palette, start_row, reserved[14];
    unsigned short colsb[16];
    unsigned char rows[16];
} amx_config;

AMX_ATTR static void amx_begin(void) {
    amx_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; ++t) {
        config.colsb[t] = 64;
        config.rows[t] = 16;
    }
    _tile_loadconfig(&config);
}

AMX_ATTR static void amx_end(void) { _tile_release(); }

#define AT_ATTR AMX_ATTR
#define AT_ISA amxbf16
#define AT_ZERO(t) _tile_zero(t)
#define AT_LOAD(t, p, stride) _tile_loadd(t, p, stride)
#define AT_DPBF16(c, a, b) _tile_dpbf16ps(c, a, b)
#define AT_STORE(t, p, stride) _tile_stored(t, p, stride)
#include "template.h"

static const rn_amx_bf16_kernels rn_amxbf16_kernels = {"amxbf16", amx_begin, amx_end, gemm_32x32_amxbf16};

/// CPUID's AMX-TILE and AMX-BF16 bits, tile state enabled in XCR0, a tile palette (leaf 0x1D: some
/// hypervisors advertise AMX without one, and the first tile instruction faults), and Linux's
/// permission for this process's tile data (kernel 5.16 and later).
static int amx_check(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((d >> 24) & 1) || !((d >> 22) & 1)) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return 0;   // OSXSAVE: XGETBV works
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (((lo >> 17) & 3) != 3) return 0;                                   // XTILECFG and XTILEDATA
    if (__get_cpuid_max(0, NULL) < 0x1D || !__get_cpuid_count(0x1D, 0, &a, &b, &c, &d) || a < 1) return 0;
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int rn_amx_available(void) {
    static int state = -1;   // checked once; a race only repeats the same answer
    if (state < 0) state = amx_check();
    return state;
}
#else
int rn_amx_available(void) { return 0; }
#endif

const rn_amx_bf16_kernels *rn_amx_bf16_kernels_for(const char *name) {
    if (name && strcmp(name, "amxbf16ref") == 0) return &rn_amxbf16ref_kernels;
#if defined(__x86_64__) && defined(__linux__)
    if ((!name || strcmp(name, "amxbf16") == 0) && rn_amx_available()) return &rn_amxbf16_kernels;
#endif
    return NULL;
}
