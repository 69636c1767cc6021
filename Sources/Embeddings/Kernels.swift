import Foundation

// Element-wise kernels of the encoder. Each fast SIMD kernel has a plain reference beside it
// (`reference…`, Foundation's erf/exp) that the tests compare it with.

/// Lane-wise clamp. `SIMD.clamped` goes through the generic `pointwiseMin/Max`, which the
/// compiler left as calls (1% of encoder time in a profile); `replacing(with:where:)` inlines to vmaxps/vminps.
@inline(__always)
func clamp(_ x: SIMD8<Float>, _ lo: Float, _ hi: Float) -> SIMD8<Float> {
    let l = SIMD8<Float>(repeating: lo), h = SIMD8<Float>(repeating: hi)
    return x.replacing(with: l, where: x .< l).replacing(with: h, where: x .> h)
}

/// Vectorised exp (Cephes expf scheme: 2^n · e^r with |r| ≤ ln2/2, degree-6 polynomial);
/// within 2 ulp of `expf` on [-87, 88]. Inputs below -87 give ~0, as softmax needs.
@inline(__always)
func fastExp(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = clamp(x0, -87, 88)
    // Adding 1.5·2^23 rounds x·log2(e) to an integer that then sits in the low mantissa bits.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = x * SIMD8(repeating: 1.442_695_04) + magic
    let n = t - magic
    var r = x - n * SIMD8(repeating: 0.693_359_375)
    r = r - n * SIMD8(repeating: -2.121_944_4e-4)
    let z = r * r
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + SIMD8(repeating: 1.398_199_95e-3)
    p = p * r + SIMD8(repeating: 8.333_451_9e-3)
    p = p * r + SIMD8(repeating: 4.166_579_59e-2)
    p = p * r + SIMD8(repeating: 1.666_666_55e-1)
    p = p * r + SIMD8(repeating: 5.000_000_12e-1)
    let e = p * z + r + SIMD8(repeating: 1)
    let bits = (unsafeBitCast(t, to: SIMD8<UInt32>.self) &+ 127) &<< 23
    return e * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// Vectorised erf: the odd/even rational approximation used by Eigen and XLA for float, on
/// x clamped to [-4, 4] (erf is ±1 in float beyond). Within ~2e-7 of `erf`.
@inline(__always)
func fastErf(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = clamp(x0, -4, 4)
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

enum Kernels {
    /// x = gelu(x + bias) row by row, in the exact erf form 0.5·v·(1 + erf(v/√2)). The bias is
    /// fused here so the intermediate activations are read and written once.
    static func biasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        let inv = SIMD8<Float>(repeating: 0.707_106_78)
        for r in 0..<rows {
            let row = x + r * cols
            var j = 0
            while j + 8 <= cols {
                let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(bias + j).loadUnaligned(as: SIMD8<Float>.self)
                let g = 0.5 * v * (1 + fastErf(v * inv))
                UnsafeMutableRawPointer(row + j).storeBytes(of: g, as: SIMD8<Float>.self)
                j += 8
            }
            while j < cols {
                let v = row[j] + bias[j]
                row[j] = 0.5 * v * (1 + erff(v * 0.707_106_78)); j += 1
            }
        }
    }

    /// Plain GELU with libm's erf, the reference for `biasGELU`.
    static func referenceGELU(_ v: Float) -> Float { 0.5 * v * (1 + Float(erf(Double(v) / 2.0.squareRoot()))) }

    /// In-place softmax of `row[0..<n]` scaled by `scale` first (scores · 1/√d).
    static func scaledSoftmax(_ row: UnsafeMutablePointer<Float>, _ n: Int, scale: Float) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, row[j]) }
        let s = SIMD8<Float>(repeating: scale)
        let ms = SIMD8<Float>(repeating: m * scale)
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            let v = fastExp(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) * s - ms)
            UnsafeMutableRawPointer(row + j).storeBytes(of: v, as: SIMD8<Float>.self)
            acc += v; j += 8
        }
        var sum = acc.sum()
        while j < n {
            var t = SIMD8<Float>(repeating: 0); t[0] = row[j] * scale - m * scale
            let v = fastExp(t)[0]; row[j] = v; sum += v; j += 1
        }
        let inv = 1 / sum
        for j in 0..<n { row[j] *= inv }
    }

    /// In-place LayerNorm of each row: (x - mean) / sqrt(var + eps) · gamma + beta (two passes,
    /// biased variance as PyTorch). `cols` must be a multiple of 8.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let row = x + r * cols
            var acc = SIMD8<Float>()
            var j = 0
            while j < cols { acc += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self); j += 8 }
            let mean = acc.sum() / Float(cols)
            let mv = SIMD8<Float>(repeating: mean)
            var vacc = SIMD8<Float>()
            j = 0
            while j < cols {
                let d = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) - mv
                vacc += d * d; j += 8
            }
            let rstd = SIMD8<Float>(repeating: 1 / (vacc.sum() / Float(cols) + eps).squareRoot())
            j = 0
            while j < cols {
                let d = (UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) - mv) * rstd
                let y = d * UnsafeRawPointer(gamma + j).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(beta + j).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(row + j).storeBytes(of: y, as: SIMD8<Float>.self)
                j += 8
            }
        }
    }

    /// dst[r] += v for each of `rows` rows of width `cols`.
    static func addRow(_ dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int, _ v: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = dst + r * cols
            for j in 0..<cols { row[j] += v[j] }
        }
    }
}
