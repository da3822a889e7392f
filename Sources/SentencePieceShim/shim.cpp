// C API over sentencepiece::SentencePieceProcessor (see include/strobe_spm.h).
// Every entry point catches all exceptions; errors go to a thread-local message.

#include "strobe_spm.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

struct strobe_spm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

thread_local std::string last_error;

strobe_spm_status fail(strobe_spm_status status, std::string message) {
    try {
        last_error = std::move(message);
    } catch (...) {
        // Keep whatever message was there; the status still reports the failure.
    }
    return status;
}

// Maps a SentencePiece status to a shim status and records its message.
strobe_spm_status fail(const sentencepiece::util::Status &status, strobe_spm_status fallback) {
    using sentencepiece::util::StatusCode;
    strobe_spm_status code = fallback;
    switch (status.code()) {
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied:
        code = STROBE_SPM_NOT_FOUND;
        break;
    case StatusCode::kResourceExhausted:
        code = STROBE_SPM_OUT_OF_MEMORY;
        break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
        if (fallback != STROBE_SPM_INVALID_MODEL) code = STROBE_SPM_INVALID_ARGUMENT;
        break;
    default:
        break;
    }
    return fail(code, status.ToString());
}

// Runs `body`, turning any escaping exception into a status.
template <typename Body>
strobe_spm_status guarded(Body body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(STROBE_SPM_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception &e) {
        return fail(STROBE_SPM_INTERNAL, std::string("unexpected C++ exception: ") + e.what());
    } catch (...) {
        return fail(STROBE_SPM_INTERNAL, "unexpected C++ exception");
    }
}

strobe_spm_status check_ids(const strobe_spm *spm, const int32_t *ids, size_t count) {
    const int n = spm->processor.GetPieceSize();
    for (size_t i = 0; i < count; ++i) {
        if (ids[i] < 0 || ids[i] >= n) {
            return fail(STROBE_SPM_INVALID_ARGUMENT,
                        "id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                            " is out of range [0, " + std::to_string(n) + ")");
        }
    }
    return STROBE_SPM_OK;
}

// Copies `s` into a malloc'd NUL-terminated buffer owned by the shim.
strobe_spm_status copy_string(const std::string &s, char **out, size_t *len) {
    char *buffer = static_cast<char *>(std::malloc(s.size() + 1));
    if (buffer == nullptr) return fail(STROBE_SPM_OUT_OF_MEMORY, "out of memory");
    std::memcpy(buffer, s.data(), s.size());
    buffer[s.size()] = '\0';
    *out = buffer;
    if (len != nullptr) *len = s.size();
    return STROBE_SPM_OK;
}

strobe_spm_status encode_vector(const strobe_spm *spm, const char *text, size_t len,
                                std::vector<int> *ids) {
    if (spm == nullptr) return fail(STROBE_SPM_INVALID_ARGUMENT, "null handle");
    if (text == nullptr && len != 0) return fail(STROBE_SPM_INVALID_ARGUMENT, "null text");
    const auto status = spm->processor.Encode(
        std::string_view(text == nullptr ? "" : text, len), ids);
    if (!status.ok()) return fail(status, STROBE_SPM_INTERNAL);
    return STROBE_SPM_OK;
}

strobe_spm_status load(std::unique_ptr<strobe_spm> spm, const sentencepiece::util::Status &status,
                       strobe_spm **out) {
    if (!status.ok()) return fail(status, STROBE_SPM_INVALID_MODEL);
    *out = spm.release();
    return STROBE_SPM_OK;
}

// Reads an integer property; `fallback` for a null handle or an exception.
template <typename Getter>
int32_t query(const strobe_spm *spm, int32_t fallback, Getter get) noexcept {
    if (spm == nullptr) return fallback;
    try {
        return static_cast<int32_t>(get(spm->processor));
    } catch (...) {
        return fallback;
    }
}

}  // namespace

