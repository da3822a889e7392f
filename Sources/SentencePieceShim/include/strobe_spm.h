/*
 * strobe_spm.h — a small C API over SentencePiece's C++ SentencePieceProcessor.
 *
 * Conventions:
 *   - `strobe_spm` is an opaque handle; create it with strobe_spm_load_file or
 *     strobe_spm_load_bytes and release it with strobe_spm_free.
 *   - Functions that can fail return a strobe_spm_status. On failure, the
 *     message (SentencePiece's util::Status text where there is one) is
 *     available from strobe_spm_last_error() on the same thread, until the next
 *     failing call on that thread.
 *   - No C++ exception crosses this API.
 *   - Memory returned by this API is freed by this API (strobe_spm_ids_free,
 *     strobe_spm_string_free), never by the caller's allocator.
 *   - A loaded handle is immutable: every function taking `const strobe_spm *`
 *     may be called concurrently from several threads.
 *   - Text is UTF-8, passed with an explicit byte length (it may contain NUL).
 */
#ifndef STROBE_SPM_H
#define STROBE_SPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a loaded SentencePiece model. */
typedef struct strobe_spm strobe_spm;

/** Result of a fallible call. */
typedef enum strobe_spm_status {
    STROBE_SPM_OK = 0,
    /** A null pointer, an id out of range, or another bad argument. */
    STROBE_SPM_INVALID_ARGUMENT = 1,
    /** The model file does not exist or cannot be opened. */
    STROBE_SPM_NOT_FOUND = 2,
    /** The model could not be parsed or initialised. */
    STROBE_SPM_INVALID_MODEL = 3,
    /** The caller's buffer is too small; the required count is reported. */
    STROBE_SPM_BUFFER_TOO_SMALL = 4,
    /** Memory could not be allocated. */
    STROBE_SPM_OUT_OF_MEMORY = 5,
    /** Any other failure inside SentencePiece or the shim. */
    STROBE_SPM_INTERNAL = 6
} strobe_spm_status;

/** The message of the last failing call on this thread ("" if none). Never null. */
const char *strobe_spm_last_error(void);

/** Loads a model from a file path (NUL-terminated). On success `*out` owns a new handle. */
strobe_spm_status strobe_spm_load_file(const char *path, strobe_spm **out);

/** Loads a model from a serialized ModelProto (`size` bytes). The bytes are copied. */
strobe_spm_status strobe_spm_load_bytes(const void *data, size_t size, strobe_spm **out);

/** Releases a handle. Null is allowed. */
void strobe_spm_free(strobe_spm *spm);

/**
 * Encodes `len` bytes of UTF-8 `text` into ids written to `ids` (capacity `capacity`).
 * `*count` receives the number of ids. If `capacity` is too small, returns
 * STROBE_SPM_BUFFER_TOO_SMALL with the required count in `*count` and writes nothing.
 * `ids` may be null when `capacity` is 0.
 */
strobe_spm_status strobe_spm_encode(const strobe_spm *spm, const char *text, size_t len,
                                    int32_t *ids, size_t capacity, size_t *count);

/**
 * Encodes into a new array owned by the shim; free it with strobe_spm_ids_free.
 * For an empty result `*ids` is a valid (freeable) pointer and `*count` is 0.
 */
strobe_spm_status strobe_spm_encode_alloc(const strobe_spm *spm, const char *text, size_t len,
                                          int32_t **ids, size_t *count);

/** Frees an array returned by strobe_spm_encode_alloc. Null is allowed. */
void strobe_spm_ids_free(int32_t *ids);

/**
 * Decodes `count` ids into a new NUL-terminated UTF-8 string owned by the shim
 * (free it with strobe_spm_string_free); `*len` receives its byte length.
 * Every id must be in [0, piece count), else STROBE_SPM_INVALID_ARGUMENT.
 */
strobe_spm_status strobe_spm_decode(const strobe_spm *spm, const int32_t *ids, size_t count,
                                    char **text, size_t *len);

/** Frees a string returned by this API. Null is allowed. */
void strobe_spm_string_free(char *text);

/**
 * The piece for `id` as a new NUL-terminated string (free with strobe_spm_string_free).
 * Returns STROBE_SPM_INVALID_ARGUMENT if `id` is out of range.
 */
strobe_spm_status strobe_spm_id_to_piece(const strobe_spm *spm, int32_t id,
                                         char **piece, size_t *len);

/** Number of pieces (the vocabulary size). */
int32_t strobe_spm_piece_count(const strobe_spm *spm);

/** Special ids; -1 when the model has no such piece. */
int32_t strobe_spm_eos_id(const strobe_spm *spm);
int32_t strobe_spm_unk_id(const strobe_spm *spm);
int32_t strobe_spm_pad_id(const strobe_spm *spm);
int32_t strobe_spm_bos_id(const strobe_spm *spm);

#ifdef __cplusplus
}
#endif

#endif /* STROBE_SPM_H */
