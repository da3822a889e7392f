// PNG encoding and decoding through libpng behind a small C API.
//
// libpng reports errors with longjmp, which must not cross Swift frames; every libpng call
// happens inside this file's functions, which catch the longjmp with setjmp and return a
// status code plus libpng's message. Memory allocated here is freed here (the *_free calls).
#ifndef STROBE_PNG_SHIM_H
#define STROBE_PNG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum strobe_png_status {
    STROBE_PNG_OK = 0,
    STROBE_PNG_ERROR = 1,      // libpng error; the message says why
    STROBE_PNG_NO_MEMORY = 2,  // allocation failed outside libpng
} strobe_png_status;

/// One text chunk to write. The key is NUL-terminated Latin-1 (1 to 79 bytes);
/// text is text_length bytes, Latin-1 for tEXt or UTF-8 for iTXt.
typedef struct strobe_png_text {
    const char *key;
    const char *text;
    size_t text_length;
    int utf8;  // nonzero: write an iTXt chunk (UTF-8); zero: a tEXt chunk (Latin-1)
} strobe_png_text;

/// Encoded PNG bytes (opaque; free with strobe_png_buffer_free).
typedef struct strobe_png_buffer strobe_png_buffer;

/// Encodes 8-bit interleaved RGB (height rows of width*3 bytes) as a non-interlaced PNG with
/// the given text chunks before the image data. compression_level is zlib's 0...9.
/// On failure *out is NULL and message holds a NUL-terminated reason.
strobe_png_status strobe_png_encode_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height,
                                         const strobe_png_text *texts, size_t text_count,
                                         int compression_level, strobe_png_buffer **out,
                                         char *message, size_t message_capacity);
const uint8_t *strobe_png_buffer_data(const strobe_png_buffer *buffer);
size_t strobe_png_buffer_size(const strobe_png_buffer *buffer);
void strobe_png_buffer_free(strobe_png_buffer *buffer);

/// A decoded image: RGB samples (palette expanded, grey replicated, alpha dropped, interlace
/// undone) of 8 or 16 bits, 16-bit samples big-endian; plus every tEXt, zTXt and iTXt chunk.
typedef struct strobe_png_image strobe_png_image;

/// Decodes PNG bytes. Images over max_pixels pixels are refused. On failure *out is NULL and
/// message holds libpng's reason.
strobe_png_status strobe_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                                    strobe_png_image **out, char *message,
                                    size_t message_capacity);
uint32_t strobe_png_image_width(const strobe_png_image *image);
uint32_t strobe_png_image_height(const strobe_png_image *image);
/// Bits per sample in strobe_png_image_rgb: 8 or 16.
int strobe_png_image_sample_bits(const strobe_png_image *image);
/// The file's own bit depth, colour type (PNG_COLOR_TYPE_*) and interlace method.
int strobe_png_image_source_bit_depth(const strobe_png_image *image);
int strobe_png_image_source_color_type(const strobe_png_image *image);
int strobe_png_image_source_interlaced(const strobe_png_image *image);
/// height rows of width*3 samples, tightly packed.
const uint8_t *strobe_png_image_rgb(const strobe_png_image *image);

/// The alpha samples (one per pixel, width · height, in strobe_png_image_sample_bits, 16-bit
/// big-endian), or NULL when the source has neither an alpha channel nor a tRNS chunk.
const uint8_t *strobe_png_image_alpha(const strobe_png_image *image);
size_t strobe_png_image_text_count(const strobe_png_image *image);
const char *strobe_png_image_text_key(const strobe_png_image *image, size_t index);
const char *strobe_png_image_text(const strobe_png_image *image, size_t index, size_t *length);
/// Nonzero when the chunk was iTXt (text is UTF-8); else tEXt/zTXt (Latin-1).
int strobe_png_image_text_is_utf8(const strobe_png_image *image, size_t index);
void strobe_png_image_free(strobe_png_image *image);

#ifdef __cplusplus
}
#endif

#endif
