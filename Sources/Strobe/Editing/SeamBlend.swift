// Shape legend
//   C      channels (3: the image's red, green and blue planes)
//   H, W   the canvas in pixels; planes are row-major `[H·W]`, images `[C, H, W]`; the solver
//          works on pixel-interleaved `[H·W·C]` (one pass updates a pixel's three channels)

/// Poisson ("seamless") blending of a generated region into a known image.
///
/// Inpainting and Reframe give back the known pixels unchanged and the sampler's pixels inside
/// the region it drew (Ω). The sampler's image differs from the known one a little everywhere
/// (colour, brightness, where an edge falls), so pasting Ω in as it is leaves a step along Ω's
/// border. Blending (Poisson image editing) keeps the generated image's gradients inside Ω and
/// removes the step: the result `f = generated + D` on Ω solves the Poisson equation whose
/// guidance is the generated image's gradient between pixels of Ω and, across Ω's border, the
/// known image's own last step mirrored (the picture continues the original's slope: the model's
/// step at that line is where it disagrees with the original), with `f = known` outside Ω and no
/// flux across the canvas edge. `D` is smooth: a difference along the border fades into Ω over a
/// distance of about its own wavelength, and a uniform offset carries through the whole region.
///
/// ``correction(known:generated:region:width:height:)`` solves for `D` by multigrid (V-cycles of
/// over-relaxed Gauss–Seidel sweeps on a pyramid of half-size error equations), in time
/// proportional to the pixels. ``correctionNaive(known:generated:region:width:height:)``
/// is its twin, Gauss–Seidel on the full-size problem until it stops changing, for tests.
enum SeamBlend {
    /// One level of the problem: which pixels are unknown (in Ω), and each pixel's values: the
    /// boundary value where it is known, the current estimate where it is not.
    struct Level {
        let width: Int, height: Int, channels: Int
        var unknown: [Bool]     // [H·W]
        var value: [Float]      // [H·W·C]
        /// The right-hand side at unknown pixels: the guidance across Ω's border for the
        /// correction itself, the restricted residual for a coarse level's error equation.
        var rhs: [Float]        // [H·W·C]
    }

    /// The four neighbours' offsets `(dx, dy)`.
    private static let neighbours = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    /// Over-relaxation of the Gauss–Seidel sweeps.
    static let omega: Float = 1.3
    /// Sweeps before and after the coarse correction of each level.
    static let smoothing = 2
    /// The pyramid stops at a level whose shorter side is at most this.
    static let coarsestSide = 8
    /// V-cycles stop when the last sweep moves no value by more than this (in the image's units,
    /// [0, 1]), or after ``maxCycles``: the correction is then within about a third of an 8-bit
    /// level of the converged one (measured against the naive twin).
    static let tolerance: Float = 2e-4
    static let maxCycles = 20

    /// The correction `D [C, H, W]` (zero outside Ω) for `generated [C, H, W]` to meet
    /// `known [C, H, W]` without a step; `region [H·W]` is Ω. A connected part of Ω that touches
    /// no known pixel gets no correction.
    static func correction(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int) -> [Float] {
        correct(known: known, generated: generated, region: region, width: width, height: height) { level in
            var level = level
            for _ in 0..<maxCycles {
                if vCycle(&level) < tolerance { break }
            }
            return level.value
        }
    }

    /// ``correction(known:generated:region:width:height:)`` by plain Gauss–Seidel on the full
    /// problem, from zero until no value changes by more than `tolerance`: slow, for tests.
    static func correctionNaive(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int,
                                tolerance: Float = 1e-7) -> [Float] {
        correct(known: known, generated: generated, region: region, width: width, height: height) { level in
            var level = level
            while sweep(&level, omega: 1) > tolerance {}
            return level.value
        }
    }

