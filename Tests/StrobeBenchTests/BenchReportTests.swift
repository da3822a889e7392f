import Foundation
import StrobeTensor
import Testing
import Strobe
@testable import StrobeBench

/// Modes, settings, environment hints and the JSON report's shape. No timing is asserted.
@Suite struct BenchReportTests {
    @Test func modesParse() throws {
        #expect(BenchMode(parsing: "flash_4") == BenchMode(.flash, steps: 4))
        #expect(BenchMode(parsing: "full_100") == BenchMode(.full, steps: 100))
        for bad in ["flash_11", "full_0", "fast_4", "flash4", "flash_", "flash_4_2", ""] {
            #expect(BenchMode(parsing: bad) == nil, "\(bad)")
        }
        #expect(try BenchMode.list(parsing: "full_100, flash_4,full_100") == [BenchMode(.full, steps: 100), BenchMode(.flash, steps: 4)])
        #expect(throws: BenchError.invalidMode("flash_99")) { try BenchMode.list(parsing: "flash_4,flash_99") }
        #expect(BenchMode.standard.map(\.name) == ["flash_1", "flash_2", "flash_4", "flash_8", "full_100"])
    }

    @Test func settingsCycleThroughPromptsAndSeeds() throws {
        var settings = BenchSettings(threads: 2)
        #expect(settings.input(0) == (BenchSettings.defaultPrompts[0], 1))
        #expect(settings.input(6) == (BenchSettings.defaultPrompts[1], 2))
        #expect(settings.runs(for: BenchMode(.full, steps: 100)) == 3)
        #expect(settings.runs(for: BenchMode(.flash, steps: 2)) == 5)
        settings.runs = 0
        #expect(throws: BenchError.self) { try settings.validate() }
    }

    @Test func kernelHintOnlyWhenAnAVX2CoreIsForcedOnAnAVX512CPU() {
        var env = BenchEnvironment(
            openblasCore: "Haswell", openblasCoretypeEnv: "Haswell", threads: 2, cpus: 2, cpu: nil, avx512: true,
            strobeVersion: "0")
        #expect(env.kernelHint?.contains("env -u OPENBLAS_CORETYPE") == true)
        env.openblasCoretypeEnv = nil
        #expect(env.kernelHint == nil)
        env.openblasCoretypeEnv = "SKYLAKEX"
        env.openblasCore = "SkylakeX"
        #expect(env.kernelHint == nil)
        env.openblasCoretypeEnv = "Haswell"
        env.openblasCore = "Haswell"
        env.avx512 = false
        #expect(env.kernelHint == nil)
    }

    @Test func editModesParse() throws {
        #expect(BenchMode(parsing: "edit_flash_4") == BenchMode(.flash, steps: 4, operation: .edit))
        #expect(BenchMode(parsing: "reframe_full_100")?.name == "reframe_full_100")
        #expect(BenchMode(parsing: "inpaint_flash_4") == BenchMode(.flash, steps: 4, operation: .inpaint))
        #expect(BenchMode(parsing: "flash_4")?.operation == .generate)
        for bad in ["generate_flash_4", "edit_flash_11", "crop_flash_4", "edit__4", "edit_flash"] {
            #expect(BenchMode(parsing: bad) == nil, "\(bad)")
        }
        #expect(try BenchMode.list(parsing: "flash_4,edit_flash_4,flash_4").map(\.name) == ["flash_4", "edit_flash_4"])
    }

    @Test func noteOnlyOnCPUsWithNeitherAVX512NorAVX2() {
        var env = BenchEnvironment(
            openblasCore: "Sandybridge", openblasCoretypeEnv: nil, threads: 2, cpus: 2, cpu: nil, avx512: false,
            strobeVersion: "0")
        env.kernels = "baseline"
        env.cpuFeatures = "SSE3 AVX"
        #expect(env.narrowCPUNote?.contains("neither AVX-512 nor AVX2") == true)
        #expect(env.narrowCPUNote?.contains("Sandybridge") == true)
        env.cpuFeatures = "SSE3 AVX AVX2+FMA"
        #expect(env.narrowCPUNote == nil)
        env.cpuFeatures = CPUFeatures.current.summary
        #expect((env.narrowCPUNote == nil) == CPUFeatures.current.contains(.avx2FMA))
    }

