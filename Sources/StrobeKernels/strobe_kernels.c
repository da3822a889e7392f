#include "strobe_kernels.h"

#include <math.h>
#include <string.h>

#include "strobe_cpu.h"

// -Wpsabi warns that passing 16-lane vectors between functions compiled for different
// instruction sets would change the calling convention. Every helper below is always_inline
// and each build's entry points take and return only pointers and scalars, so no vector ever
// crosses a call boundary between builds: the warning is harmless here.
#pragma clang diagnostic ignored "-Wpsabi"

// Results must not depend on the instruction set chosen: no fused multiply-add is formed, and
// every operation below is an exact lane-wise IEEE operation or a fixed-order reduction.
#pragma clang fp contract(off)

typedef float v16f __attribute__((ext_vector_type(16)));
typedef int v16i __attribute__((ext_vector_type(16)));
typedef float v8f __attribute__((ext_vector_type(8)));

#define INLINE static inline __attribute__((always_inline))

INLINE v16f load(const float *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store(float *p, v16f v) { memcpy(p, &v, sizeof v); }

/// The first `n` (< 16) floats at `p`, the other lanes `fill`.
INLINE v16f load_partial(const float *p, long n, float fill) {
    float tmp[16];
    for (int i = 0; i < 16; i++) tmp[i] = i < n ? p[i] : fill;
    return load(tmp);
}

INLINE void store_partial(float *p, v16f v, long n) {
    float tmp[16];
    store(tmp, v);
    for (long i = 0; i < n; i++) p[i] = tmp[i];
}

INLINE v16f splat(float x) { return (v16f)(x); }

INLINE v16f vmax(v16f a, v16f b) { return __builtin_elementwise_max(a, b); }
INLINE v16f vmin(v16f a, v16f b) { return __builtin_elementwise_min(a, b); }

/// Σ of the 16 lanes in a fixed tree order.
INLINE float hsum(v16f v) {
    v8f a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
    v8f b = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    v8f s = a + b;
    float t[8];
    memcpy(t, &s, sizeof t);
    return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

INLINE float hmax(v16f v) {
    float t[16];
    store(t, v);
    float m = t[0];
    for (int i = 1; i < 16; i++) m = t[i] > m ? t[i] : m;
    return m;
}

/// e^x per lane within about 2 ulp (Cephes expf polynomial, Cody–Waite reduction); inputs
/// below -87.3 (and -inf) give 0, above 88 give e^88.
INLINE v16f vexp(v16f x) {
    const float lo = -87.3f;
    v16f c = vmin(vmax(x, splat(lo)), splat(88.0f));
    const v16f magic = splat(0x1.8p23f);
    v16f shifted = c * 1.44269504f + magic;
    v16f n = shifted - magic;
    v16f r = c - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    v16f p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    v16f y = p * (r * r) + r + 1.0f;
    v16i bits = (v16i)shifted - 0x4B400000;
    v16f scale = (v16f)((bits + 127) << 23);
    v16i below = x < splat(lo);
    return (v16f)((v16i)(y * scale) & ~below);
}

INLINE v16f vgelu(v16f v) {
    v16f u = splat(0.797884560f) * (v + splat(0.044715f) * v * v * v);
    return v / (1.0f + vexp(-2.0f * u));
}

// MARK: - Kernel bodies (each compiled once per instruction set below)

INLINE void softmax_rows_body(float *x, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        v16f m16 = splat(-INFINITY);
        long j = 0;
        for (; j + 16 <= cols; j += 16) m16 = vmax(m16, load(row + j));
        if (j < cols) m16 = vmax(m16, load_partial(row + j, cols - j, -INFINITY));
        float m = hmax(m16);
        if (m == -INFINITY) {
            memset(row, 0, (size_t)cols * sizeof(float));
            continue;
        }
        v16f shift = splat(m), total16 = splat(0);
        for (j = 0; j + 16 <= cols; j += 16) {
            v16f e = vexp(load(row + j) - shift);
            store(row + j, e);
            total16 += e;
        }
        if (j < cols) {
            v16f e = vexp(load_partial(row + j, cols - j, -INFINITY) - shift);  // padding → 0
            store_partial(row + j, e, cols - j);
            total16 += e;
        }
        v16f inv = splat(1.0f / hsum(total16));
        for (j = 0; j + 16 <= cols; j += 16) store(row + j, load(row + j) * inv);
        if (j < cols) store_partial(row + j, load_partial(row + j, cols - j, 0) * inv, cols - j);
    }
}

INLINE void gelu_body(float *x, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) store(x + i, vgelu(load(x + i)));
    if (i < count) store_partial(x + i, vgelu(load_partial(x + i, count - i, 0)), count - i);
}

