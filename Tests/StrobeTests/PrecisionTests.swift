import Foundation
import StrobeTensor
import Testing
@testable import Strobe

/// `GenerationConfig.precision`: bf16 images against fp32's on the shipped model, determinism,
/// metadata, and the refusal where the CPU cannot run bf16.
@Suite struct PrecisionTests {
    static let prompts = [
        "a lighthouse on the left at golden hour, calm sea",
        "snowy peaks at dusk with a lake",
        "a red hot-air balloon on the right above desert dunes at noon",
        "a city skyline at night with stars and a moon",
        "a sailboat on the sea at sunset with birds",
    ]

    @Test("bf16 flash 4 images stay within 40 dB of fp32's for the bench prompts",
          .enabled(if: Precision.bf16.isSupported, "this CPU has no AVX512_BF16"))
    func bf16CloseToFP32() async throws {
        let engine = try StrobeEngine(modelPath: DefaultModelTests.modelPath)
        for (index, prompt) in Self.prompts.enumerated() {
            var config = GenerationConfig(prompt: prompt, seed: UInt64(index + 1))
            let fp32 = try await engine.generate(config).images[0]
            config.precision = .bf16
            let bf16 = try await engine.generate(config).images[0]
            let psnr = bf16.image.psnr(against: fp32.image)
            print("bf16 vs fp32, \(prompt): PSNR \(psnr) dB")
            #expect(psnr >= 40, "\(prompt): PSNR \(psnr) dB")
            #expect(psnr.isFinite, "bf16 should not reproduce fp32 bit for bit: is bf16 running at all?")
        }
    }

    @Test("bf16 images are the same bytes at any thread count and record their precision",
          .enabled(if: Precision.bf16.isSupported, "this CPU has no AVX512_BF16"))
    func bf16Deterministic() async throws {
        let engine = try StrobeEngine(modelPath: PipelineTests.modelPath)
        var pngs: [[UInt8]] = []
        for threads in [1, 2, 3] {
            let config = GenerationConfig(
                prompt: "a lighthouse", size: ImageSize(width: 64, height: 48), seed: 7, threads: threads, precision: .bf16)
            pngs.append(try await engine.generate(config).images[0].png)
        }
        #expect(pngs[1] == pngs[0] && pngs[2] == pngs[0])
        let file = try PNGCodec.decode(pngs[0])
        let json = try #require(file.text(forKey: "strobe"))
        #expect(json.contains("\"precision\":\"bf16\""), "\(json)")
        let fp32 = try await engine.generate(GenerationConfig(prompt: "a lighthouse", size: ImageSize(width: 64, height: 48), seed: 7))
        #expect(try PNGCodec.decode(fp32.images[0].png).text(forKey: "strobe")?.contains("precision") == false)
    }

    @Test("a configuration decodes its precision, fp32 when absent")
    func decoding() throws {
        let bf16 = try JSONDecoder().decode(GenerationConfig.self, from: Data(#"{"prompt":"x","precision":"bf16"}"#.utf8))
        #expect(bf16.precision == .bf16)
        let plain = try JSONDecoder().decode(GenerationConfig.self, from: Data(#"{"prompt":"x"}"#.utf8))
        #expect(plain.precision == .fp32)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(GenerationConfig.self, from: Data(#"{"prompt":"x","precision":"fp16"}"#.utf8))
        }
    }

    @Test("without AVX512_BF16, --precision bf16 is refused with the reason and writes nothing")
    func refusedWithoutBF16() throws {
        let directory = try TemporaryFile.directory()
        for command in [["generate", "a lighthouse", "-o", "x.png"], ["bench", "--modes", "flash_1"]] {
            let run = try CLITests.strobe(
                command + ["--precision", "bf16"] + ["--model", CLITests.model], in: directory,
                environment: ["STROBE_DISABLE_BF16": "1"])
            #expect(run.status != 0)
            #expect(run.stderr.contains("AVX512_BF16"), "\(run.stderr)")
            #expect(try CLITests.files(directory).isEmpty)
        }
        let unknown = try CLITests.strobe(["generate", "a lighthouse", "--precision", "fp16", "--model", CLITests.model],
                                          in: directory)
        #expect(unknown.status != 0 && unknown.stderr.contains("fp16"), "\(unknown.stderr)")
    }
}

/// On whatever CPU runs the tests, Strobe runs the widest OpenBLAS kernel family the CPU supports
/// among those the linked library has, unless OPENBLAS_CORETYPE chooses. The expectation is read
/// from /proc/cpuinfo, independently of Strobe's own CPUID code.
///
/// The tests leave OPENBLAS_CORETYPE as the environment has it (some machines set it on
/// purpose); `scripts/test-kernels` runs the parity suites under each family by hand.
@Suite struct KernelSelectionCLITests {
    /// Width ranks of OpenBLAS's families, as the rule ranks them.
    static let rank: [String: Int] = [
        "sapphirerapids": 5, "cooperlake": 5, "skylakex": 4, "haswell": 3, "zen": 3,
        "excavator": 2, "steamroller": 2, "piledriver": 2, "sandybridge": 1, "bulldozer": 1,
    ]

    /// The widest family the CPU's /proc/cpuinfo flags allow among those the library has.
    static func expectedFamily() throws -> String? {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains)
        let needs: [(String, Bool)] = [
            ("Cooperlake", avx512 && flags.contains("avx512_bf16")), ("SkylakeX", avx512),
            ("Haswell", flags.contains("avx2") && flags.contains("fma")), ("Sandybridge", flags.contains("avx")),
        ]
        return needs.first { $0.1 && BLAS.hasCore($0.0) }?.0
    }

    /// The family `strobe info` reports, and its line.
    static func reported(environment: [String: String?] = [:]) throws -> (core: String, line: String) {
        let directory = try TemporaryFile.directory()
        let run = try CLITests.strobe(["info", "--model", CLITests.model], in: directory, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("blas kernels: ") })
        let core = line.dropFirst("blas kernels: ".count).prefix { $0 != " " }
        return (String(core), String(line))
    }

    @Test("the kernels are the widest this CPU and library allow, or the ones OPENBLAS_CORETYPE names")
    func widest() throws {
        let (core, line) = try Self.reported()
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            #expect(line.contains("OPENBLAS_CORETYPE=\(forced) is set"), "\(line)")
            #expect(BLAS.coreName == core, "this process and strobe info agree: \(BLAS.coreName), \(line)")
            return
        }
        guard let expected = try Self.expectedFamily() else { return }  // an SSE-only CPU: nothing to upgrade
        #expect(Self.rank[core.lowercased()] == Self.rank[expected.lowercased()],
                "expected \(expected)-class kernels, got \(line)")
    }

    @Test("when OpenBLAS starts from narrower kernels, Strobe switches to the widest",
          .enabled(if: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
                   "OPENBLAS_CORETYPE is set here, and the tests leave it as it is"),
          arguments: ["Prescott", "Sandybridge"])
    func switchesUp(simulatedChoice: String) throws {
        guard let expected = try Self.expectedFamily(),
              Self.rank[expected.lowercased(), default: 0] > Self.rank[simulatedChoice.lowercased(), default: 0]
        else { return }
        let (core, line) = try Self.reported(environment: ["STROBE_TEST_OPENBLAS_CHOICE": simulatedChoice])
        #expect(core == expected, "\(line)")
        #expect(line.contains("OpenBLAS chose \(simulatedChoice)"), "\(line)")
    }
}
