import Foundation

/// exp and erf on eight floats at a time: the softmax of attention (decoder and sentence
/// encoder), SiLU and GELU. A profile of a SmolLM2 evaluation with 3,000-token prompts spent 9.6%
/// of its time in libm's scalar `expf`, which does not vectorise; this does, with the method of
/// Cephes' `expf` (and llama.cpp's vector exp): x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6
/// polynomial, 2^n put straight into the exponent bits. Relative error ≤ 1.2e-7 (about 1 ulp,
/// measured) against the exact value, checked against `referenceExp` (libm) and Double in the
/// tests. The encoder had its own copy of both; there is one now.
public enum VectorMath {
    /// The plain twin: what the vector path must agree with.
    @inline(__always)
    public static func referenceExp(_ x: Float) -> Float { expf(x) }

    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Below -87.34 the result would be subnormal: flush it to 0 (also -inf → 0). From 88.38
        // (127.5·ln2, where n would reach 128 and the exponent field overflow) it is +inf, a
        // little before float's true limit of 88.72; softmax and SiLU never get near either.
        let lo = SIMD8<Float>(repeating: -87.33654), hi = SIMD8<Float>(repeating: 88.376_26)
        // Out-of-range lanes are computed on garbage and overwritten at the end: `clamped` is
        // not inlined here (generic pointwiseMin / pointwiseMax calls, 3.7% of a pp2048 profile).
        // n = round(x / ln2) by the 1.5·2²³ trick: the sum's low mantissa bits hold n, so 2ⁿ's
        // exponent field comes from integer arithmetic on them, without a float→int conversion.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, SIMD8(repeating: 1.442_695_04))
        let n = shifted - magic
        // r = x − n·ln2, with ln2 split in two so that n·ln2_hi is exact.
        var r = x.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var q = SIMD8<Float>(repeating: 1.987_569_15e-4)
        q = SIMD8(repeating: 1.398_199_95e-3).addingProduct(q, r)
        q = SIMD8(repeating: 8.333_451_9e-3).addingProduct(q, r)
        q = SIMD8(repeating: 4.166_579_6e-2).addingProduct(q, r)
        q = SIMD8(repeating: 1.666_666_55e-1).addingProduct(q, r)
        q = SIMD8(repeating: 5.000_000_1e-1).addingProduct(q, r)
        let er = (r + 1).addingProduct(r * r, q)
        let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- unsafeBitCast(magic, to: SIMD8<UInt32>.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        var y = er * scale
        y.replace(with: 0, where: x .< lo)
        y.replace(with: .infinity, where: x .>= hi)
        return y
    }

    /// erf on eight floats: the odd/even rational approximation Eigen and XLA use for float, on
    /// x limited to [-4, 4] (erf is ±1 in float beyond). Within ~2e-7 of libm's `erf`. GELU (exact
    /// erf form) in the sentence encoder.
    @inline(__always)
    public static func erf(_ x0: SIMD8<Float>) -> SIMD8<Float> {
        // `replacing(with:where:)` inlines to vmaxps / vminps; `clamped` stays a generic call.
        let lo = SIMD8<Float>(repeating: -4), hi = SIMD8<Float>(repeating: 4)
        let x = x0.replacing(with: lo, where: x0 .< lo).replacing(with: hi, where: x0 .> hi)
        let x2 = x * x
        var p = SIMD8<Float>(repeating: -2.726_142_25e-10)
        p = p * x2 + SIMD8(repeating: 2.770_681_42e-08)
        p = p * x2 + SIMD8(repeating: -2.101_024_02e-06)
        p = p * x2 + SIMD8(repeating: -5.692_506_39e-05)
        p = p * x2 + SIMD8(repeating: -7.349_906_30e-04)
        p = p * x2 + SIMD8(repeating: -2.954_599_81e-03)
        p = p * x2 + SIMD8(repeating: -1.609_603_33e-02)
        p = p * x
        var q = SIMD8<Float>(repeating: -1.456_607_18e-05)
        q = q * x2 + SIMD8(repeating: -2.133_740_55e-04)
        q = q * x2 + SIMD8(repeating: -1.682_826_97e-03)
        q = q * x2 + SIMD8(repeating: -7.373_329_17e-03)
        q = q * x2 + SIMD8(repeating: -1.426_473_91e-02)
        return p / q
    }

    /// The plain twin of `erf`.
    @inline(__always)
    public static func referenceErf(_ x: Float) -> Float { Float(Foundation.erf(Double(x))) }

    /// p[i] = e^(scale · p[i] − shift) for i < count, returning their sum (added in eight lanes,
    /// then across them): the softmax numerators of one row.
    @inline(__always)
    public static func expInPlace(_ p: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1, minus shift: Float) -> Float {
        let s = SIMD8<Float>(repeating: shift), k = SIMD8<Float>(repeating: scale)
        var sum = SIMD8<Float>(), i = 0
        while i + 8 <= count {
            let e = exp(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) * k - s)
            UnsafeMutableRawPointer(p + i).storeBytes(of: e, as: SIMD8<Float>.self)
            sum += e
            i += 8
        }
        if i < count {
            var v = SIMD8<Float>(repeating: -.infinity)
            for j in 0..<(count - i) { v[j] = p[i + j] * scale - shift }
            let e = exp(v)   // the padding lanes give 0
            for j in 0..<(count - i) { p[i + j] = e[j] }
            sum += e
        }
        return sum.sum()
    }

    /// p[0..<count] = softmax(scale · p[0..<count]) in place: the attention weights of one row
    /// (the sentence encoder scales by 1/√d here; the decoder's sgemm already has). scale > 0.
    @inline(__always)
    public static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1) {
        var m = -Float.infinity
        for j in 0..<count { m = max(m, p[j]) }
        let inv = 1 / expInPlace(p, count: count, scale: scale, minus: m * scale)
        for j in 0..<count { p[j] *= inv }
    }

    /// g[i] = silu(g[i]) · u[i] = g[i] / (1 + e^(−g[i])) · u[i].
    @inline(__always)
    public static func swiglu(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(u + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(g + i).storeBytes(of: a / (1 + exp(-a)) * b, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            var a = SIMD8<Float>(), b = SIMD8<Float>()
            for j in 0..<(count - i) { a[j] = g[i + j]; b[j] = u[i + j] }
            let y = a / (1 + exp(-a)) * b
            for j in 0..<(count - i) { g[i + j] = y[j] }
        }
    }
}