    /// Sets up the problem (interleaved) and hands it to `solver`; returns `D [C, H, W]`.
    private static func correct(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int,
                                solver: (Level) -> [Float]) -> [Float] {
        let plane = width * height
        precondition(region.count == plane && known.count == generated.count && known.count % plane == 0,
                     "SeamBlend: \(known.count), \(generated.count) samples for a \(width)x\(height) region")
        let channels = known.count / plane
        let unknown = reachable(region, width: width, height: height)
        var out = [Float](repeating: 0, count: known.count)
        guard unknown.contains(true) else { return out }
        func k(_ i: Int, _ c: Int) -> Float { known[c * plane + i] }
        func g(_ i: Int, _ c: Int) -> Float { generated[c * plane + i] }
        var value = [Float](repeating: 0, count: known.count), rhs = value               // [H·W·C]
        for i in 0..<plane where !unknown[i] {
            for c in 0..<channels { value[i * channels + c] = k(i, c) - g(i, c) }
        }
        // Across the border the guidance is the known image's own last step, mirrored
        // (`known_q − known_q'`, q' the pixel beyond q; 0 where that is not known), in place of
        // the generated image's step there: rhs_p = Σ over known neighbours q of
        // (known_q − known_q') − (g_p − g_q).
        for i in 0..<plane where unknown[i] {
            let (x, y) = (i % width, i / width)
            for (dx, dy) in neighbours {
                let (qx, qy) = (x + dx, y + dy)
                guard qx >= 0, qx < width, qy >= 0, qy < height, !unknown[qy * width + qx] else { continue }
                let q = qy * width + qx, (mx, my) = (qx + dx, qy + dy)
                let beyond = mx >= 0 && mx < width && my >= 0 && my < height && !region[my * width + mx]
                for c in 0..<channels {
                    let slope = beyond ? k(q, c) - k(my * width + mx, c) : 0
                    rhs[i * channels + c] += slope - (g(i, c) - g(q, c))
                }
            }
        }
        let solved = solver(Level(width: width, height: height, channels: channels, unknown: unknown, value: value, rhs: rhs))
        for i in 0..<plane where unknown[i] {
            for c in 0..<channels { out[c * plane + i] = solved[i * channels + c] }
        }
        return out
    }

