// Bilinear 2× upsampling of one image row, with torch's arithmetic (see
// StrobeTensor/Tensor+UpsampleBilinear.swift for the formula and the order of operations).
//
// Built twice: with AVX2 and FMA, and for the baseline instruction set (where each fused
// multiply–add is a call to fmaf). Both compute every output with the same fused operations in
// the same order, so they agree to the bit; the AVX2 build is picked when the CPU has it.
// The naive Swift twin is `Naive.upsampleBilinear2x` (StrobeTensor).
#ifndef STROBE_UPSAMPLE_H
#define STROBE_UPSAMPLE_H

#ifdef __cplusplus
extern "C" {
#endif

/// One output row of bilinear 2× upsampling (half-pixel centres, edges repeated).
///
/// `top` and `bottom` are the two input rows of `w` floats the output row reads (the same row
/// at the image's top and bottom edges), `h0` and `h1` their weights; `out` receives `2w`
/// floats. Column d of the output blends input columns a, b with weights λ0, λ1 (torch's
/// `compute_source_index_and_lambda` for scale ½) as
///     p = top[b]·(h0·λ1);  p = fma(top[a], h0·λ0, p);  p = fma(bottom[a], h1·λ0, p);
///     out[d] = fma(bottom[b], h1·λ1, p).
/// `out` must not overlap the inputs.
void strobe_bilinear2x_row(const float *top, const float *bottom, float h0, float h1, long w,
                           float *out);

/// The build for `isa` ("avx2" or "baseline"), or NULL when it was not compiled here or this
/// CPU cannot run it; for tests that compare the builds.
typedef void (*strobe_bilinear2x_row_fn)(const float *top, const float *bottom, float h0,
                                         float h1, long w, float *out);
strobe_bilinear2x_row_fn strobe_bilinear2x_row_variant(const char *isa);

#ifdef __cplusplus
}
#endif
#endif
