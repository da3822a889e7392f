/// Lane-by-lane ports of `log256_ps` and `sincos256_ps` from PyTorch's `avx_mathfun.h`
/// (Cephes polynomials by way of Julien Pommier's sse_mathfun, zlib licence).
///
/// PyTorch's x86 builds use these for `torch.randn` on float tensors of 16 or more elements
/// when they run with AVX2 or AVX-512. The compiler that built PyTorch's wheels contracted
/// many multiply–add pairs of the C source into fused multiply-adds; the operations below
/// follow the machine code of the torch 2.13 x86-64 wheel (`NormalFill16<float>`), one IEEE
/// single-precision operation (or one fused multiply-add) at a time, so the results match
/// PyTorch bit for bit.
enum CephesMath {
    // Constants as the C code rounds them: decimal → double → float.
    static let sqrtHalf = Float(bitPattern: 0x3f35_04f3)  // 0.707106781186547524
    static let logP0 = Float(bitPattern: 0x3d90_21bb)  // 7.0376836292E-2
    static let logP1 = Float(bitPattern: 0xbdeb_d1b8)  // -1.1514610310E-1
    static let logP2 = Float(bitPattern: 0x3def_251a)  // 1.1676998740E-1
    static let logP3 = Float(bitPattern: 0xbdfe_5d4f)  // -1.2420140846E-1
    static let logP4 = Float(bitPattern: 0x3e11_e9bf)  // 1.4249322787E-1
    static let logP5 = Float(bitPattern: 0xbe2a_ae50)  // -1.6668057665E-1
    static let logP6 = Float(bitPattern: 0x3e4c_ceac)  // 2.0000714765E-1
    static let logP7 = Float(bitPattern: 0xbe7f_fffc)  // -2.4999993993E-1
    static let logP8 = Float(bitPattern: 0x3eaa_aaaa)  // 3.3333331174E-1
    static let logQ1 = Float(bitPattern: 0xb95e_8083)  // -2.12194440e-4
    static let logQ2 = Float(bitPattern: 0x3f31_8000)  // 0.693359375
    static let minusDP1 = Float(bitPattern: 0xbf49_0000)  // -0.78515625
    static let minusDP2 = Float(bitPattern: 0xb97d_a000)  // -2.4187564849853515625e-4
    static let minusDP3 = Float(bitPattern: 0xb322_2169)  // -3.77489497744594108e-8
    static let sinP0 = Float(bitPattern: 0xb94c_a1f9)  // -1.9515295891E-4
    static let sinP1 = Float(bitPattern: 0x3c08_839e)  // 8.3321608736E-3
    static let sinP2 = Float(bitPattern: 0xbe2a_aaa3)  // -1.6666654611E-1
    static let cosP0 = Float(bitPattern: 0x37cc_f5ce)  // 2.443315711809948E-005
    static let cosP1 = Float(bitPattern: 0xbab6_061a)  // -1.388731625493765E-003
    static let cosP2 = Float(bitPattern: 0x3d2a_aaa5)  // 4.166664568298827E-002
    static let fourOverPi = Float(bitPattern: 0x3fa2_f983)  // 1.27323954473516
    static let minNormal = Float(bitPattern: 0x0080_0000)
    /// `2.0f * c10::pi<double>` rounded to float.
    static let twoPi = Float(bitPattern: 0x40c9_0fdb)

    /// Natural logarithm; NaN for `x <= 0`, denormals treated as the smallest normal.
    static func log(_ input: Float) -> Float {
        let invalid = !(input > 0)  // _CMP_LE_OS is false for NaN, but max() then replaces NaN
        var x = input.isNaN ? minNormal : Swift.max(input, minNormal)
        let exponent = Int32(bitPattern: x.bitPattern >> 23) &- 0x7f
        x = Float(bitPattern: (x.bitPattern & ~0x7f80_0000) | Float(0.5).bitPattern)
        var e = Float(exponent) + 1
        let mask = x < sqrtHalf
        let tmp = mask ? x : Float(bitPattern: 0)
        e = e - (mask ? 1 : 0)
        x = x - 1
        x = x + tmp
        let z = x * x
        var y = logP0
        for p in [logP1, logP2, logP3, logP4, logP5, logP6, logP7, logP8] {
            y = p.addingProduct(y, x)
        }
        y = x * y
        y = (e * logQ1).addingProduct(y, z)
        y = y.addingProduct(-z, 0.5)
        x = x + y
        x = x.addingProduct(e, logQ2)
        return invalid ? Float(bitPattern: 0xffff_ffff) : x
    }

    /// Sine and cosine together, as `sincos256_ps` computes them (accurate for |x| < 8192).
    static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
        var x = Float(bitPattern: input.bitPattern & 0x7fff_ffff)
        var j = Int32(truncatingForSIMD: x * fourOverPi)
        j = (j &+ 1) & ~1
        let y = Float(j)
        let signSin = (input.bitPattern & 0x8000_0000) ^ (UInt32(bitPattern: j & 4) << 29)
        let signCos = UInt32(bitPattern: ~(j &- 2) & 4) << 29
        let polyMask = (j & 2) == 0
        // Extended-precision range reduction: x - y·π/4 in three parts.
        x = x.addingProduct(y, minusDP1)
        x = x.addingProduct(y, minusDP2)
        x = x.addingProduct(y, minusDP3)

        let z = x * x
        let halfZ = z * 0.5
        var yc = cosP1.addingProduct(cosP0, z)
        yc = cosP2.addingProduct(yc, z)
        yc = z * yc
        yc = (-halfZ).addingProduct(z, yc)
        yc = yc + 1

        var ys = sinP1.addingProduct(sinP0, z)
        ys = sinP2.addingProduct(ys, z)
        ys = z * ys
        ys = x.addingProduct(x, ys)

        // Branch-free selection exactly as the vector code does it (keeps the sign of zeros).
        let zero = Float(bitPattern: 0)
        let ysin2 = polyMask ? ys : zero
        let ysin1 = polyMask ? zero : yc
        let s = ysin2 + ysin1
        let c = (ys - ysin2) + (yc - ysin1)
        return (Float(bitPattern: s.bitPattern ^ signSin), Float(bitPattern: c.bitPattern ^ signCos))
    }
}

extension Int32 {
    /// `cvttps2dq`: truncation toward zero, with NaN and out-of-range values giving `Int32.min`.
    init(truncatingForSIMD value: Float) {
        if value.isNaN || value >= 2_147_483_648 || value < -2_147_483_648 {
            self = .min
        } else {
            self = Int32(value.rounded(.towardZero))
        }
    }
}
