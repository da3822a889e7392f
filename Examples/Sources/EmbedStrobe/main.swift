// EmbedStrobe: Strobe as a library, in one small program.
//
//     swift run -c release EmbedStrobe [MODEL] [OUTPUT-DIRECTORY]
//
// Loads the model once, then: one image with a progress handler; a generation cancelled from
// its progress handler; several requests at once on the same engine; and each kind of error a
// request can meet. It exits non-zero if any of these does not behave as shown.

import Foundation
import Strobe

/// Prints to standard error.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Stops the example with a message and a non-zero exit status.
func fail(_ message: String) -> Never {
    log("EmbedStrobe: \(message)")
    exit(1)
}

let arguments = CommandLine.arguments.dropFirst()
let modelPath = arguments.first ?? "../Models/strobe-scenes.safetensors"
let outputDirectory = URL(fileURLWithPath: arguments.dropFirst().first ?? NSTemporaryDirectory())

// 1. Load once. The engine is Sendable: keep it for the life of your program and share it.
let engine: StrobeEngine
do {
    engine = try StrobeEngine(modelPath: modelPath)
} catch {
    fail("cannot load \(modelPath): \(error)")  // PipelineError.modelNotFound, .weights(…)
}
log("loaded \(engine.info.name) (\(engine.info.parameterCount) parameters)")

// 2. Generate with a progress handler. Everything but the prompt has a default.
var config = GenerationConfig(prompt: "a lighthouse on the left at golden hour, calm sea")
config.aspectRatio = .landscape16x9
config.seed = 42
let result: GenerationResult
do {
    result = try await engine.generate(config) { progress in
        log("  step \(progress.step)/\(progress.steps), \(progress.completedCalls)/\(progress.totalCalls) calls")
        return .proceed
    }
} catch {
    fail("generation failed: \(error)")
}
let image = result.images[0]
let path = outputDirectory.appendingPathComponent("embed-strobe-\(image.seed).png")
do {
    try Data(image.png).write(to: path, options: .atomic)  // PNG bytes with metadata
} catch {
    fail("cannot write \(path.path): \(error)")
}
log("wrote \(path.path) (\(image.image.width)x\(image.image.height), seed \(image.seed))")

// 3. Cancel: return .cancel from the progress handler (or cancel the task); the call throws
// PipelineError.cancelled after the current network call and returns no image.
do {
    _ = try await engine.generate(GenerationConfig(prompt: "snowy peaks at dusk", seed: 1)) { progress in
        progress.step >= 2 ? .cancel : .proceed
    }
    fail("the cancelled generation returned an image")
} catch .cancelled {
    log("cancelled after 2 steps, as asked")
} catch {
    fail("cancelling gave \(error) instead of .cancelled")
}

// 4. Several requests at once on one engine. Each image depends only on its own request:
// the same seed gives the same bytes however many run beside it.
let prompts = ["a red hot-air balloon above desert dunes", "a city skyline at night", "a sailboat at sunset"]
let concurrent = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
    for (index, prompt) in prompts.enumerated() {
        group.addTask {
            let request = GenerationConfig(prompt: prompt, size: ImageSize(width: 64, height: 64), seed: 7)
            return (index, try await engine.generate(request).images[0].png)
        }
    }
    var pngs = [[UInt8]](repeating: [], count: prompts.count)
    for try await (index, png) in group { pngs[index] = png }
    return pngs
}
for (index, prompt) in prompts.enumerated() {
    let alone = try await engine.generate(GenerationConfig(prompt: prompt, size: ImageSize(width: 64, height: 64), seed: 7))
    guard alone.images[0].png == concurrent[index] else { fail("'\(prompt)' differs when run concurrently") }
}
log("\(prompts.count) concurrent requests: each image identical to its request run alone")

// 5. Errors. Every failure is a PipelineError whose description is a sentence for a person;
// its cases carry the values a program needs. Requests are checked before any work starts.
var tooLong = GenerationConfig(prompt: String(repeating: "lighthouse ", count: 2000))
tooLong.seed = 1
let requests: [(String, GenerationConfig)] = [
    ("a prompt over the limit", tooLong),
    ("a size that is not a multiple of the patch size", GenerationConfig(prompt: "a lake", size: ImageSize(width: 100, height: 64))),
    ("too many steps for the flash sampler", GenerationConfig(prompt: "a lake", steps: 50)),
    ("a zero image count", GenerationConfig(prompt: "a lake", count: 0)),
    ("a control character in the prompt", GenerationConfig(prompt: "a lake\u{7}")),
]
for (what, request) in requests {
    do {
        _ = try await engine.generate(request)
        fail("\(what) was accepted")
    } catch {
        switch error {
        case let .promptTooLong(tokens, limit):
            log("\(what): \(tokens) tokens > \(limit): \(error)")
        case let .invalidSize(width, height, patchSize):
            log("\(what): \(width)x\(height), patch \(patchSize): \(error)")
        case let .invalidSteps(sampler, steps, allowed):
            log("\(what): \(sampler) takes \(allowed), not \(steps): \(error)")
        case let .invalidCount(count):
            log("\(what): \(count): \(error)")
        case let .invalidPrompt(reason):
            log("\(what): \(reason)")
        case .promptTooLarge, .invalidThreads, .unsupportedPrecision, .insufficientMemory, .unknownAspectRatio, .invalidEdit:
            log("\(what): refused before any work: \(error)")
        case .cancelled:
            log("\(what): cancelled")
        case .weights, .tokenizer, .image, .modelNotFound, .namedModelMissing:
            log("\(what): a problem with the model or a file: \(error)")
        }
    }
}
do {
    _ = try StrobeEngine(modelPath: "no-such-model.safetensors")
    fail("a missing model loaded")
} catch .modelNotFound(let missing) {
    log("a missing model file: \(missing)")
} catch {
    fail("a missing model gave \(error)")
}
log("done")
