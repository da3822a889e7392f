// Shape legend
//   C      channels (3: the image's red, green and blue planes)
//   H, W   the canvas in pixels; planes are row-major `[H·W]`, images `[C, H, W]`; the solver
//          works on `[H·W]` of SIMD4 (a pixel's channels in one vector, C ≤ 4)

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
/// ``correction(known:generated:region:width:height:)`` solves for `D` by multigrid: full
/// multigrid's estimate (the problem itself at half size, recursively), then W-cycles (each
/// coarse error equation solved by two cycles of its own) of over-relaxed red-black Gauss–Seidel
/// sweeps on a pyramid of half-size error equations, in time proportional to the pixels. Its
/// coarse levels see Ω's border only roughly (a cell is known when any of its pixels is), so a
/// cycle gains less than multigrid can, and on a long, thin region the long-wavelength part of
/// `D` stops a little short (measured on canvases of 6×64 to 16×300 known along one short side:
/// 0.0001 to 0.03 off at the far end, a smooth drift of colour, not a seam; the nine ratios'
/// canvases are far from that shape). A Galerkin coarse operator is the known fix.
/// ``correctionNaive(known:generated:region:width:height:)`` is its twin, Gauss–Seidel on the
/// full-size problem until it stops changing, for tests.
enum SeamBlend {
    typealias Pixel = SIMD4<Float>

    /// One level of the problem: which pixels are unknown (in Ω), and each pixel's values: the
    /// boundary value where it is known, the current estimate where it is not.
    struct Level {
        let width: Int, height: Int
        var unknown: [Bool]     // [H·W]
        var value: [Pixel]      // [H·W]
        /// The right-hand side at unknown pixels: the guidance across Ω's border for the
        /// correction itself, the restricted residual for a coarse level's error equation.
        var rhs: [Pixel]        // [H·W]
    }

    /// The four neighbours' offsets `(dx, dy)`.
    private static let neighbours = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    /// Over-relaxation of the Gauss–Seidel sweeps.
    static let omega: Float = 1.3
    /// Sweeps before and after the coarse correction of each level.
    static let smoothing = 2
    /// The pyramid stops at a level whose longer side is at most this (a long, thin canvas
    /// coarsens to a line).
    static let coarsestSide = 8
    /// W-cycles stop when the last sweep moves no value by more than this (in the image's units,
    /// [0, 1]), or after ``maxCycles``: the correction is then within an 8-bit level of the
    /// converged one (measured against the naive twin and known answers), and what error is left
    /// is smooth. (10⁻³ stops too early: smooth errors move little per sweep.)
    static let tolerance: Float = 2e-4
    static let maxCycles = 20

    /// The correction `D [C, H, W]` (zero outside Ω) for `generated [C, H, W]` to meet
    /// `known [C, H, W]` without a step; `region [H·W]` is Ω; C ≤ 4. A connected part of Ω that
    /// touches no known pixel gets no correction. `boundary [C, H, W]`, where given, is the
    /// difference D must meet at the known pixels in place of `known − generated` (the slope
    /// guidance across the border still comes from `known`): ``BorderBand`` passes the smooth part
    /// of that difference and fades the rest in itself.
    static func correction(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int,
                           boundary: [Float]? = nil) -> [Float] {
        correct(known: known, generated: generated, region: region, width: width, height: height,
                boundary: boundary) { level in
            var level = level
            var change = fullMultigrid(&level), cycles = 1
            while change >= tolerance, cycles < maxCycles {
                change = wCycle(&level)
                cycles += 1
            }
            return level.value
        }
    }

    /// ``correction(known:generated:region:width:height:)`` by plain Gauss–Seidel on the full
    /// problem, from zero until no value changes by more than `tolerance` (or `maxSweeps`, where
    /// float rounding keeps it from settling): slow, for tests.
    static func correctionNaive(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int,
                                tolerance: Float = 1e-7, maxSweeps: Int = 200_000) -> [Float] {
        correct(known: known, generated: generated, region: region, width: width, height: height) { level in
            var level = level
            for _ in 0..<maxSweeps {
                if sweep(&level, omega: 1) <= tolerance { break }
            }
            return level.value
        }
    }

