// StrobeKernels: the element-wise work of the denoiser, fused into single passes over memory
// and vectorised for the CPU at hand.
//
// Each kernel is compiled three times (AVX-512, AVX2, baseline x86-64 or the host's baseline
// elsewhere) from one source written with 16-lane vector types, and the widest the CPU supports
// is picked at the first call. Floating-point contraction is off, and every reduction runs over
// 16 fixed lanes summed in a fixed order, so the three builds give bit-identical results and a
// row's result never depends on which thread computes it or which rows share the call.
//
// Tests compare each kernel with compositions of the naive Swift twins in StrobeTensor
// (Naive.swift), and the three builds with one another (strobe_kernels_variant).
#ifndef STROBE_KERNELS_H
#define STROBE_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction set the kernels use: "avx512", "avx2" or "baseline".
const char *strobe_kernels_isa(void);

/// One build of every kernel, for tests that run each instruction set in turn.
typedef struct {
    const char *isa;
    void (*softmax_rows)(float *x, long rows, long cols);
    void (*gelu)(float *x, long count);
    void (*rms_modulate)(const float *x, long xStride, float *out, long outStride, long rows,
                         long cols, const float *weight, const float *scale, const float *shift,
                         float eps);
    void (*head_rms_rope)(float *x, long stride, long rows, long heads, long headDim,
                          const float *weight, float eps, const float *cos, const float *sin,
                          long length, long first);
    void (*gated_add)(float *x, const float *y, long rows, long cols, const float *gate);
} strobe_kernel_set;

/// The build for `isa` ("avx512", "avx2", "baseline"), or NULL when it was not compiled here
/// or this CPU cannot run it.
const strobe_kernel_set *strobe_kernels_variant(const char *isa);

/// Softmax of each of `rows` rows of `cols` floats (row stride `cols`), in place.
/// A row that is all -inf becomes all zeros.
void strobe_softmax_rows(float *x, long rows, long cols);

/// GELU (tanh form) of `count` floats in place: x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³).
void strobe_gelu(float *x, long count);

/// For each of `rows` rows of `cols` floats:
/// out = x · rsqrt(mean(x²) + eps) · weight · (1 + scale) + shift,
/// where `weight`, `scale` and `shift` are `[cols]` vectors and may each be NULL (then 1, 0, 0).
/// `x` and `out` have row strides `xStride` and `outStride`; they may be the same rows.
void strobe_rms_modulate(const float *x, long xStride, float *out, long outStride, long rows,
                         long cols, const float *weight, const float *scale,
                         const float *shift, float eps);

/// Per-head RMSNorm with `weight [headDim]`, then rotary embedding, in place, on `rows` rows of
/// `heads · headDim` floats at row stride `stride`. Row r is at position `(first + r) % length`
/// of the tables `cos`, `sin` `[length, headDim/2]`; pairs (2i, 2i+1) rotate by angle i.
void strobe_head_rms_rope(float *x, long stride, long rows, long heads, long headDim,
                          const float *weight, float eps, const float *cos, const float *sin,
                          long length, long first);

/// x[r] += gate · y[r] for `rows` rows of `cols` floats (row strides `cols`);
/// `gate` is `[cols]`, or NULL for a plain sum.
void strobe_gated_add(float *x, const float *y, long rows, long cols, const float *gate);

#ifdef __cplusplus
}
#endif
#endif
