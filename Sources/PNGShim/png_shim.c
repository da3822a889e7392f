#include "png_shim.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Shared error handling: libpng calls strobe_error, which records the message and longjmps
// back to the setjmp in the public function that made the libpng call.

typedef struct error_context {
    char *message;
    size_t capacity;
} error_context;

static void set_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    size_t n = strlen(text);
    if (n >= capacity) n = capacity - 1;
    memcpy(message, text, n);
    message[n] = '\0';
}

static void strobe_error(png_structp png, png_const_charp text) {
    error_context *errors = (error_context *)png_get_error_ptr(png);
    if (errors != NULL) set_message(errors->message, errors->capacity, text ? text : "libpng error");
    png_longjmp(png, 1);
}

static void strobe_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // warnings (e.g. a bad ancillary chunk CRC) are not errors
}

// ---------------------------------------------------------------------------------------------
// Encoding

struct strobe_png_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
};

typedef struct encode_context {
    error_context errors;
    strobe_png_buffer *buffer;
    png_text *texts;
} encode_context;

static void buffer_write(png_structp png, png_bytep bytes, size_t length) {
    encode_context *context = (encode_context *)png_get_io_ptr(png);
    strobe_png_buffer *buffer = context->buffer;
    if (length > SIZE_MAX - buffer->size) png_error(png, "encoded PNG too large");
    size_t needed = buffer->size + length;
    if (needed > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 65536;
        while (capacity < needed) capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
        uint8_t *grown = (uint8_t *)realloc(buffer->data, capacity);
        if (grown == NULL) png_error(png, "out of memory growing the PNG buffer");
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, length);
    buffer->size = needed;
}

static void buffer_flush(png_structp png) { (void)png; }

strobe_png_status strobe_png_encode_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height,
                                         const strobe_png_text *texts, size_t text_count,
                                         int compression_level, strobe_png_buffer **out,
                                         char *message, size_t message_capacity) {
    *out = NULL;
    set_message(message, message_capacity, "");
    encode_context *context = (encode_context *)calloc(1, sizeof(encode_context));
    if (context == NULL) return STROBE_PNG_NO_MEMORY;
    context->errors.message = message;
    context->errors.capacity = message_capacity;
    context->buffer = (strobe_png_buffer *)calloc(1, sizeof(strobe_png_buffer));
    context->texts = text_count ? (png_text *)calloc(text_count, sizeof(png_text)) : NULL;
    if (context->buffer == NULL || (text_count && context->texts == NULL)) {
        free(context->buffer);
        free(context->texts);
        free(context);
        set_message(message, message_capacity, "out of memory");
        return STROBE_PNG_NO_MEMORY;
    }
    for (size_t i = 0; i < text_count; i++) {
        png_text *t = &context->texts[i];
        t->key = (png_charp)texts[i].key;
        t->text = (png_charp)texts[i].text;
        if (texts[i].utf8) {
            t->compression = PNG_ITXT_COMPRESSION_NONE;
            t->itxt_length = texts[i].text_length;
            t->lang = NULL;
            t->lang_key = NULL;
        } else {
            t->compression = PNG_TEXT_COMPRESSION_NONE;
            t->text_length = texts[i].text_length;
        }
    }

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context->errors,
                                              strobe_error, strobe_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL) {
        png_destroy_write_struct(&png, NULL);
        free(context->buffer);
        free(context->texts);
        free(context);
        set_message(message, message_capacity, "could not create libpng write structures");
        return STROBE_PNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(context->buffer->data);
        free(context->buffer);
        free(context->texts);
        free(context);
        return STROBE_PNG_ERROR;
    }
    png_set_write_fn(png, context, buffer_write, buffer_flush);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text_count) png_set_text(png, info, context->texts, (int)text_count);
    png_write_info(png, info);
    size_t stride = (size_t)width * 3;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, rgb + (size_t)y * stride);
    png_write_end(png, NULL);

    png_destroy_write_struct(&png, &info);
    *out = context->buffer;
    free(context->texts);
    free(context);
    return STROBE_PNG_OK;
}

const uint8_t *strobe_png_buffer_data(const strobe_png_buffer *buffer) { return buffer->data; }
size_t strobe_png_buffer_size(const strobe_png_buffer *buffer) { return buffer->size; }

void strobe_png_buffer_free(strobe_png_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->data);
    free(buffer);
}

// ---------------------------------------------------------------------------------------------
// Decoding

typedef struct decoded_text {
    char *key;
    char *text;
    size_t length;
    int utf8;
} decoded_text;

