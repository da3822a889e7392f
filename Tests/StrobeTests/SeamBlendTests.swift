import Testing
@testable import Strobe

/// The seamless-blending correction of inpainting and Reframe (``SeamBlend``): its multigrid
/// solver against the plain Gauss–Seidel twin and against problems with a known answer.
@Suite struct SeamBlendTests {
    /// One 8-bit level: the solver stops within it of the converged correction.
    static let level: Float = 1 / 255

    /// Deterministic values in [0, 1).
    static func noise(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
    }

    @Test func multigridMatchesNaiveOnAnIrregularRegion() {
        let (w, h) = (53, 37)
        // Ω: a disc and a band reaching the canvas edge, so both Dirichlet and no-flux borders occur.
        let region = (0..<w * h).map { i -> Bool in
            let (x, y) = (Float(i % w), Float(i / w))
            return (x - 20) * (x - 20) + (y - 18) * (y - 18) < 140 || (y > 28 && x > 10)
        }
        let known = Self.noise(3 * w * h, seed: 1), generated = Self.noise(3 * w * h, seed: 2)
        let fast = SeamBlend.correction(known: known, generated: generated, region: region, width: w, height: h)
        let naive = SeamBlend.correctionNaive(known: known, generated: generated, region: region, width: w, height: h)
        let largest = zip(fast, naive).map { abs($0 - $1) }.max()!
        #expect(largest < Self.level, "multigrid differs from Gauss–Seidel by \(largest)")
        for i in 0..<3 * w * h where !region[i % (w * h)] { #expect(fast[i] == 0) }
        #expect(naive.contains { $0 != 0 })
    }

    @Test func aUniformOffsetIsRemovedEverywhere() {
        let (w, h) = (96, 40)
        // Reframe's shape: the known image in the middle, new columns either side.
        let region = (0..<w * h).map { i in i % w < 28 || i % w >= 68 }
        // A known image whose slope is the same everywhere (the guidance across the border then
        // equals the generated image's own step there): the correction is the offset, exactly.
        let known = (0..<3 * w * h).map { Float($0 % w) / Float(2 * w) + Float($0 / w % h) / Float(3 * h) + Float($0 / (w * h)) * 0.1 }
        let generated = known.enumerated().map { $0.element + ($0.offset < w * h ? 0.2 : -0.1) }
        let d = SeamBlend.correction(known: known, generated: generated, region: region, width: w, height: h)
        for i in 0..<3 * w * h where region[i % (w * h)] {
            #expect(abs(d[i] - (i < w * h ? -0.2 : 0.1)) < Self.level / 2)
        }
    }

    @Test func aRampBetweenTwoKnownSidesIsLinear() {
        // Known columns 0 (difference 0) and w − 1 (difference 1), Ω between, no flux at top and
        // bottom: the harmonic correction is x / (w − 1).
        let (w, h) = (41, 9)
        let region = (0..<w * h).map { i in i % w != 0 && i % w != w - 1 }
        let generated = [Float](repeating: 0, count: 3 * w * h)
        let known = (0..<3 * w * h).map { Float($0 % w == w - 1 ? 1 : 0) }
        for solver in [{ SeamBlend.correction(known: $0, generated: $1, region: $2, width: $3, height: $4) }, { SeamBlend.correctionNaive(known: $0, generated: $1, region: $2, width: $3, height: $4) }] {
            let d = solver(known, generated, region, w, h)
            for i in 0..<3 * w * h where region[i % (w * h)] {
                #expect(abs(d[i] - Float(i % w) / Float(w - 1)) < Self.level / 2)
            }
        }
    }

    @Test func aRegionThatTouchesNothingKnownIsLeftAlone() {
        // On a connected canvas only Ω = the whole canvas touches no known pixel (a mask of
        // everything): it gets no correction. Any smaller Ω is reachable whole.
        let (w, h) = (12, 10)
        let everything = [Bool](repeating: true, count: w * h)
        let d = SeamBlend.correction(known: Self.noise(3 * w * h, seed: 4), generated: Self.noise(3 * w * h, seed: 5),
                                     region: everything, width: w, height: h)
        #expect(d.allSatisfy { $0 == 0 })
        #expect(SeamBlend.reachable(everything, width: w, height: h).allSatisfy { !$0 })
        var strip = [Bool](repeating: false, count: w * h)
        for x in 0..<4 { for y in 0..<h { strip[y * w + x] = true } }
        #expect(SeamBlend.reachable(strip, width: w, height: h) == strip)
    }

    @Test func aLongThinCanvasComesClose() {
        // 8×256 known along its top rows: the pyramid coarsens to a line; the smooth part of the
        // correction may stop a little short at the far end (the documented limit), not more.
        let (w, h) = (8, 256)
        let region = (0..<w * h).map { $0 / w >= 10 }
        let known = Self.noise(3 * w * h, seed: 6), generated = Self.noise(3 * w * h, seed: 7)
        let fast = SeamBlend.correction(known: known, generated: generated, region: region, width: w, height: h)
        let naive = SeamBlend.correctionNaive(known: known, generated: generated, region: region, width: w, height: h,
                                              tolerance: 1e-9)
        let largest = zip(fast, naive).map { abs($0 - $1) }.max()!
        #expect(largest < 0.01, "multigrid differs from Gauss–Seidel by \(largest)")
    }

    /// An edit of a horizontal ramp whose sampler drew the pixels where `keep > 0` 0.3 too bright
    /// (a step at the border): the setup, the known image and the generated one.
    static func brightEdit(width w: Int, height h: Int, keep: [Float]) throws
        -> (setup: EditSetup, known: RGBImage, generated: RGBImage) {
        let known = try RGBImage(width: w, height: h, pixels: (0..<3 * w * h).map { Float($0 % w) / Float(4 * w) })
        let setup = EditSetup(
            operation: "inpaint", knownPixels: known, mask: keep, startTime: 1, inputSHA256: "", settings: [:],
            promptSource: "none", space: PixelDecoder(channels: 3), fill: false, featherRadius: 0)
        let generated = try RGBImage(width: w, height: h, pixels: known.pixels.enumerated().map {
            $0.element + (keep[$0.offset % (w * h)] > 0 ? 0.3 : 0)
        })
        return (setup, known, generated)
    }

    @Test func theCompositeKeepsKnownPixelsAndTheGeneratedStepAtTheBorderGoes() throws {
        // Reframe-shaped: the composite equals the input outside the new area and continues its
        // ramp inside it.
        let (w, h) = (64, 32)
        let mask = (0..<w * h).map { Float($0 % w >= 40 ? 1 : 0) }
        let (setup, known, generated) = try Self.brightEdit(width: w, height: h, keep: mask)
        let out = setup.composite(generated)
        for i in 0..<3 * w * h {
            if mask[i % (w * h)] == 0 { #expect(out.pixels[i] == known.pixels[i]) }
            else { #expect(abs(out.pixels[i] - known.pixels[i]) < Self.level) }
        }
    }

    @Test func aTextureAlongTheBorderFadesIntoTheRegion() {
        // The known side has a fine stripe pattern along the border that the generated side lacks:
        // the blended pixels next to the border carry part of it, and it has faded a few pixels in.
        let (w, h) = (48, 32)
        let region = (0..<w * h).map { $0 % w >= 24 }
        let known = (0..<3 * w * h).map { Float(($0 / w) % 2) * 0.5 }
        let generated = [Float](repeating: 0.25, count: 3 * w * h)
        let d = SeamBlend.correction(known: known, generated: generated, region: region, width: w, height: h)
        func amplitude(_ x: Int) -> Float { abs(d[10 * w + x] - d[11 * w + x]) }
        #expect(amplitude(24) > 0.05)
        #expect(amplitude(28) < 0.01)
    }

    @Test func aSoftMaskMixesTheBlendedPixelsWithTheKnownOnes() throws {
        // keep = ½ over the new area: the output is ½·(generated + D) + ½·known, and with the
        // sampler 0.3 too bright there, D takes the 0.3 back: the known image.
        let (w, h) = (48, 16)
        let keep = (0..<w * h).map { Float($0 % w >= 30 ? 0.5 : 0) }
        let (setup, known, generated) = try Self.brightEdit(width: w, height: h, keep: keep)
        let out = setup.composite(generated)
        let plain = setup.composite(generated, seamless: false)
        for i in 0..<3 * w * h {
            if keep[i % (w * h)] == 0 { #expect(out.pixels[i] == known.pixels[i]) }
            else {
                #expect(abs(out.pixels[i] - known.pixels[i]) < Self.level)
                #expect(abs(plain.pixels[i] - (known.pixels[i] + 0.15)) < 1e-5)
            }
        }
    }
}
