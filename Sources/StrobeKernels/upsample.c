#include "strobe_upsample.h"

#include <math.h>
#include <string.h>

#include "strobe_cpu.h"

// Only the fused multiply–adds written out below are formed; every other product and sum is
// rounded on its own, as in torch's kernel.
#pragma clang fp contract(off)

// Between input columns i and i + 1 lie output columns 2i + 1 (a = i with λ0 = ¾, b = i + 1
// with λ1 = ¼) and 2i + 2 (λ0 = ¼, λ1 = ¾); column 0 reads a = 0, b = min(1, w − 1) with
// λ = (1, 0), column 2w − 1 reads a = b = w − 1 with λ = (¾, ¼). Every weight product is exact.
#define BILINEAR_ROW_BODY                                                                        \
    {                                                                                            \
        const float tn = h0 * 0.75f, tf = h0 * 0.25f, bn = h1 * 0.75f, bf = h1 * 0.25f;        \
        long b0 = w > 1 ? 1 : 0;                                                                 \
        float p = top[b0] * (h0 * 0.0f);                                                         \
        p = __builtin_fmaf(top[0], h0 * 1.0f, p);                                                \
        p = __builtin_fmaf(bottom[0], h1 * 1.0f, p);                                             \
        out[0] = __builtin_fmaf(bottom[b0], h1 * 0.0f, p);                                       \
        for (long i = 0; i < w - 1; i++) {                                                       \
            const float l = top[i], r = top[i + 1], lb = bottom[i], rb = bottom[i + 1];          \
            float odd = r * tf;                                                                  \
            odd = __builtin_fmaf(l, tn, odd);                                                    \
            odd = __builtin_fmaf(lb, bn, odd);                                                   \
            out[2 * i + 1] = __builtin_fmaf(rb, bf, odd);                                        \
            float even = r * tn;                                                                 \
            even = __builtin_fmaf(l, tf, even);                                                  \
            even = __builtin_fmaf(lb, bf, even);                                                 \
            out[2 * i + 2] = __builtin_fmaf(rb, bn, even);                                       \
        }                                                                                        \
        const long e = w - 1;                                                                    \
        float q = top[e] * tf;                                                                   \
        q = __builtin_fmaf(top[e], tn, q);                                                       \
        q = __builtin_fmaf(bottom[e], bn, q);                                                    \
        out[2 * w - 1] = __builtin_fmaf(bottom[e], bf, q);                                       \
    }

static void bilinear2x_row_baseline(const float *restrict top, const float *restrict bottom,
                                    float h0, float h1, long w, float *restrict out)
    BILINEAR_ROW_BODY

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void bilinear2x_row_avx2(const float *restrict top, const float *restrict bottom,
                                float h0, float h1, long w, float *restrict out)
    BILINEAR_ROW_BODY

static strobe_bilinear2x_row_fn chosen(void) {
    static strobe_bilinear2x_row_fn cached = NULL;  // a benign race: every thread picks the same
    strobe_bilinear2x_row_fn fn = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!fn) {
        fn = (strobe_cpu_features() & STROBE_CPU_AVX2_FMA) ? bilinear2x_row_avx2 : bilinear2x_row_baseline;
        __atomic_store_n(&cached, fn, __ATOMIC_RELAXED);
    }
    return fn;
}
#else
static strobe_bilinear2x_row_fn chosen(void) { return bilinear2x_row_baseline; }
#endif

void strobe_bilinear2x_row(const float *top, const float *bottom, float h0, float h1, long w,
                           float *out) {
    if (w > 0) chosen()(top, bottom, h0, h1, w, out);
}

strobe_bilinear2x_row_fn strobe_bilinear2x_row_variant(const char *isa) {
    if (strcmp(isa, "baseline") == 0) return bilinear2x_row_baseline;
#if defined(__x86_64__)
    if (strcmp(isa, "avx2") == 0 && (strobe_cpu_features() & STROBE_CPU_AVX2_FMA)) return bilinear2x_row_avx2;
#endif
    return NULL;
}
