#include "image_input.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <stb_image_resize.h>

struct strobe_jpeg_image {
    uint32_t width, height;
    uint8_t *rgb;
    int orientation;
    const char *color_space;
};

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int warned;
} error_manager;

static void on_error(j_common_ptr cinfo) {
    error_manager *errors = (error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, errors->message);
    longjmp(errors->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    // level −1 is a warning (a truncated or corrupt stream): refuse the image rather than
    // return libjpeg's guess at the missing pixels.
    error_manager *errors = (error_manager *)cinfo->err;
    if (level < 0 && !errors->warned) {
        errors->warned = 1;
        (*cinfo->err->format_message)(cinfo, errors->message);
    }
}

static void set_message(char *message, size_t size, const char *text) {
    if (message && size) snprintf(message, size, "%s", text);
}

/// The EXIF orientation in an APP1 marker's data, or 1.
static int exif_orientation(const uint8_t *data, unsigned length) {
    if (length < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *tiff = data + 6;
    unsigned size = length - 6;
    int little = tiff[0] == 'I' && tiff[1] == 'I';
    if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
#define U16(p) (little ? (unsigned)((p)[0] | (p)[1] << 8) : (unsigned)((p)[0] << 8 | (p)[1]))
#define U32(p) (little ? ((uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24) \
                       : ((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (uint32_t)(p)[3]))
    uint32_t ifd = U32(tiff + 4);
    if (ifd > size - 2) return 1;
    unsigned entries = U16(tiff + ifd);
    for (unsigned i = 0; i < entries; i++) {
        uint32_t entry = ifd + 2 + 12 * i;
        if (entry + 12 > size) return 1;
        if (U16(tiff + entry) == 0x0112 && U16(tiff + entry + 2) == 3) {
            unsigned value = U16(tiff + entry + 8);
            return value >= 1 && value <= 8 ? (int)value : 1;
        }
    }
#undef U16
#undef U32
    return 1;
}

int strobe_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, strobe_jpeg_image **out,
                       char *message, size_t message_size) {
    *out = NULL;
    struct jpeg_decompress_struct cinfo;
    error_manager errors;
    memset(&errors, 0, sizeof errors);
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = on_error;
    errors.base.emit_message = on_message;
    strobe_jpeg_image *volatile image = calloc(1, sizeof(strobe_jpeg_image));
    uint8_t *volatile row_buffer = NULL;
    if (image == NULL) {
        set_message(message, message_size, "out of memory");
        return STROBE_IMAGE_ERROR;
    }
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(row_buffer);
        strobe_jpeg_image_free(image);
        set_message(message, message_size, errors.message);
        return STROBE_IMAGE_ERROR;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    image->orientation = 1;
    for (jpeg_saved_marker_ptr marker = cinfo.marker_list; marker; marker = marker->next) {
        // APP1 also carries XMP; take the first one that is Exif.
        if (marker->marker == JPEG_APP0 + 1 && marker->data_length >= 6 && memcmp(marker->data, "Exif\0\0", 6) == 0) {
            image->orientation = exif_orientation(marker->data, marker->data_length);
            break;
        }
    }
    uint64_t pixels = (uint64_t)cinfo.image_width * cinfo.image_height;
    if (pixels == 0 || pixels > max_pixels) {
        if (message && message_size)
            snprintf(message, message_size, "%ux%u pixels: %s", cinfo.image_width, cinfo.image_height,
                     pixels == 0 ? "an empty image" : "more pixels than allowed");
        jpeg_destroy_decompress(&cinfo);
        strobe_jpeg_image_free(image);
        return pixels == 0 ? STROBE_IMAGE_ERROR : STROBE_IMAGE_TOO_LARGE;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: image->color_space = "grey"; break;
    case JCS_RGB: image->color_space = "rgb"; break;
    case JCS_CMYK: image->color_space = "cmyk"; break;
    case JCS_YCCK: image->color_space = "ycck"; break;
    default: image->color_space = "ycbcr"; break;
    }
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    image->width = cinfo.output_width;
    image->height = cinfo.output_height;
    int components = cinfo.output_components;
    image->rgb = malloc((size_t)image->width * image->height * 3);
    row_buffer = malloc((size_t)image->width * (size_t)components);
    if (image->rgb == NULL || row_buffer == NULL) {
        snprintf(errors.message, sizeof errors.message, "out of memory for %ux%u pixels", image->width, image->height);
        longjmp(errors.jump, 1);
    }
    // Adobe's CMYK JPEGs store inverted values (0 = full ink).
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = row_buffer;
        uint32_t y = cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, (JSAMPARRAY)&row, 1);
        uint8_t *dst = image->rgb + (size_t)y * image->width * 3;
        if (!cmyk) {
            memcpy(dst, row_buffer, (size_t)image->width * 3);
            continue;
        }
        for (uint32_t x = 0; x < image->width; x++) {
            const uint8_t *p = row_buffer + 4 * x;
            unsigned k = inverted ? p[3] : 255u - p[3];
            for (int c = 0; c < 3; c++) {
                unsigned ink = inverted ? p[c] : 255u - p[c];
                dst[3 * x + c] = (uint8_t)((ink * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    free(row_buffer);
    row_buffer = NULL;
    if (errors.warned) {
        char warning[JMSG_LENGTH_MAX];
        memcpy(warning, errors.message, sizeof warning);
        snprintf(errors.message, sizeof errors.message, "damaged JPEG data: %s", warning);
        jpeg_destroy_decompress(&cinfo);
        strobe_jpeg_image_free(image);
        set_message(message, message_size, errors.message);
        return STROBE_IMAGE_ERROR;
    }
    jpeg_destroy_decompress(&cinfo);
    *out = image;
    return STROBE_IMAGE_OK;
}

void strobe_jpeg_image_free(strobe_jpeg_image *image) {
    if (image == NULL) return;
    free(image->rgb);
    free(image);
}

uint32_t strobe_jpeg_image_width(const strobe_jpeg_image *image) { return image->width; }
uint32_t strobe_jpeg_image_height(const strobe_jpeg_image *image) { return image->height; }
const uint8_t *strobe_jpeg_image_rgb(const strobe_jpeg_image *image) { return image->rgb; }
int strobe_jpeg_image_orientation(const strobe_jpeg_image *image) { return image->orientation; }
const char *strobe_jpeg_image_source_color_space(const strobe_jpeg_image *image) { return image->color_space; }

int strobe_resize(const float *input, int in_w, int in_h, float *output, int out_w, int out_h, int channels) {
    int ok = stbir_resize_float_generic(input, in_w, in_h, 0, output, out_w, out_h, 0, channels,
                                        STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_DEFAULT,
                                        STBIR_COLORSPACE_LINEAR, NULL);
    return ok ? 0 : 1;
}