    @Test func procStatusAndCPUInfoParse() {
        let status = "Name:\tstrobe\nVmPeak:\t  200000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n"
        #expect(ProcessMemory.parseStatusField("VmHWM", in: status) == 51200)
        #expect(ProcessMemory.parseStatusField("VmSwap", in: status) == nil)
        #expect(ProcessMemory.peakResidentMiB() > 0)
        let cpuinfo = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512f avx512bw\n"
        let (model, flags) = BenchEnvironment.parseCPUInfo(cpuinfo)
        #expect(model == "Some CPU")
        #expect(flags.contains("avx512f") && !flags.contains("avx512vl"))
    }

    static func report() -> Report {
        let modes = BenchMode.standard.map { mode in
            Report.ModeResult(
                mode: mode, runMilliseconds: [30, 10, 20], stages: ["tokenize": 0.1, "denoise": 8],
                callMilliseconds: Array(repeating: 2, count: mode.steps),
                allCallMilliseconds: Array(repeating: 2, count: 3 * mode.steps), textLengths: [12, 12, 12])
        }
        let products = [MatrixProduct(name: "a", kind: .linear, m: 4, k: 4, n: 4, count: 1)]
        let sgemm = SgemmReference(
            shapes: [SgemmReference.Shape(product: products[0], medianMilliseconds: 1, runs: 5, gflops: 0.5)],
            weightedGFLOPS: 400, square1024GFLOPS: 350)
        return Report(
            modes: modes,
            throughput: Report.Throughput(mode: BenchMode.throughput, count1: 4, count4: 4.2, count4Batched: 5, runs: 3),
            denoiser: Report.DenoiserRate(flopsPerCall: 4e9, textLength: 12, callMedianMilliseconds: 40, calls: 100),
            sgemm: sgemm, peakRSSMiB: 300, weightsMiB: 31.2,
            environment: BenchEnvironment(
                openblasCore: "SkylakeX", openblasCoretypeEnv: nil, threads: 2, cpus: 2, cpu: "CPU", avx512: true,
                strobeVersion: "0"),
            setup: Report.Setup(
                model: "m", modelSHA256: "00", size: ImageSize(width: 256, height: 256), prompts: ["p"], seeds: [1],
                runs: 3, fullRuns: 3, warmup: 1, modes: BenchMode.standard.map(\.name)))
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let report = Self.report()
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        for key in ["flash_1", "flash_2", "flash_4", "flash_8", "full_100", "denoiser_vs_sgemm", "peak_rss_mib",
                    "weights_mib", "denoiser", "sgemm", "throughput", "environment", "settings"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let flash4 = try #require(object["flash_4"] as? [String: Any])
        #expect(flash4["median_ms"] as? Double == 20)
        #expect(flash4["min_ms"] as? Double == 10)
        #expect((flash4["denoiser_call_ms"] as? [Double])?.count == 4)
        // (4e9 FLOPs / 40 ms = 100 GFLOPS) / 400 GFLOPS.
        #expect(object["denoiser_vs_sgemm"] as? Double == 0.25)
        #expect(object["weights_mib"] as? Double == 31.2)
        let throughput = try #require(object["throughput"] as? [String: Any])
        #expect(throughput["count_4_images_per_second"] as? Double == 4.2)
        let environment = try #require(object["environment"] as? [String: Any])
        #expect(environment["openblas_core"] as? String == "SkylakeX")
        #expect(report.table().contains("denoiser / sgemm: 0.250"))
    }
}
