// A direct 3×3 convolution (stride 1, zero padding 1) for layers with few output channels, where
// im2col + sgemm is memory-bound: each packed input element feeds only Co multiply–adds (the v2
// decoder's full-resolution levels, 32 → 16 and 16 → 3 channels). Here each input vector of 16
// pixels is loaded once per tap and feeds up to 16 output channels held in registers.
//
// AVX-512 only; `strobe_conv3x3_available` says whether this CPU runs it (else the caller uses
// im2col + sgemm). The naive twin is `Naive.conv2d` (StrobeTensor).
#ifndef STROBE_CONV_H
#define STROBE_CONV_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs `strobe_conv3x3_rows` (AVX-512), else 0.
int strobe_conv3x3_available(void);

/// Output rows [y0, y1) of one image: out[o][y][x] = bias[o] + Σ_c Σ_ky Σ_kx w[c][ky][kx][o] ·
/// in[c][y + ky − 1][x + kx − 1] (zero outside the image), for o < co, summed in that order.
///
/// - in: [ci][h][w]; out: [co][h][w] (only rows [y0, y1) are written).
/// - packed: the weight as [co / 16 rounded up][ci][3][3][16], each group of 16 output channels
///   zero-padded (`strobe_conv3x3_pack`); bias: [co] or NULL.
void strobe_conv3x3_rows(const float *in, long ci, long h, long w, const float *packed, const float *bias,
                         long co, long y0, long y1, float *out);

/// Packs a PyTorch weight [co][ci][3][3] into `packed` ([⌈co/16⌉][ci][3][3][16] floats).
void strobe_conv3x3_pack(const float *weight, long co, long ci, float *packed);

#ifdef __cplusplus
}
#endif
#endif
