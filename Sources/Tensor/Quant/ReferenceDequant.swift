/// Plain reference dequantizers, one per weight format, written as ggml's
/// `dequantize_row_*` in `ggml-quants.c` so they can be read side by side with it.
///
/// These are the ground truth the fast kernels are tested against: simple loops, no SIMD,
/// byte offsets spelled out. Block layouts (all little-endian, `half` = IEEE binary16):
///
/// | type | bytes | layout |
/// |---|---|---|
/// | Q4_0 | 18  | d:half, qs[16] (low nibbles = elements 0..15, high = 16..31), x = (q-8)·d |
/// | Q4_1 | 20  | d:half, m:half, qs[16], x = q·d + m |
/// | Q5_0 | 22  | d:half, qh:u32 (5th bits), qs[16], x = (q-16)·d |
/// | Q8_0 | 34  | d:half, qs:int8[32], x = q·d |
/// | Q4_K | 144 | d, dmin:half, scales[12] (8 × 6-bit scale+min), qs[128] |
/// | Q5_K | 176 | d, dmin:half, scales[12], qh[32], qs[128] |
/// | Q6_K | 210 | ql[128], qh[64], scales:int8[16], d:half |
public enum ReferenceDequant {
    /// Dequantizes `n` elements (a whole number of blocks) of `type` from `src` into `dst`.
    /// Unsupported types are rejected by `WeightMatrix.init`, so reaching one here is a bug.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        let blocks = n / type.blockSize
        let bs = type.typeSize
        switch type {
        case .f32:
            for i in 0..<n { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<n { dst[i] = loadHalf(src, 2 * i) }
        case .bf16:
            for i in 0..<n { dst[i] = loadBF16(src, 2 * i) }
        case .q4_0:
            for b in 0..<blocks { q4_0(src + b * bs, dst + b * 32) }
        case .q4_1:
            for b in 0..<blocks { q4_1(src + b * bs, dst + b * 32) }
        case .q5_0:
            for b in 0..<blocks { q5_0(src + b * bs, dst + b * 32) }
        case .q8_0:
            for b in 0..<blocks { q8_0(src + b * bs, dst + b * 32) }
        case .q4_K:
            for b in 0..<blocks { q4_K(src + b * bs, dst + b * 256) }
        case .q5_K:
            for b in 0..<blocks { q5_K(src + b * bs, dst + b * 256) }
        case .q6_K:
            for b in 0..<blocks { q6_K(src + b * bs, dst + b * 256) }
        default:
            preconditionFailure("ReferenceDequant.row: \(type) has no dequantizer (WeightMatrix.init should have rejected it)")
        }
    }

    static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p)
        let qs = (p + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = Float(Int(qs[j] & 0xF) - 8) * d
            y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
        }
    }

    static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p), m = loadHalf(p, 2)
        let qs = (p + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = Float(qs[j] & 0xF) * d + m
            y[j + 16] = Float(qs[j] >> 4) * d + m
        }
    }

    static func q5_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p)
        let qh = p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        let qs = (p + 6).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let h0 = Int((qh >> UInt32(j)) << 4) & 0x10
            let h1 = Int(qh >> UInt32(j + 12)) & 0x10
            y[j] = Float((Int(qs[j] & 0xF) | h0) - 16) * d
            y[j + 16] = Float((Int(qs[j] >> 4) | h1) - 16) * d
        }
    }

    static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p)
        let qs = (p + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 { y[j] = Float(qs[j]) * d }
    }

    static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p), dmin = loadHalf(p, 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        let qs = (p + 16).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {  // 64 elements: 32 low nibbles then 32 high nibbles of the same bytes
            let (s0, m0) = scaleMinK4(2 * pair, scales)
            let (s1, m1) = scaleMinK4(2 * pair + 1, scales)
            let q = qs + 32 * pair, out = y + 64 * pair
            for l in 0..<32 {
                out[l] = d * Float(s0) * Float(q[l] & 0xF) - dmin * Float(m0)
                out[l + 32] = d * Float(s1) * Float(q[l] >> 4) - dmin * Float(m1)
            }
        }
    }

    static func q5_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p), dmin = loadHalf(p, 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (p + 16).assumingMemoryBound(to: UInt8.self)
        let qs = (p + 48).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {  // the 5th bit of sub-block k is bit k of qh[l]
            let (s0, m0) = scaleMinK4(2 * pair, scales)
            let (s1, m1) = scaleMinK4(2 * pair + 1, scales)
            let q = qs + 32 * pair, out = y + 64 * pair
            let u0 = UInt8(1) << UInt8(2 * pair), u1 = UInt8(2) << UInt8(2 * pair)
            for l in 0..<32 {
                let lo = Int(q[l] & 0xF) + (qh[l] & u0 != 0 ? 16 : 0)
                let hi = Int(q[l] >> 4) + (qh[l] & u1 != 0 ? 16 : 0)
                out[l] = d * Float(s0) * Float(lo) - dmin * Float(m0)
                out[l + 32] = d * Float(s1) * Float(hi) - dmin * Float(m1)
            }
        }
    }

    static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let ql = p.assumingMemoryBound(to: UInt8.self)
        let qh = (p + 128).assumingMemoryBound(to: UInt8.self)
        let sc = (p + 192).assumingMemoryBound(to: Int8.self)
        let d = loadHalf(p, 208)
        for half in 0..<2 {  // 128 elements each: 64 ql bytes, 32 qh bytes, 8 scales
            let l0 = ql + 64 * half, h = qh + 32 * half, s = sc + 8 * half, out = y + 128 * half
            for l in 0..<32 {
                let isb = l / 16
                let q1 = Int((l0[l] & 0xF) | ((h[l] & 3) << 4)) - 32
                let q2 = Int((l0[l + 32] & 0xF) | (((h[l] >> 2) & 3) << 4)) - 32
                let q3 = Int((l0[l] >> 4) | (((h[l] >> 4) & 3) << 4)) - 32
                let q4 = Int((l0[l + 32] >> 4) | (((h[l] >> 6) & 3) << 4)) - 32
                out[l] = d * Float(s[isb]) * Float(q1)
                out[l + 32] = d * Float(s[isb + 2]) * Float(q2)
                out[l + 64] = d * Float(s[isb + 4]) * Float(q3)
                out[l + 96] = d * Float(s[isb + 6]) * Float(q4)
            }
        }
    }
}
