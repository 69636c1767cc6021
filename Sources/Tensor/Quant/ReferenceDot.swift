import CKernels

/// Swift reference twins of the C integer dot-product kernels (`Sources/CKernels`).
///
/// Each computes one weight row · quantized activations in plain loops, in the same order of
/// operations as the portable C kernels, so tests can require bit-identical results from
/// them and bound the AVX2 ones by float re-association only. Block layouts: see
/// `ReferenceDequant`.
public enum ReferenceDot {
    /// Row `w` (n elements of `type`) · activations `a` quantized in the type's block size.
    public static func dot(_ type: GGMLType, count n: Int, _ w: UnsafeRawPointer, _ a: strata_q8_act) -> Float {
        let x = w.assumingMemoryBound(to: UInt8.self)
        switch type {
        case .q4_0: return q4_0(n, x, a)
        case .q4_1: return q4_1(n, x, a)
        case .q5_0: return q5_0(n, x, a)
        case .q8_0: return q8_0(n, x, a)
        case .q4_K: return q45_K(n, x, a, five: false)
        case .q5_K: return q45_K(n, x, a, five: true)
        case .q6_K: return q6_K(n, x, a)
        default: preconditionFailure("ReferenceDot: \(type) has no integer kernel")
        }
    }

    static func q4_0(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act) -> Float {
        var sumf: Float = 0
        for b in 0..<(n / 32) {
            let x = w + 18 * b, q8 = a.q + 32 * b
            var isum: Int32 = 0
            for j in 0..<16 { isum += Int32(x[2 + j] & 0xF) * Int32(q8[j]) + Int32(x[2 + j] >> 4) * Int32(q8[j + 16]) }
            sumf += loadHalf(x) * (a.d[b] * Float(isum) - 8 * a.s[b])
        }
        return sumf
    }

    static func q4_1(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act) -> Float {
        var sumf: Float = 0
        for b in 0..<(n / 32) {
            let x = w + 20 * b, q8 = a.q + 32 * b
            var isum: Int32 = 0
            for j in 0..<16 { isum += Int32(x[4 + j] & 0xF) * Int32(q8[j]) + Int32(x[4 + j] >> 4) * Int32(q8[j + 16]) }
            sumf += loadHalf(x) * a.d[b] * Float(isum) + loadHalf(x, 2) * a.s[b]
        }
        return sumf
    }

    static func q5_0(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act) -> Float {
        var sumf: Float = 0
        for b in 0..<(n / 32) {
            let x = w + 22 * b, q8 = a.q + 32 * b
            let qh = UnsafeRawPointer(x).loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            var isum: Int32 = 0
            for j in 0..<16 {
                let lo = Int32(x[6 + j] & 0xF) | Int32(truncatingIfNeeded: (qh >> UInt32(j)) << 4) & 0x10
                let hi = Int32(x[6 + j] >> 4) | Int32(truncatingIfNeeded: qh >> UInt32(j + 12)) & 0x10
                isum += lo * Int32(q8[j]) + hi * Int32(q8[j + 16])
            }
            sumf += loadHalf(x) * (a.d[b] * Float(isum) - 16 * a.s[b])
        }
        return sumf
    }

    static func q8_0(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act) -> Float {
        var sumf: Float = 0
        for b in 0..<(n / 32) {
            let x = w + 34 * b, q8 = a.q + 32 * b
            var isum: Int32 = 0
            for j in 0..<32 { isum += Int32(Int8(bitPattern: x[2 + j])) * Int32(q8[j]) }
            sumf += loadHalf(x) * a.d[b] * Float(isum)
        }
        return sumf
    }

    static func q45_K(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act, five: Bool) -> Float {
        let bytes = five ? 176 : 144
        var sumf: Float = 0
        for b in 0..<(n / 256) {
            let x = w + bytes * b, scales = x + 4, qh = x + 16, qs = x + (five ? 48 : 16)
            let q8 = a.q + 256 * b, bs = a.bsums + 16 * b
            var isum: Int32 = 0, msum: Int32 = 0
            for j in 0..<8 {
                let (sc, m) = scaleMinK4(j, scales)
                let q = qs + 32 * (j / 2), shift = UInt8((j & 1) * 4)
                var s: Int32 = 0
                for l in 0..<32 {
                    var v = Int32((q[l] >> shift) & 0xF)
                    if five { v |= Int32((qh[l] >> UInt8(j)) & 1) << 4 }
                    s += v * Int32(q8[32 * j + l])
                }
                isum += Int32(sc) * s
                msum += Int32(m) * (Int32(bs[2 * j]) + Int32(bs[2 * j + 1]))
            }
            let da = a.d[b]
            sumf += da * loadHalf(x) * Float(isum) - da * loadHalf(x, 2) * Float(msum)
        }
        return sumf
    }

    static func q6_K(_ n: Int, _ w: UnsafePointer<UInt8>, _ a: strata_q8_act) -> Float {
        var sumf: Float = 0
        for b in 0..<(n / 256) {
            let x = w + 210 * b, ql = x, qh = x + 128
            let sc = UnsafeRawPointer(x + 192).assumingMemoryBound(to: Int8.self)
            let q8 = a.q + 256 * b, bs = a.bsums + 16 * b
            var isum: Int32 = 0
            for g in 0..<16 {  // group g = elements 16g..<16g+16, scale sc[g]
                var s: Int32 = 0
                for i in 0..<16 {
                    let e = 16 * g + i, half = e / 128, r = e % 128, k = r / 32, l = r % 32
                    let low = ql[64 * half + l + (k & 1) * 32]
                    let nibble = k & 2 != 0 ? low >> 4 : low & 0xF
                    let v = Int32(nibble | (((qh[32 * half + l] >> UInt8(2 * k)) & 3) << 4))
                    s += v * Int32(q8[e])
                }
                isum += Int32(sc[g]) * (s - 32 * Int32(bs[g]))
            }
            sumf += loadHalf(x, 208) * a.d[b] * Float(isum)
        }
        return sumf
    }
}
