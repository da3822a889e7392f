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

    /// The architecture, one line per part.
    static func architectureLines(_ config: ModelArchitecture, tokenizerPieces: Int) -> [String] {
        let text = config.text
        var lines = [
            "architecture: \(config.family), x-prediction, prompts up to \(config.maxPromptTokens) tokens, "
                + "sides multiples of \(config.sideMultiple) px",
            "  text encoder: \(text.numLayers) layers, width \(text.dModel), \(text.numHeads) heads of \(text.dKV), "
                + "feed-forward \(text.dFF), vocabulary \(text.vocabSize) (tokenizer \(tokenizerPieces))",
        ]
        switch config {
        case .pixel(let c):
            let d = c.denoiser
            lines.append("  denoiser: depth \(d.depth), width \(d.hiddenSize), \(d.numHeads) heads of \(d.headDim), "
                + "patch \(d.patchSize), \(d.channels) channels, mlp ratio \(d.mlpRatio)")
        case .latent(let c):
            let d = c.denoiser, a = c.autoencoder
            lines.append("  denoiser: joint text–image attention, depth \(d.depth), width \(d.hiddenSize), "
                + "\(d.numHeads) heads of \(d.headDim), latent patch \(d.patchSize), mlp ratios \(d.mlpRatio) "
                + "(image) and \(d.textMLPRatio) (text), fill input \(d.fill ? "yes" : "no")")
            lines.append("  autoencoder: \(a.latentChannels) latent channels at 1/\(c.latentFactor) of each side, "
                + "decoder widths \(a.decoderChannels.map(String.init).joined(separator: " ")), \(a.upsample.rawValue) upsampling")
        }
        return lines
    }

    func run() async throws {
        let engine = try loadEngine(try locateModel(model))
        let info = engine.info, config = info.architecture
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
        lines += Self.architectureLines(config, tokenizerPieces: info.vocabularySize)
        lines.append("parameters: \(grouped(info.parameterCount))")
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
