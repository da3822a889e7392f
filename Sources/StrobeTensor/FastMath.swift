/// Vectorised kernels shared by the non-BLAS ops.
///
/// Every element goes through the same lane-wise sequence of IEEE operations whether it sits in
/// a full vector or in a padded tail, so results do not depend on where a row or chunk starts.
@usableFromInline
enum FastMath {
    @usableFromInline typealias V = SIMD8<Float>

    /// e^x for each lane, within about 2 ulp (Cephes `expf` polynomial with Cody–Waite range
    /// reduction). Inputs below -87.3 (including -inf) give 0; inputs above 88 give e^88.
    @inlinable @inline(__always)
    static func exp(_ x: V) -> V {
        let lo: Float = -87.3, hi: Float = 88.0
        let low = V(repeating: lo), high = V(repeating: hi)
        var clamped = x.replacing(with: low, where: x .< low)
        clamped = clamped.replacing(with: high, where: clamped .> high)
        // n = round(x / ln 2) through the 1.5·2^23 trick (round to nearest even).
        let magic = V(repeating: 0x1.8p23)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let y = p * (r * r) + r + 1
        // 2^n from n's bits: shifted's low mantissa bits hold n + 0x40_0000.
        let nBits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
        return (y * scale).replacing(with: 0, where: x .< lo)
    }

    /// Applies a lane-wise function to `count` elements; the tail is padded with zeros.
    @inlinable @inline(__always)
    static func map<F: LaneFunction>(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int, _ f: F
    ) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: f(v), as: V.self)
            i += 8
        }
        if i < count {
            var v = V()
            for j in 0..<(count - i) { v[j] = src[i + j] }
            let r = f(v)
            for j in 0..<(count - i) { dst[i + j] = r[j] }
        }
    }

    /// Σ f(x) over `count` elements, in a fixed order (8 lanes, then the lanes summed);
    /// `f(0)` must be 0 because the tail is padded with zeros.
    @inlinable @inline(__always)
    static func sum<F: LaneFunction>(_ src: UnsafePointer<Float>, count: Int, _ f: F) -> Float {
        var acc = V()
        var i = 0
        while i + 8 <= count {
            acc += f(UnsafeRawPointer(src + i).loadUnaligned(as: V.self))
            i += 8
        }
        if i < count {
            var v = V()
            for j in 0..<(count - i) { v[j] = src[i + j] }
            acc += f(v)
        }
        return acc.sum()
    }
}

/// A lane-wise function, as a type so that kernels specialise and inline it.
@usableFromInline
protocol LaneFunction {
    func callAsFunction(_ v: FastMath.V) -> FastMath.V
}

extension FastMath {
    /// `v`.
    @usableFromInline struct Identity: LaneFunction {
        @inlinable init() {}
        @inlinable @inline(__always) func callAsFunction(_ v: V) -> V { v }
    }
}
