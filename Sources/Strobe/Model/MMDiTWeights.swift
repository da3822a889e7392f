import StrobeTensor

// Shape legend
//   D   width        Dh  head size      Dt  text width      E  sinusoid size
//   P = C·p·p patch features            Pf = (C + 1)·p·p fill patch features

/// The latent MMDiT's parameters (tensor names in ``MMDiTCheckpoint``; weights-format.md §5.2).
public struct MMDiTWeights: Sendable {
    /// One stream (image or text) of a joint block: its own modulation, projections, q/k norms
    /// and MLP. The last block's text stream only gives keys and values: it has no queries,
    /// output projection or MLP, and two modulation chunks instead of six.
    public struct Stream: Sendable {
        /// `Linear(D → 6·D)`, or `D → 2·D` for a keys-and-values-only stream.
        public let modulation: LinearWeights
        /// `Linear(D → 3·D)` (q, k, v), or `D → 2·D` (k, v) for a keys-and-values-only stream.
        public let projections: LinearWeights
        /// Per-head RMSNorm weights `[Dh]` of the queries (nil without queries) and keys.
        public let queryNorm: Tensor?, keyNorm: Tensor
        /// `Linear(D → D)` after attention; nil for a keys-and-values-only stream.
        public let output: LinearWeights?
        /// The MLP, `D → M·D → D`; nil for a keys-and-values-only stream.
        public let fc1: LinearWeights?, fc2: LinearWeights?

        /// Whether the stream only gives keys and values (the last block's text stream).
        public var keysAndValuesOnly: Bool { output == nil }
    }

    /// One joint block.
    public struct Block: Sendable {
        /// The image stream.
        public let image: Stream
        /// The text stream.
        public let text: Stream
    }

    /// `Linear(P → D)`.
    public let patchEmbedding: LinearWeights
    /// `Linear(Pf → D)` without bias; nil when the model has no fill input.
    public let fillEmbedding: LinearWeights?
    /// `Linear(Dt → D)`: the text stream's input.
    public let contextEmbedding: LinearWeights
    /// The scalar embedder of the time t.
    public let timeEmbedder: DenoiserWeights.ScalarEmbedder
    /// The scalar embedder of the gap t − s.
    public let gapEmbedder: DenoiserWeights.ScalarEmbedder
    /// The scalar embedder of the guidance input β.
    public let guidanceEmbedder: DenoiserWeights.ScalarEmbedder
    /// `Linear(Dt → D)` of the mean text state.
    public let textPool: LinearWeights
    /// The joint blocks, the last one's text stream keys-and-values-only.
    public let blocks: [Block]
    /// `Linear(D → 2·D)`: the output's shift and scale.
    public let finalModulation: LinearWeights
    /// `Linear(D → P)`.
    public let finalLinear: LinearWeights
}