    /// Ω less its connected parts (4-neighbours) that touch no known pixel: those have nothing
    /// to meet, and their harmonic correction is any constant; they keep the generated pixels.
    static func reachable(_ region: [Bool], width: Int, height: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: region.count)
        var stack: [Int] = []
        for i in 0..<region.count where region[i] && !out[i] {
            let (x, y) = (i % width, i / width)
            let touchesKnown = (x > 0 && !region[i - 1]) || (x + 1 < width && !region[i + 1])
                || (y > 0 && !region[i - width]) || (y + 1 < height && !region[i + width])
            if touchesKnown { out[i] = true; stack.append(i) }
        }
        while let i = stack.popLast() {
            let (x, y) = (i % width, i / width)
            for (dx, dy) in neighbours {
                let (nx, ny) = (x + dx, y + dy)
                guard nx >= 0, nx < width, ny >= 0, ny < height else { continue }
                let j = ny * width + nx
                if region[j] && !out[j] { out[j] = true; stack.append(j) }
            }
        }
        return out
    }

    /// One V-cycle on `level`: smooth, hand the residual to the half-size level's error
    /// equation, add its solution back (interpolated), smooth again; returns the largest change
    /// of the last sweep. The coarsest level (shorter side ≤ ``coarsestSide``) is swept until it
    /// settles.
    @discardableResult
    private static func vCycle(_ level: inout Level) -> Float {
        guard min(level.width, level.height) > coarsestSide else {
            var settle = 0
            while sweep(&level, omega: omega) > tolerance / 16, settle < 64 * coarsestSide * coarsestSide { settle += 1 }
            return 0
        }
        for _ in 0..<smoothing { sweep(&level, omega: omega) }
        var coarse = coarsen(level, residual: residual(level))
        if coarse.unknown.contains(true) {
            vCycle(&coarse)
            prolong(coarse, into: &level)
        }
        var change: Float = 0
        for _ in 0..<smoothing { change = sweep(&level, omega: omega) }
        return change
    }

    /// Visits each unknown pixel with its index, the index of its first value, how many of its
    /// four neighbours lie inside the canvas, and whether each does (left, right, up, down).
    @inline(__always)
    private static func forEachUnknown(_ level: Level, _ body: (Int, Int, Float, Bool, Bool, Bool, Bool) -> Void) {
        let (w, h) = (level.width, level.height)
        level.unknown.withUnsafeBufferPointer { unknown in
            for y in 0..<h {
                let (up, down) = (y > 0, y + 1 < h)
                for x in 0..<w where unknown[y * w + x] {
                    let (left, right) = (x > 0, x + 1 < w)
                    let n = Float((left ? 1 : 0) + (right ? 1 : 0) + (up ? 1 : 0) + (down ? 1 : 0))
                    body(y * w + x, (y * w + x) * level.channels, n, left, right, up, down)
                }
            }
        }
    }

    /// `rhs − (n·v − Σ neighbours)` at each unknown pixel's values (n: its neighbours inside the
    /// canvas); 0 at known ones. `[H·W·C]`
    private static func residual(_ level: Level) -> [Float] {
        var r = [Float](repeating: 0, count: level.value.count)
        let (rowStride, C) = (level.width * level.channels, level.channels)
        r.withUnsafeMutableBufferPointer { r in
            level.value.withUnsafeBufferPointer { v in
                level.rhs.withUnsafeBufferPointer { rhs in
                    forEachUnknown(level) { _, j, n, left, right, up, down in
                        for c in j..<j + C {
                            var sum: Float = 0
                            if left { sum += v[c - C] }
                            if right { sum += v[c + C] }
                            if up { sum += v[c - rowStride] }
                            if down { sum += v[c + rowStride] }
                            r[c] = rhs[c] - (n * v[c] - sum)
                        }
                    }
                }
            }
        }
        return r
    }

    /// The error equation at half the size: a coarse pixel is unknown when all its (up to four)
    /// fine pixels are, its right-hand side the sum of their residuals; known pixels hold error 0.
    private static func coarsen(_ fine: Level, residual: [Float]) -> Level {
        let (w, h, C) = ((fine.width + 1) / 2, (fine.height + 1) / 2, fine.channels)
        var coarse = Level(width: w, height: h, channels: C, unknown: [Bool](repeating: true, count: w * h),
                           value: [Float](repeating: 0, count: w * h * C), rhs: [Float](repeating: 0, count: w * h * C))
        for y in 0..<h {
            for x in 0..<w {
                let o = y * w + x
                for fy in (2 * y)..<min(2 * y + 2, fine.height) {
                    for fx in (2 * x)..<min(2 * x + 2, fine.width) {
                        let i = fy * fine.width + fx
                        if fine.unknown[i] {
                            for c in 0..<C { coarse.rhs[o * C + c] += residual[i * C + c] }
                        } else {
                            coarse.unknown[o] = false
                        }
                    }
                }
            }
        }
        return coarse
    }

    /// Adds the coarse error, bilinearly interpolated (half-pixel centres, edges repeated), to
    /// `fine`'s unknown pixels.
    private static func prolong(_ coarse: Level, into fine: inout Level) {
        func axis(_ i: Int, _ n: Int) -> (Int, Int, Float) {
            let u = max(0, min(Float(n - 1), (Float(i) + 0.5) / 2 - 0.5))
            let i0 = Int(u)
            return (i0, min(i0 + 1, n - 1), u - Float(i0))
        }
        let v = coarse.value, cw = coarse.width, C = coarse.channels
        for y in 0..<fine.height {
            let (y0, y1, fy) = axis(y, coarse.height)
            for x in 0..<fine.width where fine.unknown[y * fine.width + x] {
                let (x0, x1, fx) = axis(x, cw)
                for c in 0..<C {
                    let top = v[(y0 * cw + x0) * C + c] * (1 - fx) + v[(y0 * cw + x1) * C + c] * fx
                    let bottom = v[(y1 * cw + x0) * C + c] * (1 - fx) + v[(y1 * cw + x1) * C + c] * fx
                    fine.value[(y * fine.width + x) * C + c] += top * (1 - fy) + bottom * fy
                }
            }
        }
    }

    /// One Gauss–Seidel sweep over the unknown pixels, each value moved `omega` of the way to
    /// where its equation holds (`(Σ neighbours + rhs) / n`); returns the largest change.
    @discardableResult
    private static func sweep(_ level: inout Level, omega: Float) -> Float {
        var largest: Float = 0
        let (rowStride, C) = (level.width * level.channels, level.channels)
        let frozen = level
        level.value.withUnsafeMutableBufferPointer { v in
            frozen.rhs.withUnsafeBufferPointer { rhs in
                forEachUnknown(frozen) { _, j, n, left, right, up, down in
                    for c in j..<j + C {
                        var sum = rhs[c]
                        if left { sum += v[c - C] }
                        if right { sum += v[c + C] }
                        if up { sum += v[c - rowStride] }
                        if down { sum += v[c + rowStride] }
                        let change = omega * (sum / n - v[c])
                        v[c] += change
                        largest = max(largest, abs(change))
                    }
                }
            }
        }
        return largest
    }
}
