// libFuzzer entry point for the strict weights reader. Each input goes through what
// `StrobeEngine` does to load a model (container, `__metadata__`, Strobe's keys, architecture,
// tensor names and shapes, fp32 conversion, tokenizer), then through `WeightsFile` without
// Strobe's keys, with every tensor read. Any bytes must give a loaded value or a typed error,
// never a crash, a leak or a memory error. The reader memory-maps a path, so each input is
// written to one scratch file first.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Strobe
import StrobeTensor

/// The scratch file, made once per process in `TMPDIR` (or `/tmp`).
let scratchPath: String = {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(directory)/strobe-fuzz-weights-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(fd >= 0, "cannot create a scratch file in \(directory)")
    close(fd)
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    atexit { _ = unlink(scratchPath) }
    return path
}()

/// Replaces the scratch file's contents with `size` bytes at `data`.
func writeScratch(_ data: UnsafePointer<UInt8>, _ size: Int) {
    let fd = open(scratchPath, O_WRONLY | O_TRUNC)
    precondition(fd >= 0, "cannot open the scratch file")
    defer { close(fd) }
    var written = 0
    while written < size {
        let n = write(fd, data + written, size - written)
        precondition(n > 0 || (n < 0 && errno == EINTR), "cannot write the scratch file")
        if n > 0 { written += n }
    }
}

/// Loads `size` bytes at `data` as a weights file; always returns 0 (libFuzzer's convention).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeights(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    writeScratch(data, size)
    if let file = try? WeightsFile(path: scratchPath) {
        // What `StrobeEngine(modelPath:)` does, but without its hashing thread (threads would
        // make libFuzzer run a leak check after every input).
        // Either family (v1 strobe-dit, v2 strobe-mmdit), as the file declares.
        if let model = try? LoadedModel(weights: file),
            let engine = try? StrobeEngine(file: file, model: model, sha256: "")
        {
            precondition(engine.tokenizer.vocabularySize <= engine.model.architecture.text.vocabSize)
            switch engine.model.architecture {
            case .pixel(let config): _ = StrobeDiTCheckpoint.expectedTensorShapes(for: config)
            case .latent(let config): _ = MMDiTCheckpoint.expectedTensorShapes(for: config)
            }
        }
    }
    if let file = try? WeightsFile(path: scratchPath, requireStrobeMetadata: false) {
        for (name, info) in file.tensors {
            let tensor = file.tensor(name)!
            precondition(tensor.shape == info.shape && tensor.storage.count == info.count, "tensor \(name)")
        }
    }
    return 0
}