    /// Sets up the problem and hands it to `solver`; returns `D [C, H, W]`.
    private static func correct(known: [Float], generated: [Float], region: [Bool], width: Int, height: Int,
                                boundary: [Float]? = nil, solver: (Level) -> [Pixel]) -> [Float] {
        let plane = width * height
        precondition(region.count == plane && known.count == generated.count && known.count % plane == 0
                     && known.count / plane <= 4 && (boundary?.count ?? known.count) == known.count,
                     "SeamBlend: \(known.count), \(generated.count) samples for a \(width)x\(height) region")
        let channels = known.count / plane
        let unknown = reachable(region, width: width, height: height)
        var out = [Float](repeating: 0, count: known.count)
        guard unknown.contains(true) else { return out }
        func pixels(_ x: [Float]) -> [Pixel] {                                            // [H·W]
            (0..<plane).map { i in
                var p = Pixel()
                for c in 0..<channels { p[c] = x[c * plane + i] }
                return p
            }
        }
        let (k, g) = (pixels(known), pixels(generated))
        var value = [Pixel](repeating: Pixel(), count: plane), rhs = value
        let meet = boundary.map(pixels)                                                   // [H·W]
        for i in 0..<plane where !unknown[i] { value[i] = meet?[i] ?? k[i] - g[i] }
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
                let slope = beyond ? k[q] - k[my * width + mx] : Pixel()
                rhs[i] += slope - (g[i] - g[q])
            }
        }
        let solved = solver(Level(width: width, height: height, unknown: unknown, value: value, rhs: rhs))
        for i in 0..<plane where unknown[i] {
            for c in 0..<channels { out[c * plane + i] = solved[i][c] }
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

    /// The starting estimate of full multigrid: the problem itself at half the size (known
    /// values averaged, right-hand sides summed), solved so recursively, interpolated into
    /// `level`'s unknown pixels, then one W-cycle; returns its last sweep's largest change.
    private static func fullMultigrid(_ level: inout Level) -> Float {
        guard max(level.width, level.height) > coarsestSide else { return wCycle(&level) }
        var coarse = coarsen(level, residual: level.rhs, averagingKnown: true)
        if coarse.unknown.contains(true) {
            _ = fullMultigrid(&coarse)
            prolong(coarse, into: &level, adding: false)
        }
        return wCycle(&level)
    }

    /// One W-cycle on `level`: smooth, hand the residual to the half-size level's error
    /// equation, solve that by two W-cycles, add the solution back (interpolated), smooth again;
    /// returns the largest change of the last sweep. The coarsest level (longer side ≤
    /// ``coarsestSide``) is swept until it settles.
    @discardableResult
    private static func wCycle(_ level: inout Level) -> Float {
        guard max(level.width, level.height) > coarsestSide else {
            var change = sweep(&level, omega: omega), settle = 1
            while change > tolerance / 16, settle < 64 * coarsestSide * coarsestSide {
                change = sweep(&level, omega: omega)
                settle += 1
            }
            return change
        }
        for _ in 0..<smoothing { sweep(&level, omega: omega) }
        var coarse = coarsen(level, residual: residual(level))
        if coarse.unknown.contains(true) {
            wCycle(&coarse)
            wCycle(&coarse)
            prolong(coarse, into: &level)
        }
        var change: Float = 0
        for _ in 0..<smoothing { change = sweep(&level, omega: omega) }
        return change
    }

    /// Visits each unknown pixel (of one colour of the checkerboard, or all) with its index, how
    /// many of its four neighbours lie inside the canvas, and whether each does (left, right, up,
    /// down).
    @inline(__always)
    private static func forEachUnknown(width w: Int, height h: Int, unknown: [Bool], colour: Int? = nil,
                                       _ body: (Int, Float, Bool, Bool, Bool, Bool) -> Void) {
        unknown.withUnsafeBufferPointer { unknown in
            for y in 0..<h {
                let (up, down) = (y > 0, y + 1 < h)
                for x in stride(from: colour.map { ($0 + y) % 2 } ?? 0, to: w, by: colour == nil ? 1 : 2)
                where unknown[y * w + x] {
                    let (left, right) = (x > 0, x + 1 < w)
                    let n = Float((left ? 1 : 0) + (right ? 1 : 0) + (up ? 1 : 0) + (down ? 1 : 0))
                    body(y * w + x, n, left, right, up, down)
                }
            }
        }
    }

    /// `rhs − (n·v − Σ neighbours)` at each unknown pixel (n: its neighbours inside the canvas);
    /// 0 at known ones. `[H·W]`
    private static func residual(_ level: Level) -> [Pixel] {
        var r = [Pixel](repeating: Pixel(), count: level.value.count)
        let w = level.width
        r.withUnsafeMutableBufferPointer { r in
            level.value.withUnsafeBufferPointer { v in
                level.rhs.withUnsafeBufferPointer { rhs in
                    forEachUnknown(width: level.width, height: level.height, unknown: level.unknown) {
                        i, n, left, right, up, down in
                        var sum = Pixel()
                        if left { sum += v[i - 1] }
                        if right { sum += v[i + 1] }
                        if up { sum += v[i - w] }
                        if down { sum += v[i + w] }
                        r[i] = rhs[i] - (n * v[i] - sum)
                    }
                }
            }
        }
        return r
    }

    /// Half the size: a coarse pixel is unknown when all its (up to four) fine pixels are, its
    /// right-hand side the sum of theirs in `residual`. Its known value is 0 (the error equation
    /// of a W-cycle) or, `averagingKnown`, the mean of its known fine pixels' values (the
    /// problem itself, for full multigrid's start).
    private static func coarsen(_ fine: Level, residual: [Pixel], averagingKnown: Bool = false) -> Level {
        let (w, h) = ((fine.width + 1) / 2, (fine.height + 1) / 2)
        var coarse = Level(width: w, height: h, unknown: [Bool](repeating: true, count: w * h),
                           value: [Pixel](repeating: Pixel(), count: w * h), rhs: [Pixel](repeating: Pixel(), count: w * h))
        for y in 0..<h {
            for x in 0..<w {
                let o = y * w + x
                var known = Pixel(), count: Float = 0
                for fy in (2 * y)..<min(2 * y + 2, fine.height) {
                    for fx in (2 * x)..<min(2 * x + 2, fine.width) {
                        let i = fy * fine.width + fx
                        if fine.unknown[i] { coarse.rhs[o] += residual[i] } else { known += fine.value[i]; count += 1 }
                    }
                }
                if count > 0 {
                    coarse.unknown[o] = false
                    coarse.rhs[o] = Pixel()
                    if averagingKnown { coarse.value[o] = known / count }
                }
            }
        }
        return coarse
    }

    /// Adds the coarse values (a W-cycle's error), or with `adding` false sets them (full
    /// multigrid's start), bilinearly interpolated (half-pixel centres, edges repeated), at
    /// `fine`'s unknown pixels.
    private static func prolong(_ coarse: Level, into fine: inout Level, adding: Bool = true) {
        func axis(_ i: Int, _ n: Int) -> (Int, Int, Float) {
            let u = max(0, min(Float(n - 1), (Float(i) + 0.5) / 2 - 0.5))
            let i0 = Int(u)
            return (i0, min(i0 + 1, n - 1), u - Float(i0))
        }
        let v = coarse.value, cw = coarse.width
        for y in 0..<fine.height {
            let (y0, y1, fy) = axis(y, coarse.height)
            for x in 0..<fine.width where fine.unknown[y * fine.width + x] {
                let (x0, x1, fx) = axis(x, cw)
                let top = v[y0 * cw + x0] * (1 - fx) + v[y0 * cw + x1] * fx
                let bottom = v[y1 * cw + x0] * (1 - fx) + v[y1 * cw + x1] * fx
                let interpolated = top * (1 - fy) + bottom * fy
                fine.value[y * fine.width + x] = adding ? fine.value[y * fine.width + x] + interpolated : interpolated
            }
        }
    }

    /// One red-black Gauss–Seidel sweep over the unknown pixels (the checkerboard's one colour,
    /// then the other: no pixel waits for its left neighbour's update), each moved `omega` of the
    /// way to where its equation holds (`(Σ neighbours + rhs) / n`, n its neighbours inside the
    /// canvas); returns the largest change of a value.
    @discardableResult
    private static func sweep(_ level: inout Level, omega: Float) -> Float {
        var largest: Float = 0
        let (w, h, unknown) = (level.width, level.height, level.unknown)
        let step: [Float] = [0, omega, omega / 2, omega / 3, omega / 4]                 // ω / n
        level.value.withUnsafeMutableBufferPointer { v in
            level.rhs.withUnsafeBufferPointer { rhs in
                for colour in 0..<2 {
                    forEachUnknown(width: w, height: h, unknown: unknown, colour: colour) { i, n, left, right, up, down in
                        var sum = rhs[i]
                        if left { sum += v[i - 1] }
                        if right { sum += v[i + 1] }
                        if up { sum += v[i - w] }
                        if down { sum += v[i + w] }
                        let change = step[Int(n)] * (sum - n * v[i])
                        v[i] += change
                        largest = max(largest, abs(change.x), abs(change.y), abs(change.z), abs(change.w))
                    }
                }
            }
        }
        return largest
    }
}