/// Σ x² over `n` floats, in 16 lanes.
INLINE float sum_squares(const float *x, long n) {
    v16f acc = splat(0);
    long j = 0;
    for (; j + 16 <= n; j += 16) {
        v16f v = load(x + j);
        acc += v * v;
    }
    if (j < n) {
        v16f v = load_partial(x + j, n - j, 0);
        acc += v * v;
    }
    return hsum(acc);
}

INLINE v16f optional_load(const float *p, long j, long n, float fallback) {
    if (p == NULL) return splat(fallback);
    return n >= 16 ? load(p + j) : load_partial(p + j, n, fallback);
}

INLINE void rms_modulate_body(const float *x, long xStride, float *out, long outStride, long rows,
                              long cols, const float *weight, const float *scale,
                              const float *shift, float eps) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * xStride;
        float *o = out + r * outStride;
        v16f inv = splat(1.0f / sqrtf(sum_squares(row, cols) / (float)cols + eps));
        for (long j = 0; j < cols; j += 16) {
            long n = cols - j < 16 ? cols - j : 16;
            v16f v = n == 16 ? load(row + j) : load_partial(row + j, n, 0);
            v16f y = v * inv * optional_load(weight, j, n, 1.0f) *
                     (1.0f + optional_load(scale, j, n, 0.0f)) + optional_load(shift, j, n, 0.0f);
            if (n == 16) store(o + j, y); else store_partial(o + j, y, n);
        }
    }
}

/// Rotates the pairs of one normalised head `v [headDim]` by `cos`, `sin` `[headDim/2]`.
INLINE void rope_head(float *v, long headDim, const float *cos, const float *sin) {
    long i = 0;
    for (; i + 16 <= headDim; i += 16) {
        v8f c8, s8;
        memcpy(&c8, cos + i / 2, sizeof c8);
        memcpy(&s8, sin + i / 2, sizeof s8);
        v16f c = __builtin_shufflevector(c8, c8, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        v16f s = __builtin_shufflevector(-s8, s8, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        v16f x = load(v + i);
        v16f swapped = __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        // lane 2k: c·x0 + (−s)·x1;  lane 2k+1: c·x1 + s·x0
        store(v + i, c * x + s * swapped);
    }
    for (; i < headDim; i += 2) {
        float c = cos[i / 2], s = sin[i / 2], x0 = v[i], x1 = v[i + 1];
        v[i] = c * x0 + (-s) * x1;
        v[i + 1] = c * x1 + s * x0;
    }
}

INLINE void head_rms_rope_body(float *x, long stride, long rows, long heads, long headDim,
                               const float *weight, float eps, const float *cos, const float *sin,
                               long length, long first) {
    long half = headDim / 2;
    for (long r = 0; r < rows; r++) {
        long position = (first + r) % length;
        for (long h = 0; h < heads; h++) {
            float *v = x + r * stride + h * headDim;
            rms_modulate_body(v, headDim, v, headDim, 1, headDim, weight, NULL, NULL, eps);
            rope_head(v, headDim, cos + position * half, sin + position * half);
        }
    }
}

INLINE void gated_add_body(float *x, const float *y, long rows, long cols, const float *gate) {
    for (long r = 0; r < rows; r++) {
        float *xr = x + r * cols;
        const float *yr = y + r * cols;
        for (long j = 0; j < cols; j += 16) {
            long n = cols - j < 16 ? cols - j : 16;
            v16f yv = n == 16 ? load(yr + j) : load_partial(yr + j, n, 0);
            v16f xv = n == 16 ? load(xr + j) : load_partial(xr + j, n, 0);
            v16f sum = gate == NULL ? xv + yv : xv + optional_load(gate, j, n, 1.0f) * yv;
            if (n == 16) store(xr + j, sum); else store_partial(xr + j, sum, n);
        }
    }
}

// MARK: - One build per instruction set, and dispatch

#define KERNELS(SUFFIX, ATTRIBUTES)                                                              \
    ATTRIBUTES static void softmax_rows_##SUFFIX(float *x, long rows, long cols) {                \
        softmax_rows_body(x, rows, cols);                                                        \
    }                                                                                            \
    ATTRIBUTES static void gelu_##SUFFIX(float *x, long count) { gelu_body(x, count); }          \
    ATTRIBUTES static void rms_modulate_##SUFFIX(const float *x, long xs, float *out, long os,    \
                                                 long rows, long cols, const float *w,            \
                                                 const float *scale, const float *shift,          \
                                                 float eps) {                                    \
        rms_modulate_body(x, xs, out, os, rows, cols, w, scale, shift, eps);                     \
    }                                                                                            \
    ATTRIBUTES static void head_rms_rope_##SUFFIX(float *x, long stride, long rows, long heads,   \
                                                  long headDim, const float *w, float eps,        \
                                                  const float *cos, const float *sin,             \
                                                  long length, long first) {                      \
        head_rms_rope_body(x, stride, rows, heads, headDim, w, eps, cos, sin, length, first);   \
    }                                                                                            \
    ATTRIBUTES static void gated_add_##SUFFIX(float *x, const float *y, long rows, long cols,    \
                                              const float *gate) {                               \
        gated_add_body(x, y, rows, cols, gate);                                                  \
    }

