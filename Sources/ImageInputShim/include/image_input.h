// ImageInputShim: decoding JPEG files (libjpeg-turbo) and resampling images (stb_image_resize),
// for images users give Strobe to modify, inpaint or reframe. Errors come back as status codes
// with a message; no longjmp crosses into Swift; memory allocated here is freed here.
#ifndef STROBE_IMAGE_INPUT_H
#define STROBE_IMAGE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { STROBE_IMAGE_OK = 0, STROBE_IMAGE_ERROR = 1, STROBE_IMAGE_TOO_LARGE = 2 };

/// A decoded JPEG: 8-bit RGB, rows top to bottom, as stored (orientation not applied).
typedef struct strobe_jpeg_image strobe_jpeg_image;

/// Decodes JPEG bytes (baseline or progressive; grey, YCbCr, RGB, CMYK or YCCK). The header is
/// read first: an image of more than `max_pixels` pixels, or with a zero side, is refused before
/// any pixel is decoded (STROBE_IMAGE_TOO_LARGE or STROBE_IMAGE_ERROR). Any warning libjpeg
/// raises (a truncated or corrupt stream) fails the decoding. On failure `*out` is NULL and
/// `message` (`message_size` bytes) says why.
int strobe_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, strobe_jpeg_image **out,
                       char *message, size_t message_size);
void strobe_jpeg_image_free(strobe_jpeg_image *image);
uint32_t strobe_jpeg_image_width(const strobe_jpeg_image *image);
uint32_t strobe_jpeg_image_height(const strobe_jpeg_image *image);
/// `width · height · 3` bytes, RGB.
const uint8_t *strobe_jpeg_image_rgb(const strobe_jpeg_image *image);
/// The EXIF orientation (1–8; 1 when absent or unreadable).
int strobe_jpeg_image_orientation(const strobe_jpeg_image *image);
/// The colour space the file stored: "grey", "ycbcr", "rgb", "cmyk" or "ycck".
const char *strobe_jpeg_image_source_color_space(const strobe_jpeg_image *image);

/// Resamples `channels` interleaved float channels from `in_w × in_h` to `out_w × out_h` with
/// stb_image_resize's default filters (Catmull-Rom when enlarging, Mitchell when reducing),
/// edges clamped. Returns 0 on success.
int strobe_resize(const float *input, int in_w, int in_h, float *output, int out_w, int out_h, int channels);

#ifdef __cplusplus
}
#endif
#endif
