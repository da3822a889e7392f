#include "strobe_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

/// XCR0: which register states the operating system saves on a context switch.
static unsigned long long xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void) {
    unsigned a, b, c, d, features = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & (1u << 0)) features |= STROBE_CPU_SSE3;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return features;
    unsigned long long states = xcr0();
    if ((states & 0x6) != 0x6) return features;  // SSE and YMM state
    features |= STROBE_CPU_AVX;
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf < 7) return features;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);  // F DQ BW VL
    if (avx2 && fma) features |= STROBE_CPU_AVX2_FMA;
    if (!avx512 || (states & 0xE6) != 0xE6) return features;  // opmask, ZMM_Hi256, Hi16_ZMM
    features |= STROBE_CPU_AVX512;
    __cpuid_count(7, 1, a, b, c, d);
    if ((a >> 5) & 1) features |= STROBE_CPU_AVX512_BF16;
    return features;
}

unsigned strobe_cpu_features(void) {
    static unsigned cached = ~0u;  // a benign race: every thread computes the same value
    unsigned value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value == ~0u) {
        value = detect();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}
#else
unsigned strobe_cpu_features(void) { return 0; }
#endif