struct strobe_png_image {
    uint32_t width, height;
    int sample_bits;
    int source_bit_depth, source_color_type, source_interlaced;
    uint8_t *rgb;
    uint8_t *alpha;  // NULL when the source has no alpha channel and no tRNS chunk
    decoded_text *texts;
    size_t text_count;
};

typedef struct decode_context {
    error_context errors;
    const uint8_t *data;
    size_t size;
    size_t offset;
    strobe_png_image *image;
    uint8_t *scratch;  // RGBA rows before the alpha plane is split off
    png_bytep *rows;
} decode_context;

static void memory_read(png_structp png, png_bytep bytes, size_t length) {
    decode_context *context = (decode_context *)png_get_io_ptr(png);
    if (length > context->size - context->offset) png_error(png, "unexpected end of PNG data");
    memcpy(bytes, context->data + context->offset, length);
    context->offset += length;
}

void strobe_png_image_free(strobe_png_image *image) {
    if (image == NULL) return;
    for (size_t i = 0; i < image->text_count; i++) {
        free(image->texts[i].key);
        free(image->texts[i].text);
    }
    free(image->texts);
    free(image->rgb);
    free(image->alpha);
    free(image);
}

static void copy_texts(png_structp png, png_infop info, strobe_png_image *image) {
    png_textp texts = NULL;
    int count = png_get_text(png, info, &texts, NULL);
    if (count <= 0) return;
    decoded_text *grown = (decoded_text *)realloc(
        image->texts, (image->text_count + (size_t)count) * sizeof(decoded_text));
    if (grown == NULL) png_error(png, "out of memory copying text chunks");
    image->texts = grown;
    for (int i = 0; i < count; i++) {
        int utf8 = texts[i].compression == PNG_ITXT_COMPRESSION_NONE ||
                   texts[i].compression == PNG_ITXT_COMPRESSION_zTXt;
        size_t length = utf8 ? texts[i].itxt_length : texts[i].text_length;
        decoded_text *t = &image->texts[image->text_count];
        t->key = strdup(texts[i].key ? texts[i].key : "");
        t->text = (char *)malloc(length + 1);
        if (t->key == NULL || t->text == NULL) {
            free(t->key);
            free(t->text);
            png_error(png, "out of memory copying text chunks");
        }
        if (length) memcpy(t->text, texts[i].text, length);
        t->text[length] = '\0';
        t->length = length;
        t->utf8 = utf8;
        image->text_count++;
    }
}

// libpng allocates a chunk's declared length (up to 2 GiB) before it reads the chunk's data, so
// a few hostile bytes could make it allocate gigabytes. The whole input is here: every chunk up
// to IEND must fit in it. Returns 0 with a message otherwise. (A file that ends early in other
// ways is left to libpng, which reports it.)
static int chunks_fit(const uint8_t *data, size_t size, char *message, size_t message_capacity) {
    size_t offset = 8;
    while (size - offset >= 8) {  // a whole chunk header (length, type) is left
        const uint8_t *chunk = data + offset;
        uint32_t length = (uint32_t)chunk[0] << 24 | (uint32_t)chunk[1] << 16 |
                          (uint32_t)chunk[2] << 8 | (uint32_t)chunk[3];
        size_t left = size - offset - 8;  // the chunk's data and CRC must be in here
        if (left < 4 || length > left - 4) {
            char text[160];
            snprintf(text, sizeof text,
                     "truncated PNG: the chunk at byte %zu declares %u data bytes, but %zu remain",
                     offset, length, left < 4 ? (size_t)0 : left - 4);
            set_message(message, message_capacity, text);
            return 0;
        }
        if (memcmp(chunk + 4, "IEND", 4) == 0) return 1;
        offset += 12 + (size_t)length;
    }
    return 1;
}

