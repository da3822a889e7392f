// Shape legend
//   C      channels (3: the image's red, green and blue planes)
//   H, W   the canvas in pixels; planes are row-major `[H·W]`, images `[C, H, W]`
//   ring   the known pixels with a 4-neighbour in Ω (the region the sampler drew)

/// Spreads the fine part of the difference along Ω's border over a band of pixels.
///
/// Seamless blending (``SeamBlend``) makes the drawn pixels meet the known ones with a harmonic
/// correction. Where the model's picture differs from the known one by amounts that change from
/// pixel to pixel along the border (texture, an edge a pixel off), a harmonic correction of that
/// difference dies out within a pixel or two, so the drawn side steps steeply over its last few
/// pixels: on v1's 21:9 reframes the steps rose to 1.6, 1.7, 2.2 and 2.8 levels over the last four
/// drawn pixels, against 0.3 inside the original.
///
/// The band splits the difference `known − generated` on the ring into its smooth part (the mean
/// over the ring pixels within `band / 2` of each), which the blending carries into Ω as before,
/// and the fine rest, which ``fade(fine:region:width:height:band:)`` adds back in a linear fade:
/// `(1 − d / band) × fine` of the nearest ring pixel at `d` 4-neighbour steps into Ω. At the
/// border the drawn pixels meet the known ones as before, and the fine difference then changes by
/// `1 / band` of itself per pixel instead of all at once. Where the model's picture equals the
/// known one, both parts are zero.
enum BorderBand {
    /// The four neighbours' offsets `(dx, dy)`.
    private static let neighbours = [(-1, 0), (1, 0), (0, -1), (0, 1)]

    /// The band's width for a canvas: 1/16 of its shorter side, at least 4 pixels (16 at 256², 32 at
    /// 512²). Against 1/32 it lowered v1's reframe seam ratios at 21:9, 16:9 and 9:16 and left
    /// 3:4's as it was (docs/editing.md).
    static func width(forWidth width: Int, height: Int) -> Int { max(4, min(width, height) / 16) }

    /// The ring (a known pixel with a 4-neighbour in `region`), `[H·W]`.
    static func ring(_ region: [Bool], width: Int, height: Int) -> [Bool] {
        (0..<region.count).map { i in
            let (x, y) = (i % width, i / width)
            return !region[i] && ((x > 0 && region[i - 1]) || (x + 1 < width && region[i + 1])
                || (y > 0 && region[i - width]) || (y + 1 < height && region[i + width]))
        }
    }

    /// The fine part of `known − generated` on the ring (`onRing [H·W]`, from ``ring(_:width:height:)``),
    /// `[C, H, W]` (zero off the ring): the difference less its mean over the ring pixels within
    /// `band / 2` (Chebyshev distance).
    static func fine(known: [Float], generated: [Float], onRing: [Bool], width: Int, height: Int, band: Int) -> [Float] {
        let plane = width * height, channels = known.count / plane
        precondition(onRing.count == plane && known.count == generated.count && known.count == channels * plane,
                     "BorderBand: \(known.count), \(generated.count) samples for a \(width)x\(height) ring")
        let r = band / 2
        var out = [Float](repeating: 0, count: known.count)
        var sum = [Float](repeating: 0, count: channels)
        for i in 0..<plane where onRing[i] {
            let (x, y) = (i % width, i / width)
            for c in 0..<channels { sum[c] = 0 }
            var n: Float = 0
            for qy in max(0, y - r)...min(height - 1, y + r) {
                for qx in max(0, x - r)...min(width - 1, x + r) where onRing[qy * width + qx] {
                    let q = qy * width + qx
                    for c in 0..<channels { sum[c] += known[c * plane + q] - generated[c * plane + q] }
                    n += 1
                }
            }
            for c in 0..<channels {
                out[c * plane + i] = known[c * plane + i] - generated[c * plane + i] - sum[c] / n
            }
        }
        return out
    }

    /// The fade of `fine [C, H, W]` into `region`: `(1 − d / band) × fine` of the nearest ring pixel
    /// (`onRing`; breadth first, 4-neighbours) at the pixels `d < band` steps into the region; zero
    /// elsewhere.
    static func fade(fine: [Float], region: [Bool], onRing: [Bool], width: Int, height: Int, band: Int) -> [Float] {
        let plane = width * height, channels = fine.count / plane
        var out = [Float](repeating: 0, count: fine.count)
        guard band > 1 else { return out }
        var source = [Int](repeating: -1, count: plane)          // the nearest ring pixel; -1: not reached
        var frontier: [Int] = []
        for i in 0..<plane where onRing[i] {
            source[i] = i
            frontier.append(i)
        }
        for d in 1..<band {
            var next: [Int] = []
            for i in frontier {
                let (x, y) = (i % width, i / width)
                for (dx, dy) in neighbours {
                    let (nx, ny) = (x + dx, y + dy)
                    guard nx >= 0, nx < width, ny >= 0, ny < height else { continue }
                    let j = ny * width + nx
                    guard region[j], source[j] < 0 else { continue }
                    source[j] = source[i]
                    next.append(j)
                }
            }
            let weight = 1 - Float(d) / Float(band)
            for j in next {
                for c in 0..<channels { out[c * plane + j] = weight * fine[c * plane + source[j]] }
            }
            frontier = next
        }
        return out
    }
}
