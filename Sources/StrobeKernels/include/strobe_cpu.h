// The CPU features Strobe's kernel choices depend on, read with CPUID and XGETBV (so a feature
// counts only when the operating system also saves the registers it needs).
#ifndef STROBE_CPU_H
#define STROBE_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

/// CPU features that decide which kernels can run (bit flags).
enum {
    /// SSE3 (every x86-64 CPU of the last 15 years).
    STROBE_CPU_SSE3 = 1 << 0,
    /// AVX, with the operating system saving the YMM state.
    STROBE_CPU_AVX = 1 << 1,
    /// AVX2 and FMA3.
    STROBE_CPU_AVX2_FMA = 1 << 2,
    /// AVX-512 F, BW, VL and DQ, with the operating system saving the ZMM state.
    STROBE_CPU_AVX512 = 1 << 3,
    /// AVX512_BF16 (bf16 dot products), with AVX-512 as above.
    STROBE_CPU_AVX512_BF16 = 1 << 4,
};

/// One step of a spin-wait loop: a compiler barrier, so the loop re-reads memory. PAUSE is left
/// out on purpose: under hypervisors with pause-loop exiting, a loop of PAUSEs exits to the host
/// and is descheduled (measured in a VM: denoiser calls twice as slow with PAUSE as without).
/// The loops that use it spin for at most a few hundred microseconds.
static inline void strobe_cpu_relax(void) { __asm__ volatile("" ::: "memory"); }

/// The features of the CPU running this process (STROBE_CPU_* flags); 0 off x86-64.
unsigned strobe_cpu_features(void);

#ifdef __cplusplus
}
#endif
#endif
