import ArgumentParser
import Foundation
import Strobe
import StrobeBench

/// `strobe bench`: latency per mode and stage, throughput, memory, and the denoiser's FLOP rate
/// against sgemm measured in the same run. The measuring is in the StrobeBench library.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure generation latency, throughput, memory and the denoiser's FLOP rate.",
        discussion: """
            Each mode (<sampler>_<steps>, default flash_1,flash_2,flash_4,flash_8,full_100; edit_<sampler>_<steps> \
            modifies a Strobe-made 1:1 image at strength 0.6, inpaint_<sampler>_<steps> repaints its upper-right \
            quarter, reframe_<sampler>_<steps> extends it to 21:9 and is \
            compared with text to image at the same size) runs \
            its warm-up, then timed runs: one image from prompt to PNG bytes with the model loaded, \
            over a fixed set of prompts and seeds. Then images per second with 4 images per \
            request, and sgemm through the tensor core at the denoiser's own shapes and at 1024^3, \
            with the same threads. The canonical figures are taken with OPENBLAS_CORETYPE unset.
            """)

    @Option(help: "Model weights file, or a model name (see `strobe models`).")
    var model: String?

    @Option(name: .shortAndLong, help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Timed runs per flash mode.")
    var runs: Int = 5

    @Option(name: .customLong("full-runs"), help: "Timed runs per full-sampler mode.")
    var fullRuns: Int = 3

    @Option(help: "Untimed warm-up runs before each mode.")
    var warmup: Int = 1

    @Option(help: ArgumentHelp("Comma-separated modes, e.g. flash_4,full_100,edit_flash_4,inpaint_flash_4,reframe_flash_4.", valueName: "modes"))
    var modes: String?

    @Option(name: .customLong("aspect-ratio"), help: ArgumentHelp("Aspect ratio (default 1:1).", valueName: "W:H"))
    var aspectRatio: AspectRatio = .square

    @Option(help: ArgumentHelp("Explicit size instead of an aspect ratio.", valueName: "WxH"))
    var size: ImageSize?

    @Option(help: ArgumentHelp("Write the report as JSON to this file.", valueName: "path"))
    var json: String?

    @Option(help: ArgumentHelp(
        "Write each mode's first timed image (prompt 1, seed 1) as <mode>.png into this directory.",
        valueName: "directory"))
    var images: String?

    @Option(help: ArgumentHelp(
        "Matrix products in fp32 (default) or bf16; with bf16 every mode also runs in fp32, for the speed-up and PSNR.",
        valueName: "fp32|bf16"))
    var precision: Precision = .fp32

    @Flag(name: .customLong("no-throughput"), help: "Skip the images-per-second runs with 4 images.")
    var noThroughput = false

    @Flag(name: .customLong("no-sgemm"), help: "Skip the sgemm reference.")
    var noSgemm = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads \(threads) must be at least 1") }
        if runs < 1 { throw ValidationError("--runs \(runs) must be at least 1") }
        if fullRuns < 1 { throw ValidationError("--full-runs \(fullRuns) must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup \(warmup) must not be negative") }
        try checkPrecision(precision)
        if let modes {
            do { _ = try BenchMode.list(parsing: modes) } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        var settings = BenchSettings()
        if let threads { settings.threads = threads }
        if let modes { settings.modes = try BenchMode.list(parsing: modes) }
        settings.runs = runs
        settings.fullRuns = fullRuns
        settings.warmup = warmup
        settings.aspectRatio = aspectRatio
        settings.size = size
        settings.throughput = !noThroughput
        settings.sgemm = !noSgemm
        settings.precision = precision

        let environment = BenchEnvironment.current(threads: settings.threads)
        if let hint = environment.kernelHint { printError(hint) }
        let engine = try loadEngine(try locateModel(model))
        let report: Report
        do {
            report = try await BenchRunner(engine: engine, settings: settings).run(environment: environment) {
                printError("strobe bench: \($0)")
            }
        } catch {
            throw fail(error.description)
        }
        print(report.table(), terminator: "")
        if let json {
            do {
                try report.json().write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                throw fail("cannot write \(json): \(error.localizedDescription)")
            }
            printError("strobe bench: wrote \(json)")
        }
        if let images {
            do {
                try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
                for (mode, png) in report.firstImages.sorted(by: { $0.key < $1.key }) {
                    let path = (images as NSString).appendingPathComponent("\(mode).png")
                    try Data(png).write(to: URL(fileURLWithPath: path), options: .atomic)
                }
            } catch {
                throw fail("cannot write images into \(images): \(error.localizedDescription)")
            }
        }
    }
}
