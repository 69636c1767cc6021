import Foundation
import Tensor

// Element-wise kernels of the encoder. Each fast SIMD kernel has a plain reference beside it
// (`reference…`, Foundation's erf/exp) that the tests compare it with.

// e^x and erf eight lanes at a time come from Tensor's `VectorMath`, shared with the decoder.

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
                let g = 0.5 * v * (1 + VectorMath.erf(v * inv))
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
        VectorMath.softmaxInPlace(row, count: n, scale: scale)
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