KERNELS(baseline, )

#if defined(__x86_64__)
KERNELS(avx2, __attribute__((target("avx2"))))
KERNELS(avx512, __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2"))))

enum { ISA_BASELINE, ISA_AVX2, ISA_AVX512 };

static int detect(void) {
    unsigned features = strobe_cpu_features();
    if (features & STROBE_CPU_AVX512) return ISA_AVX512;
    if (features & STROBE_CPU_AVX2_FMA) return ISA_AVX2;
    return ISA_BASELINE;
}

static int isa(void) {
    static int cached = -1;  // a benign race: every thread computes the same value
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

#define DISPATCH(NAME, ...)                                                                      \
    switch (isa()) {                                                                             \
    case ISA_AVX512: NAME##_avx512(__VA_ARGS__); break;                                          \
    case ISA_AVX2: NAME##_avx2(__VA_ARGS__); break;                                              \
    default: NAME##_baseline(__VA_ARGS__); break;                                                \
    }

const char *strobe_kernels_isa(void) {
    static const char *names[] = {"baseline", "avx2", "avx512"};
    return names[isa()];
}
#else
#define DISPATCH(NAME, ...) NAME##_baseline(__VA_ARGS__)
const char *strobe_kernels_isa(void) { return "baseline"; }
#endif

#define KERNEL_SET(SUFFIX)                                                                       \
    {#SUFFIX, softmax_rows_##SUFFIX, gelu_##SUFFIX, rms_modulate_##SUFFIX,                      \
     head_rms_rope_##SUFFIX, gated_add_##SUFFIX}

const strobe_kernel_set *strobe_kernels_variant(const char *name) {
    static const strobe_kernel_set baseline = KERNEL_SET(baseline);
    if (strcmp(name, "baseline") == 0) return &baseline;
#if defined(__x86_64__)
    static const strobe_kernel_set avx2 = KERNEL_SET(avx2), avx512 = KERNEL_SET(avx512);
    if (strcmp(name, "avx2") == 0 && isa() >= ISA_AVX2) return &avx2;
    if (strcmp(name, "avx512") == 0 && isa() >= ISA_AVX512) return &avx512;
#endif
    return NULL;
}

void strobe_softmax_rows(float *x, long rows, long cols) {
    DISPATCH(softmax_rows, x, rows, cols)
}

void strobe_gelu(float *x, long count) { DISPATCH(gelu, x, count) }

void strobe_rms_modulate(const float *x, long xStride, float *out, long outStride, long rows,
                         long cols, const float *weight, const float *scale,
                         const float *shift, float eps) {
    DISPATCH(rms_modulate, x, xStride, out, outStride, rows, cols, weight, scale, shift, eps)
}

void strobe_head_rms_rope(float *x, long stride, long rows, long heads, long headDim,
                          const float *weight, float eps, const float *cos, const float *sin,
                          long length, long first) {
    DISPATCH(head_rms_rope, x, stride, rows, heads, headDim, weight, eps, cos, sin, length, first)
}

void strobe_gated_add(float *x, const float *y, long rows, long cols, const float *gate) {
    DISPATCH(gated_add, x, y, rows, cols, gate)
}
