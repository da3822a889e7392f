import Testing
@testable import Strobe

/// The fade of the border's fine difference over a band (``BorderBand``) and what it does to the
/// composite of an edit.
@Suite struct BorderBandTests {
    /// A reframe-shaped canvas, new area at x ≥ 24: the known side has rows alternating ±0.1 about
    /// 0.5 (a difference that changes from pixel to pixel along the border); the model drew a flat
    /// 0.5 everywhere.
    static let (w, h, edge) = (64, 32, 24)
    static let region = (0..<w * h).map { $0 % w >= edge }
    static let known = (0..<3 * w * h).map { Float(0.5) + (($0 / w) % 2 == 0 ? 0.1 : -0.1) }
    static let generated = [Float](repeating: 0.5, count: 3 * w * h)

    @Test func theRingIsTheKnownColumnBesideTheRegion() {
        let ring = BorderBand.ring(Self.region, width: Self.w, height: Self.h)
        #expect((0..<Self.w * Self.h).filter { ring[$0] } == (0..<Self.h).map { $0 * Self.w + Self.edge - 1 })
    }

    @Test func theFineDifferenceFadesLinearlyOverTheBand() {
        let (w, h, band) = (Self.w, Self.h, 8)
        let onRing = BorderBand.ring(Self.region, width: w, height: h)
        let fine = BorderBand.fine(known: Self.known, generated: Self.generated, onRing: onRing,
                                   width: w, height: h, band: band)
        // On the ring the difference is ±0.1 and its mean over 9 rows ±0.011: the fine part ±0.089
        // (rows 4 … 27, whose window lies inside the canvas).
        let y = 10, ringPixel = y * w + Self.edge - 1
        #expect(abs(fine[ringPixel] - (0.1 - 0.1 / 9)) < 1e-5)
        #expect(fine[y * w + Self.edge] == 0 && fine[y * w + 3] == 0)      // zero off the ring
        let faded = BorderBand.fade(fine: fine, region: Self.region, onRing: onRing, width: w, height: h, band: band)
        for d in 1...10 {
            let expected = d < band ? (1 - Float(d) / Float(band)) * fine[ringPixel] : 0
            #expect(abs(faded[y * w + Self.edge - 1 + d] - expected) < 1e-6, "d = \(d)")
        }
        #expect(faded[ringPixel] == 0)                                       // the known side is not touched
    }

    @Test func aModelThatDrewTheKnownPictureLeavesItAsItIs() throws {
        let keep = Self.region.map { Float($0 ? 1 : 0) }
        let known = try RGBImage(width: Self.w, height: Self.h, pixels: Self.known)
        let setup = EditSetup(operation: "reframe", knownPixels: known, mask: keep, startTime: 1, inputSHA256: "",
                              settings: [:], promptSource: "none", space: PixelDecoder(channels: 3), fill: false)
        let out = setup.composite(known)
        #expect(zip(out.pixels, known.pixels).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func theFineDifferenceMeetsTheBorderAndFadesInsteadOfStepping() throws {
        // The plain harmonic correction of a difference that alternates from row to row dies out
        // at once: the drawn side stays flat, a step of about 0.09 across the border. With the
        // band (4 px on this canvas) the drawn pixels start at three quarters of the difference
        // and lose a quarter of it per pixel.
        let (w, h) = (Self.w, Self.h)
        let band = BorderBand.width(forWidth: w, height: h)
        let keep = Self.region.map { Float($0 ? 1 : 0) }
        let setup = EditSetup(operation: "reframe", knownPixels: try RGBImage(width: w, height: h, pixels: Self.known),
                              mask: keep, startTime: 1, inputSHA256: "", settings: [:], promptSource: "none",
                              space: PixelDecoder(channels: 3), fill: false)
        let banded = setup.composite(try RGBImage(width: w, height: h, pixels: Self.generated)).pixels
        let d = SeamBlend.correction(known: Self.known, generated: Self.generated, region: Self.region, width: w, height: h)
        let plain = zip(Self.generated, d).map { $0 + $1 }
        let rows = 6..<(h - 6)                                     // away from the canvas's top and bottom
        func across(_ image: [Float]) -> Float {                   // mean step from the known to the drawn side
            rows.map { abs(image[$0 * w + Self.edge] - Self.known[$0 * w + Self.edge - 1]) }.reduce(0, +) / Float(rows.count)
        }
        func steepest(_ image: [Float]) -> Float {                 // largest step between drawn pixels
            rows.flatMap { y in (Self.edge..<(Self.edge + 8)).map { abs(image[y * w + $0 + 1] - image[y * w + $0]) } }.max()!
        }
        let fine: Float = 0.1 - 0.1 / 9
        #expect(band == 4)
        #expect(across(plain) > 0.07)
        #expect(across(banded) < fine / Float(band) + 0.015)
        #expect(steepest(banded) < fine / Float(band) + 0.005)
    }
}