extern "C" {

const char *strobe_spm_last_error(void) { return last_error.c_str(); }

strobe_spm_status strobe_spm_load_file(const char *path, strobe_spm **out) {
    return guarded([&] {
        if (path == nullptr || out == nullptr) return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        *out = nullptr;
        auto spm = std::make_unique<strobe_spm>();
        const auto status = spm->processor.Load(std::string_view(path));
        return load(std::move(spm), status, out);
    });
}

strobe_spm_status strobe_spm_load_bytes(const void *data, size_t size, strobe_spm **out) {
    return guarded([&] {
        if ((data == nullptr && size != 0) || out == nullptr)
            return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        *out = nullptr;
        auto spm = std::make_unique<strobe_spm>();
        const auto status = spm->processor.LoadFromSerializedProto(
            std::string_view(data == nullptr ? "" : static_cast<const char *>(data), size));
        return load(std::move(spm), status, out);
    });
}

void strobe_spm_free(strobe_spm *spm) {
    try {
        delete spm;
    } catch (...) {
    }
}

strobe_spm_status strobe_spm_encode(const strobe_spm *spm, const char *text, size_t len,
                                    int32_t *ids, size_t capacity, size_t *count) {
    return guarded([&] {
        if (count == nullptr || (ids == nullptr && capacity != 0))
            return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        std::vector<int> result;
        const auto status = encode_vector(spm, text, len, &result);
        if (status != STROBE_SPM_OK) return status;
        *count = result.size();
        if (result.size() > capacity) {
            return fail(STROBE_SPM_BUFFER_TOO_SMALL,
                        "buffer of " + std::to_string(capacity) + " ids is too small for " +
                            std::to_string(result.size()));
        }
        for (size_t i = 0; i < result.size(); ++i) ids[i] = static_cast<int32_t>(result[i]);
        return STROBE_SPM_OK;
    });
}

strobe_spm_status strobe_spm_encode_alloc(const strobe_spm *spm, const char *text, size_t len,
                                          int32_t **ids, size_t *count) {
    return guarded([&] {
        if (ids == nullptr || count == nullptr) return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        std::vector<int> result;
        const auto status = encode_vector(spm, text, len, &result);
        if (status != STROBE_SPM_OK) return status;
        // Allocate at least one element so an empty result is still a freeable pointer.
        auto *buffer = static_cast<int32_t *>(std::malloc(sizeof(int32_t) * (result.size() + 1)));
        if (buffer == nullptr) return fail(STROBE_SPM_OUT_OF_MEMORY, "out of memory");
        for (size_t i = 0; i < result.size(); ++i) buffer[i] = static_cast<int32_t>(result[i]);
        *ids = buffer;
        *count = result.size();
        return STROBE_SPM_OK;
    });
}

void strobe_spm_ids_free(int32_t *ids) { std::free(ids); }

strobe_spm_status strobe_spm_decode(const strobe_spm *spm, const int32_t *ids, size_t count,
                                    char **text, size_t *len) {
    return guarded([&] {
        if (spm == nullptr || text == nullptr || (ids == nullptr && count != 0))
            return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        const auto range = check_ids(spm, ids, count);
        if (range != STROBE_SPM_OK) return range;
        const std::vector<int> input(ids, ids + count);
        std::string result;
        const auto status = spm->processor.Decode(input, &result);
        if (!status.ok()) return fail(status, STROBE_SPM_INTERNAL);
        return copy_string(result, text, len);
    });
}

void strobe_spm_string_free(char *text) { std::free(text); }

strobe_spm_status strobe_spm_id_to_piece(const strobe_spm *spm, int32_t id, char **piece,
                                         size_t *len) {
    return guarded([&] {
        if (spm == nullptr || piece == nullptr) return fail(STROBE_SPM_INVALID_ARGUMENT, "null argument");
        const auto range = check_ids(spm, &id, 1);
        if (range != STROBE_SPM_OK) return range;
        return copy_string(spm->processor.IdToPiece(id), piece, len);
    });
}

int32_t strobe_spm_piece_count(const strobe_spm *spm) {
    return query(spm, 0, [](const auto &p) { return p.GetPieceSize(); });
}

int32_t strobe_spm_eos_id(const strobe_spm *spm) {
    return query(spm, -1, [](const auto &p) { return p.eos_id(); });
}

int32_t strobe_spm_unk_id(const strobe_spm *spm) {
    return query(spm, -1, [](const auto &p) { return p.unk_id(); });
}

int32_t strobe_spm_pad_id(const strobe_spm *spm) {
    return query(spm, -1, [](const auto &p) { return p.pad_id(); });
}

int32_t strobe_spm_bos_id(const strobe_spm *spm) {
    return query(spm, -1, [](const auto &p) { return p.bos_id(); });
}

}  // extern "C"
