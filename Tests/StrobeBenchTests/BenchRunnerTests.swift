import Foundation
import Testing
import Strobe
@testable import StrobeBench

/// `strobe bench`'s runner end to end on the small random fixture model, with the least work:
/// the report has every part, and its counts follow the settings.
@Suite struct BenchRunnerTests {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../StrobeTests/Fixtures/model/random.safetensors").standardized.path

    @Test func reportCoversEveryPart() async throws {
        let engine = try StrobeEngine(modelPath: Self.modelPath)
        var settings = BenchSettings(threads: 2)
        settings.modes = [BenchMode(.flash, steps: 2), BenchMode(.full, steps: 3)]
        settings.runs = 2
        settings.fullRuns = 1
        settings.warmup = 0
        settings.size = ImageSize(width: 32, height: 16)
        settings.sgemmMinSeconds = 0
        let report = try await BenchRunner(engine: engine, settings: settings)
            .run(environment: BenchEnvironment.current(threads: 2))
        #expect(report.modes.map(\.mode.name) == ["flash_2", "full_3"])
        #expect(report.modes.map(\.runMilliseconds.count) == [2, 1])
        #expect(report.modes.map(\.callMilliseconds.count) == [2, 3])
        #expect(report.modes[0].allCallMilliseconds.count == 4)
        #expect(Set(report.modes[0].stages.keys) == Set(Report.ModeResult.stageNames))
        #expect(report.firstImages["flash_2"]?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
        // The throughput mode (flash 4) did not run, so its count-1 rate was measured apart.
        #expect(report.throughput?.mode == BenchMode.throughput)
        let denoiser = try #require(report.denoiser)
        let pixelModel = try #require(engine.model.pixel)
        #expect(denoiser.calls == 7)
        #expect(denoiser.flopsPerCall == pixelModel.config.denoiser.flopsPerCall(
            height: 16, width: 32, textLength: denoiser.textLength))
        let sgemm = try #require(report.sgemm)
        #expect(sgemm.shapes.map(\.product) == pixelModel.config.denoiser.matrixProducts(
            height: 16, width: 32, textLength: denoiser.textLength))
        #expect(report.denoiserVsSgemm != nil)
        #expect(report.weightsMiB > 0 && report.peakRSSMiB > 0)
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect(object["flash_2"] != nil && object["full_3"] != nil && object["denoiser_vs_sgemm"] != nil)
    }
}
