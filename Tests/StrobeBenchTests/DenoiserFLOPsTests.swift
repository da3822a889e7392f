import Testing
import Strobe
@testable import StrobeBench

/// The denoiser's FLOP count against a count made by hand, and the FLOP-weighted rate.
@Suite struct DenoiserFLOPsTests {
    /// Width 48, 2 heads of 24, depth 2, patch 8, sinusoids 32, MLP ratio 4: P = 3·8·8 = 192.
    static let config = try! DenoiserConfig(
        channels: 3, patchSize: 8, hiddenSize: 48, depth: 2, numHeads: 2, mlpRatio: 4, frequencyEmbeddingSize: 32)

    @Test func oneImageMatchesHandCount() {
        // 32x16 pixels: N = 4·2 = 8 tokens; L = 5 text tokens.
        //   embedders  3·2·1·32·48 + 3·2·1·48·48                       =  23,040
        //   patch      2·8·192·48                                      = 147,456
        //   per block  modulation 2·1·48·288 = 27,648; qkv 2·8·48·144 = 110,592;
        //              QKᵀ and P·V 2 heads · 2·8·24·8 · 2 = 12,288; projection, cross query and
        //              cross projection 3 · 2·8·48·48 = 110,592; cross QKᵀ and P·V
        //              2 heads · 2·8·24·5 · 2 = 3,840; MLP 2 · 2·8·48·192 = 294,912   → 563,712
        //   final      modulation 2·48·96 = 9,216; linear 2·8·48·192 = 147,456        → 156,672
        let flops = Self.config.flopsPerCall(height: 16, width: 32, textLength: 5)
        #expect(flops == 23_040 + 147_456 + 2 * 563_712 + 156_672)
        #expect(flops == 1_454_592)
    }

    @Test func productsListEveryMatrixProductOnce() {
        let products = Self.config.matrixProducts(height: 16, width: 32, textLength: 5)
        #expect(products.count == 16)
        #expect(Set(products.map(\.name)).count == products.count)
        let qkv = products.first { $0.name == "self-attention qkv" }
        #expect(qkv == MatrixProduct(name: "self-attention qkv", kind: .linear, m: 8, k: 48, n: 144, count: 2))
        let scores = products.first { $0.name == "self-attention QKᵀ" }
        #expect(scores == MatrixProduct(name: "self-attention QKᵀ", kind: .scores, m: 8, k: 24, n: 8, count: 4, group: 2))
        let cross = products.first { $0.name == "cross-attention P·V" }
        #expect(cross == MatrixProduct(name: "cross-attention P·V", kind: .values, m: 8, k: 5, n: 24, count: 4, group: 2))
    }

    @Test func batchWithOnePromptSharesCrossAttentionProducts() {
        // Two images, one prompt: rows B·N = 16; self-attention per image and head; the
        // cross-attention's queries of both images in one product per head.
        let products = Self.config.matrixProducts(images: 2, height: 16, width: 32, textLength: 5)
        #expect(products.first { $0.name == "self-attention QKᵀ" }?.count == 2 * 2 * 2)
        let cross = products.first { $0.name == "cross-attention QKᵀ" }
        #expect(cross?.m == 16 && cross?.count == 4)
        #expect(Self.config.flopsPerCall(images: 2, height: 16, width: 32, textLength: 5) == 2_821_632)
    }

    @Test func shippedModelCallIsAboutFourAndAHalfGFLOP() {
        // The default architecture at 256x256 (256 tokens): the linear layers alone are
        // 8 blocks · 2·256·256·(768 + 3·256 + 2·1024) = 3.76 GFLOP.
        let config = try! DenoiserConfig()
        let flops = config.flopsPerCall(height: 256, width: 256, textLength: 12)
        #expect(flops > 4.3e9 && flops < 4.6e9, "\(flops)")
    }

    @Test func weightedRateIsTheHarmonicMeanByFLOPs() {
        // 100 FLOPs at 10 GFLOPS and 100 at 50: 200 FLOPs in 10 + 2 time units.
        #expect(abs(SgemmReference.weightedRate([(100, 10), (100, 50)]) - 200.0 / 12) < 1e-12)
        #expect(SgemmReference.weightedRate([(0, 5), (300, 30)]) == 30)
        #expect(SgemmReference.weightedRate([]) == 0)
    }
}
