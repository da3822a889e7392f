// bf16 matrix products with fp32 accumulation, for CPUs with AVX512_BF16.
//
// B (a weight, or a per-head key or value block) is packed once into panels of 32 columns of
// bf16 pairs, the layout VDPBF16PS reads; A is converted row by row at each call. Both roundings
// are to nearest, ties to even, with subnormals as zero. Each output element is one fixed sequence of dot-product
// instructions over K in order, whatever rows or columns share the call, so results never
// depend on how the caller tiles the product or on the thread count.
//
// The naive Swift twin is `Naive.bf16Matmul` (StrobeTensor); tests compare.
#ifndef STROBE_BF16_H
#define STROBE_BF16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per packed panel.
#define STROBE_BF16_PANEL 32
/// Rows the micro-kernel computes at once.
#define STROBE_BF16_ROWS 12

/// Whether this CPU runs strobe_bf16_gemm (AVX-512 F/BW/VL/DQ and AVX512_BF16, with the
/// operating system saving the ZMM state), unless the environment sets STROBE_DISABLE_BF16.
int strobe_bf16_supported(void);

/// The bf16 of `x` as the CPU's VCVTNEPS2BF16 makes it: rounded to nearest, ties to even; a
/// subnormal becomes zero of its sign (the dot products treat subnormals as zero anyway); a NaN
/// stays a quiet NaN.
uint16_t strobe_bf16_round(float x);

/// Elements of the packed form of a `k × n` matrix: ⌈n/32⌉ panels of ⌈k/2⌉ pairs of 32 lanes.
long strobe_bf16_packed_count(long k, long n);

/// Packs B, element (kk, j) at `b[trans ? j*ldb + kk : kk*ldb + j]` for kk < k, j < n, into
/// `packed` (strobe_bf16_packed_count elements), zero-padded. Any CPU.
void strobe_bf16_pack(const float *b, long ldb, int trans, long k, long n, uint16_t *packed);

/// C = alpha · bf16(A) · B + beta · C for `m` rows and `n` columns, in fp32.
///
/// - `a`: m rows of k floats at row stride `lda`;
/// - `packed`: the panel holding the first of the `n` columns (panel boundaries are multiples
///   of 32 columns: pass `packed + (j0/32) · strobe_bf16_packed_count(k, 32)` for column j0);
/// - `c`: m rows at row stride `ldc`. With beta = 0, C is not read.
/// Requires strobe_bf16_supported().
void strobe_bf16_gemm(long m, long n, long k, float alpha, const float *a, long lda,
                      const uint16_t *packed, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif
#endif
