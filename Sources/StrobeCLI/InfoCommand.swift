import ArgumentParser
import Foundation
import Strobe
import StrobeTensor

/// `strobe info`: what a model file holds.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's architecture, parameter count, tensor types and sampler defaults.")

    @Option(help: "Model weights file, or a model name (default: $STROBE_MODEL, else \(ModelLocator.defaultModelName)).")
    var model: String?

    /// What this machine runs: CPU features, the BLAS kernels and why, the fused kernels, bf16.
    static func machineLines() -> [String] {
        let core = BLAS.prepare()
        return [
            "cpu features: \(CPUFeatures.current.summary)",
            "blas kernels: \(core) (\(BLAS.selectionReason))",
            "blas kernel families this CPU runs: \(BLAS.runnableCores.joined(separator: " "))",
            "fused kernels: \(Kernels.instructionSet)",
            "bf16 (--precision bf16): \(Precision.bf16.unsupportedReason.map { "not available: \($0)" } ?? "available")",
        ]
    }

    func run() async throws {
        let engine = try loadEngine(try locateModel(model))
        let info = engine.info, config = info.architecture
        let text = config.text, denoiser = config.denoiser
        func grouped(_ n: Int) -> String {
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.groupingSeparator = ","
            formatter.usesGroupingSeparator = true
            return formatter.string(from: NSNumber(value: n)) ?? "\(n)"
        }
        var lines = [
            "model: \(info.name)",
            "file: \(info.path) (\(grouped(info.fileSize)) bytes)",
            "sha256: \(info.sha256)",
        ]
        if let description = info.description { lines.append("description: \(description)") }
        lines += [
            "architecture: \(config.family), \(config.prediction)-prediction, prompts up to \(config.maxPromptTokens) tokens",
            "  text encoder: \(text.numLayers) layers, width \(text.dModel), \(text.numHeads) heads of \(text.dKV), "
                + "feed-forward \(text.dFF), vocabulary \(text.vocabSize) (tokenizer \(info.vocabularySize))",
            "  denoiser: depth \(denoiser.depth), width \(denoiser.hiddenSize), \(denoiser.numHeads) heads of "
                + "\(denoiser.headDim), patch \(denoiser.patchSize), \(denoiser.channels) channels, mlp ratio \(denoiser.mlpRatio)",
            "parameters: \(grouped(info.parameterCount))",
        ]
        for dtype in info.tensorsByDType.keys.sorted() {
            lines.append("  \(dtype): \(info.tensorsByDType[dtype]!) tensors, \(grouped(info.parametersByDType[dtype]!)) parameters")
        }
        let defaults = info.samplerDefaults
        lines.append("sampler defaults: flash \(defaults.flashSteps) steps, full \(defaults.fullSteps) steps, guidance \(defaults.guidance)")
        lines.append("aspect ratios: " + AspectRatio.allCases.map { "\($0.rawValue) \(engine.size(of: $0))" }.joined(separator: ", "))
        lines += Self.machineLines()
        print(lines.joined(separator: "\n"))
    }
}
