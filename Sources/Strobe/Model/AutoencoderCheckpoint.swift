import StrobeTensor

/// The one mapping place between the v2 autoencoder's tensor names and the typed weights the
/// forward code reads.
///
/// The names are the PyTorch `Autoencoder`'s `state_dict()` names (`encoder.levels.0.0.weight`,
/// `decoder.ups.2.blocks.0.norm1.weight`, `latent_mean`, …) after a prefix, `autoencoder.` by
/// default, so that the autoencoder can share a weights file with other parts of a model. Each
/// tensor is named and shaped once, in `build`; the expected name → shape table is what `build`
/// asks for when run against a recorder, so the validation and the loader cannot drift apart.
/// F32, F16 and BF16 storage are all read (converted to fp32).
public enum AutoencoderCheckpoint {
    /// The prefix of the autoencoder's tensors in a model file.
    public static let defaultPrefix = "autoencoder."

    /// Every tensor an autoencoder of `config` has, with its shape, named with `prefix`.
    public static func expectedTensorShapes(for config: AutoencoderConfig, prefix: String = defaultPrefix) -> [String: [Int]] {
        let recorder = AutoencoderShapeRecorder()
        _ = build(config, prefix: prefix, take: recorder.take)
        return recorder.shapes
    }

    /// Checks that `file` holds exactly the tensors of `config` among its names that start with
    /// `prefix` (a missing tensor, a wrong shape and an unexpected tensor under the prefix are
    /// all collected into one error; tensors outside the prefix belong to other parts and are
    /// ignored), then reads them into typed weights. A tensor with NaN or infinite values, or a
    /// `latent_std` that is not positive, is an error naming it.
    public static func load(
        _ file: WeightsFile, config: AutoencoderConfig, prefix: String = defaultPrefix
    ) throws(WeightsError) -> AutoencoderWeights {
        let expected = expectedTensorShapes(for: config, prefix: prefix)
        var problems: [WeightsProblem] = []
        for name in expected.keys.sorted() {
            guard let info = file.tensors[name] else {
                problems.append(.missingTensor(name))
                continue
            }
            if info.shape != expected[name]! {
                problems.append(.shapeMismatch(tensor: name, expected: expected[name]!, actual: info.shape))
            }
        }
        for name in file.tensors.keys.sorted() where name.hasPrefix(prefix) && expected[name] == nil {
            problems.append(.unexpectedTensor(name))
        }
        if !problems.isEmpty { throw WeightsError(path: file.path, problems: problems) }

        let weights = build(config, prefix: prefix) { name, shape in
            guard let tensor = file.tensor(name), tensor.shape == shape else {
                preconditionFailure("validated weights file lacks '\(name)' \(shape)")
            }
            if let (count, first) = NonFiniteScan.find(tensor.storage) {
                problems.append(.nonFiniteValues(tensor: name, count: count, first: first))
            }
            return tensor
        }
        if let bad = weights.latentStd.storage.firstIndex(where: { $0.isFinite && $0 <= 0 }) {
            problems.append(.invalidArchitecture(
                reason: "'\(prefix)latent_std' value \(bad) is \(weights.latentStd.storage[bad]); every channel's std must be positive"))
        }
        if !problems.isEmpty { throw WeightsError(path: file.path, problems: problems) }
        return weights
    }

    /// Asks `take` for every tensor, by name and shape, and assembles the weights.
    static func build(
        _ config: AutoencoderConfig, prefix: String, take: (String, [Int]) -> Tensor
    ) -> AutoencoderWeights {
        func conv(_ name: String, _ out: Int, _ inChannels: Int, _ k: Int = 3) -> Conv2DWeights {
            Conv2DWeights(weight: take(prefix + name + ".weight", [out, inChannels, k, k]), bias: take(prefix + name + ".bias", [out]))
        }
        func block(_ name: String, _ c: Int) -> AutoencoderResBlockWeights {
            AutoencoderResBlockWeights(
                norm1: take(prefix + name + ".norm1.weight", [c]), conv1: conv(name + ".conv1", c, c),
                norm2: take(prefix + name + ".norm2.weight", [c]), conv2: conv(name + ".conv2", c, c))
        }

        // encoder.levels.i is a Sequential: index 0 the stride-2 convolution, 1… the blocks.
        var previous = 3
        var levels: [AutoencoderEncoderWeights.Level] = []
        for (i, (c, n)) in zip(config.encoderChannels, config.encoderBlocks).enumerated() {
            let name = "encoder.levels.\(i)"
            levels.append(.init(down: conv(name + ".0", c, previous), blocks: (0..<n).map { block(name + ".\($0 + 1)", c) }))
            previous = c
        }
        let encoder = AutoencoderEncoderWeights(
            levels: levels, normOut: take(prefix + "encoder.norm_out.weight", [previous]),
            convOut: conv("encoder.conv_out", config.latentChannels, previous, 1))

        let widths = config.decoderChannels
        let decoder = AutoencoderDecoderWeights(
            convIn: conv("decoder.conv_in", widths[0], config.latentChannels),
            blocks0: (0..<config.decoderBlocks[0]).map { block("decoder.blocks0.\($0)", widths[0]) },
            ups: (1..<widths.count).map { i in
                .init(
                    conv: conv("decoder.ups.\(i - 1).conv", widths[i], widths[i - 1]),
                    blocks: (0..<config.decoderBlocks[i]).map { block("decoder.ups.\(i - 1).blocks.\($0)", widths[i]) })
            },
            normOut: take(prefix + "decoder.norm_out.weight", [widths[4]]),
            convOut: conv("decoder.conv_out", 3, widths[4]))

        return AutoencoderWeights(
            encoder: encoder, decoder: decoder,
            latentMean: take(prefix + "latent_mean", [config.latentChannels]),
            latentStd: take(prefix + "latent_std", [config.latentChannels]))
    }
}

/// Records the names and shapes asked for, handing back empty placeholders.
private final class AutoencoderShapeRecorder {
    private(set) var shapes: [String: [Int]] = [:]

    func take(_ name: String, _ shape: [Int]) -> Tensor {
        precondition(shapes[name] == nil, "autoencoder mapping asks for '\(name)' twice")
        shapes[name] = shape
        return Tensor(shape: [0], storage: [])
    }
}
