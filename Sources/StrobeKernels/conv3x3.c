#include "strobe_conv.h"

#include <string.h>

#include "strobe_cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Every output is bias + Σ over (c, ky, kx) in that order, one fused multiply–add each (a tap
// outside the image is skipped for rows, and adds 0·w for columns), so the result does not depend
// on how rows are split over threads.

void strobe_conv3x3_pack(const float *weight, long co, long ci, float *packed) {
    const long groups = (co + 15) / 16;
    memset(packed, 0, sizeof(float) * (size_t)(groups * ci * 9 * 16));
    for (long o = 0; o < co; o++)
        for (long c = 0; c < ci; c++)
            for (long t = 0; t < 9; t++)
                packed[(((o / 16) * ci + c) * 9 + t) * 16 + o % 16] = weight[(o * ci + c) * 9 + t];
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
static void conv3x3_rows_avx512(const float *in, long ci, long h, long w, const float *packed, const float *bias,
                                long co, long y0, long y1, float *out) {
    const long plane = h * w, groups = (co + 15) / 16;
    for (long g = 0; g < groups; g++) {
        const long base = g * 16, count = co - base < 16 ? co - base : 16;
        const float *wg = packed + g * ci * 9 * 16;
        for (long y = y0; y < y1; y++) {
            for (long x0 = 0; x0 < w; x0 += 16) {
                __m512 acc[16];
                for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps(bias && j < count ? bias[base + j] : 0.0f);
                for (long c = 0; c < ci; c++) {
                    for (long ky = 0; ky < 3; ky++) {
                        const long yy = y + ky - 1;
                        if (yy < 0 || yy >= h) continue;
                        const float *row = in + c * plane + yy * w;
                        for (long kx = 0; kx < 3; kx++) {
                            const long xs = x0 + kx - 1;
                            const long lo = xs < 0 ? -xs : 0, hi = w - xs < 16 ? w - xs : 16;
                            const __mmask16 m = (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
                            const __m512 v = _mm512_maskz_loadu_ps(m, row + xs);
                            const float *wt = wg + ((c * 3 + ky) * 3 + kx) * 16;
                            for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(v, _mm512_set1_ps(wt[j]), acc[j]);
                        }
                    }
                }
                const long valid = w - x0 < 16 ? w - x0 : 16;
                const __mmask16 store = (__mmask16)((1u << valid) - 1u);
                for (int j = 0; j < 16; j++)
                    if (j < count) _mm512_mask_storeu_ps(out + (base + j) * plane + y * w + x0, store, acc[j]);
            }
        }
    }
}
#endif

int strobe_conv3x3_available(void) {
#if defined(__x86_64__)
    return (strobe_cpu_features() & STROBE_CPU_AVX512) != 0;
#else
    return 0;
#endif
}

void strobe_conv3x3_rows(const float *in, long ci, long h, long w, const float *packed, const float *bias,
                         long co, long y0, long y1, float *out) {
#if defined(__x86_64__)
    if (strobe_conv3x3_available()) {
        conv3x3_rows_avx512(in, ci, h, w, packed, bias, co, y0, y1, out);
        return;
    }
#endif
    (void)in; (void)ci; (void)h; (void)w; (void)packed; (void)bias; (void)co; (void)y0; (void)y1; (void)out;
    __builtin_trap();  // callers check strobe_conv3x3_available first
}
