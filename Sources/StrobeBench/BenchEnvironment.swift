import Foundation
import Strobe
import StrobeTensor

/// Facts about the machine and the kernels a benchmark ran with.
public struct BenchEnvironment: Encodable, Sendable, Equatable {
    /// The OpenBLAS kernel family in use (`BLAS.coreName`), e.g. `SkylakeX`, `Haswell`.
    public var openblasCore: String
    /// `OPENBLAS_CORETYPE` as the user set it, or nil.
    public var openblasCoretypeEnv: String?
    /// Strobe's threads.
    public var threads: Int
    /// CPUs available to the process.
    public var cpus: Int
    /// The CPU's model name, where `/proc/cpuinfo` tells it.
    public var cpu: String?
    /// Whether the CPU has AVX-512 (F, BW, VL, DQ).
    public var avx512: Bool
    /// Strobe's version.
    public var strobeVersion: String
    /// The family OpenBLAS chose by itself, before Strobe's selection.
    public var openblasChoice: String = ""
    /// Why ``openblasCore`` is in use (``BLAS/selectionReason``).
    public var selectionReason: String = ""
    /// The CPU features that decide the kernels (``CPUFeatures/summary``).
    public var cpuFeatures: String = ""
    /// The instruction set of Strobe's fused element-wise kernels.
    public var kernels: String = ""
    /// Whether this CPU runs bf16 products.
    public var bf16: Bool = false

    enum CodingKeys: String, CodingKey {
        case openblasCore = "openblas_core", openblasCoretypeEnv = "openblas_coretype_env", threads, cpus, cpu
        case avx512, strobeVersion = "strobe_version", openblasChoice = "openblas_choice"
        case selectionReason = "selection_reason", cpuFeatures = "cpu_features", kernels, bf16
    }

    /// OpenBLAS's kernel families that use AVX-512.
    public static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids", "zen4", "zen5"]

    /// Whether `core` (a name as `BLAS.coreName` gives it) uses AVX-512 kernels.
    public static func isAVX512Core(_ core: String) -> Bool { avx512Cores.contains(core.lowercased()) }

    /// A one-line hint when `OPENBLAS_CORETYPE` forces kernels without AVX-512 on an AVX-512 CPU;
    /// nil otherwise.
    public var kernelHint: String? {
        guard avx512, let forced = openblasCoretypeEnv, !Self.isAVX512Core(openblasCore) else { return nil }
        return "hint: OPENBLAS_CORETYPE=\(forced) selects OpenBLAS's \(openblasCore) kernels, without AVX-512, "
            + "on this AVX-512 CPU; unset it (env -u OPENBLAS_CORETYPE) and Strobe selects the AVX-512 ones"
    }

    /// A one-line note when the CPU has neither AVX-512 nor AVX2: everything runs, on narrower
    /// (slower) kernels. Nil otherwise.
    public var narrowCPUNote: String? {
        let wide: Set<String> = ["AVX-512", "AVX2+FMA"]
        guard !cpuFeatures.isEmpty, wide.isDisjoint(with: cpuFeatures.split(separator: " ").map(String.init)) else { return nil }
        return "note: this CPU has neither AVX-512 nor AVX2 (features: \(cpuFeatures)); Strobe runs on its \(kernels) "
            + "kernels and OpenBLAS's \(openblasCore) ones, which are several times slower than on AVX2 CPUs"
    }

    /// Reads the environment. Call before the first BLAS call (`BLAS.prepare()` may set and
    /// unset `OPENBLAS_CORETYPE` itself); this calls it.
    public static func current(threads: Int) -> BenchEnvironment {
        let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let core = BLAS.prepare()
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = parseCPUInfo(cpuinfo).model
        let avx512 = CPUFeatures.current.contains(.avx512)
        var environment = BenchEnvironment(
            openblasCore: core, openblasCoretypeEnv: forced, threads: threads,
            cpus: ProcessInfo.processInfo.activeProcessorCount, cpu: model, avx512: avx512,
            strobeVersion: Strobe.strobeVersion)
        environment.openblasChoice = BLAS.openblasChoice
        environment.selectionReason = BLAS.selectionReason
        environment.cpuFeatures = CPUFeatures.current.summary
        environment.kernels = Kernels.instructionSet
        environment.bf16 = Precision.bf16.isSupported
        return environment
    }

    /// The first `model name` and `flags` of `/proc/cpuinfo` text.
    static func parseCPUInfo(_ text: String) -> (model: String?, flags: Set<String>) {
        var model: String?, flags: Set<String>?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "model name", model == nil { model = value }
            if key == "flags", flags == nil { flags = Set(value.split(separator: " ").map(String.init)) }
            if model != nil, flags != nil { break }
        }
        return (model, flags ?? [])
    }
}
