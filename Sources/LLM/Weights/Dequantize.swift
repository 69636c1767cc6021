import Tensor

/// Plain reference dequantizers, one per supported ggml type, written after ggml's
/// `dequantize_row_*` in `ggml-quants.c`. They define what the fast dot products in
/// `QuantDot.swift` must agree with (tested in `QuantTests`), and they feed the prompt-processing
/// path, which dequantizes tiles of rows to float for OpenBLAS.
public enum Dequantize {
    /// Element types the engine can run. K-quants use 256-element super-blocks.
    public static let supported: [GGMLType] = [.f32, .f16, .q4_0, .q4_1, .q8_0, .q4_K, .q6_K]

    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Writes `n` floats of one row (`n` a multiple of the block size) from `src` to `dst`.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        let nb = n / type.blockSize, bs = type.typeSize
        switch type {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: n)
        case .f16:
            for i in 0..<n { dst[i] = half(src, 2 * i) }
        case .q4_0:
            for b in 0..<nb {
                let p = src + b * bs, d = half(p, 0), q = (p + 2).assumingMemoryBound(to: UInt8.self)
                let y = dst + b * 32
                for j in 0..<16 {
                    y[j] = Float(Int(q[j] & 0x0F) - 8) * d
                    y[j + 16] = Float(Int(q[j] >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<nb {
                let p = src + b * bs, d = half(p, 0), m = half(p, 2), q = (p + 4).assumingMemoryBound(to: UInt8.self)
                let y = dst + b * 32
                for j in 0..<16 {
                    y[j] = Float(q[j] & 0x0F) * d + m
                    y[j + 16] = Float(q[j] >> 4) * d + m
                }
            }
        case .q8_0:
            for b in 0..<nb {
                let p = src + b * bs, d = half(p, 0), q = (p + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { dst[b * 32 + j] = Float(q[j]) * d }
            }
        case .q4_K:
            for b in 0..<nb { q4K(src + b * bs, dst + b * 256) }
        case .q6_K:
            for b in 0..<nb { q6K(src + b * bs, dst + b * 256) }
        default:
            preconditionFailure("Dequantize.row: \(type) is not supported (checked at load time)")
        }
    }

    /// The 6-bit scale and min of sub-block `j` of a Q4_K super-block (ggml `get_scale_min_k4`).
    @inline(__always) static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 { return (Float(q[j] & 63), Float(q[j + 4] & 63)) }
        let d = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)
        let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
        return (Float(d), Float(m))
    }

    /// Q4_K: d, dmin (f16), 12 bytes of packed 6-bit scales/mins, 128 bytes of nibbles.
    static func q4K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), dmin = half(p, 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        var q = (p + 16).assumingMemoryBound(to: UInt8.self)
        var out = y, sub = 0
        for _ in 0..<4 {
            let (sc1, m1) = scaleMinK4(sub, scales), (sc2, m2) = scaleMinK4(sub + 1, scales)
            let d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2
            for l in 0..<32 { out[l] = d1 * Float(q[l] & 0x0F) - mm1 }
            for l in 0..<32 { out[32 + l] = d2 * Float(q[l] >> 4) - mm2 }
            out += 64; q += 32; sub += 2
        }
    }

    /// Q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, d (f16).
    static func q6K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(p, 208)
        var ql = p.assumingMemoryBound(to: UInt8.self)
        var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (p + 192).assumingMemoryBound(to: Int8.self)
        var out = y
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int(ql[l] & 0x0F | ((qh[l] >> 0) & 3) << 4) - 32
                let q2 = Int(ql[l + 32] & 0x0F | ((qh[l] >> 2) & 3) << 4) - 32
                let q3 = Int(ql[l] >> 4 | ((qh[l] >> 4) & 3) << 4) - 32
                let q4 = Int(ql[l + 32] >> 4 | ((qh[l] >> 6) & 3) << 4) - 32
                out[l] = d * Float(sc[s]) * Float(q1)
                out[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                out[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                out[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            out += 128; ql += 64; qh += 32; sc += 8
        }
    }
}