strobe_png_status strobe_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                                    strobe_png_image **out, char *message,
                                    size_t message_capacity) {
    *out = NULL;
    set_message(message, message_capacity, "");
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(message, message_capacity, "not a PNG file (bad signature)");
        return STROBE_PNG_ERROR;
    }
    if (!chunks_fit(data, size, message, message_capacity)) return STROBE_PNG_ERROR;
    decode_context *context = (decode_context *)calloc(1, sizeof(decode_context));
    strobe_png_image *image = (strobe_png_image *)calloc(1, sizeof(strobe_png_image));
    if (context == NULL || image == NULL) {
        free(context);
        free(image);
        set_message(message, message_capacity, "out of memory");
        return STROBE_PNG_NO_MEMORY;
    }
    context->errors.message = message;
    context->errors.capacity = message_capacity;
    context->data = data;
    context->size = size;
    context->image = image;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context->errors,
                                             strobe_error, strobe_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_infop end_info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL || end_info == NULL) {
        png_destroy_read_struct(&png, info ? &info : NULL, end_info ? &end_info : NULL);
        free(context);
        free(image);
        set_message(message, message_capacity, "could not create libpng read structures");
        return STROBE_PNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, &end_info);
        free(context->rows);
        free(context->scratch);
        strobe_png_image_free(context->image);
        free(context);
        return STROBE_PNG_ERROR;
    }
    png_set_read_fn(png, context, memory_read);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > max_pixels) png_error(png, "image has too many pixels");
    image->width = width;
    image->height = height;
    image->source_bit_depth = bit_depth;
    image->source_color_type = color_type;
    image->source_interlaced = interlace != PNG_INTERLACE_NONE;

    int has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS);
    png_set_expand(png);       // palette → RGB, grey < 8 bits → 8 bits, tRNS → alpha
    png_set_gray_to_rgb(png);  // grey → RGB
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int sample_bits = png_get_bit_depth(png, info);
    int channels = has_alpha ? 4 : 3;
    size_t row_bytes = png_get_rowbytes(png, info);
    size_t sample_bytes = (size_t)(sample_bits / 8);
    size_t expected = (size_t)width * (size_t)channels * sample_bytes;
    if (png_get_channels(png, info) != channels || (sample_bits != 8 && sample_bits != 16) ||
        row_bytes != expected)
        png_error(png, "unexpected layout after RGB conversion");
    image->sample_bits = sample_bits;
    size_t pixels = (size_t)width * height;
    image->rgb = (uint8_t *)malloc(pixels * 3 * sample_bytes ? pixels * 3 * sample_bytes : 1);
    uint8_t *decoded = has_alpha ? (uint8_t *)malloc(row_bytes * height ? row_bytes * height : 1) : image->rgb;
    if (has_alpha) image->alpha = (uint8_t *)malloc(pixels * sample_bytes ? pixels * sample_bytes : 1);
    context->rows = (png_bytep *)malloc(sizeof(png_bytep) * (height ? height : 1));
    context->scratch = has_alpha ? decoded : NULL;
    if (image->rgb == NULL || decoded == NULL || (has_alpha && image->alpha == NULL) || context->rows == NULL)
        png_error(png, "out of memory for pixels");
    for (png_uint_32 y = 0; y < height; y++) context->rows[y] = decoded + (size_t)y * row_bytes;
    png_read_image(png, context->rows);
    if (has_alpha) {
        // RGBA → the RGB samples and a separate alpha plane, in the same sample size.
        for (size_t i = 0; i < pixels; i++) {
            memcpy(image->rgb + i * 3 * sample_bytes, decoded + i * 4 * sample_bytes, 3 * sample_bytes);
            memcpy(image->alpha + i * sample_bytes, decoded + (i * 4 + 3) * sample_bytes, sample_bytes);
        }
    }
    png_read_end(png, end_info);
    copy_texts(png, info, image);
    copy_texts(png, end_info, image);

    png_destroy_read_struct(&png, &info, &end_info);
    free(context->rows);
    free(context->scratch);
    free(context);
    *out = image;
    return STROBE_PNG_OK;
}

uint32_t strobe_png_image_width(const strobe_png_image *image) { return image->width; }
uint32_t strobe_png_image_height(const strobe_png_image *image) { return image->height; }
int strobe_png_image_sample_bits(const strobe_png_image *image) { return image->sample_bits; }
int strobe_png_image_source_bit_depth(const strobe_png_image *image) {
    return image->source_bit_depth;
}
int strobe_png_image_source_color_type(const strobe_png_image *image) {
    return image->source_color_type;
}
const uint8_t *strobe_png_image_alpha(const strobe_png_image *image) { return image->alpha; }

int strobe_png_image_source_interlaced(const strobe_png_image *image) {
    return image->source_interlaced;
}
const uint8_t *strobe_png_image_rgb(const strobe_png_image *image) { return image->rgb; }
size_t strobe_png_image_text_count(const strobe_png_image *image) { return image->text_count; }
const char *strobe_png_image_text_key(const strobe_png_image *image, size_t index) {
    return image->texts[index].key;
}
const char *strobe_png_image_text(const strobe_png_image *image, size_t index, size_t *length) {
    if (length) *length = image->texts[index].length;
    return image->texts[index].text;
}
int strobe_png_image_text_is_utf8(const strobe_png_image *image, size_t index) {
    return image->texts[index].utf8;
}
