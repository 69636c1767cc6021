/// Float-weight dot products (F32, F16, BF16 rows · float activations) in Swift SIMD.
///
/// Float kernels are within 5-10% of C here (SWIFT-NOTES.md), so they stay in Swift. Four
/// independent 8-lane accumulators hide the FMA latency; conversions are per-lane loops
/// marked `@inline(__always)` because the stdlib SIMD conversion initialisers are not
/// inlined and spill (2x slower).
enum FloatDot {
    @inline(__always)
    static func widen(_ h: SIMD8<Float16>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(h[i]) }
        return r
    }

    @inline(__always)
    static func widenBF16(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(bitPattern: UInt32(h[i]) << 16) }
        return r
    }

    @inline(__always)
    static func x8(_ x: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Row `w` of `type` (F32/F16/BF16) · x over n elements.
    ///
    /// The three loops are written out on purpose: one shared loop taking the widening as an
    /// inlined closure measured 12-15% slower for all three types (bench-kernels, 2048×2048,
    /// 1-thread CPU-time figures, both builds in the same minutes).
    @inline(__always)
    static func dot(_ type: GGMLType, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        switch type {
        case .f32:
            let f = w.assumingMemoryBound(to: Float.self)
            while i + 32 <= n {
                a0.addProduct(x8(f, i), x8(x, i)); a1.addProduct(x8(f, i + 8), x8(x, i + 8))
                a2.addProduct(x8(f, i + 16), x8(x, i + 16)); a3.addProduct(x8(f, i + 24), x8(x, i + 24))
                i += 32
            }
        case .f16:
            while i + 32 <= n {
                for k in 0..<4 {
                    let v = widen(w.loadUnaligned(fromByteOffset: 2 * (i + 8 * k), as: SIMD8<Float16>.self))
                    switch k {
                    case 0: a0.addProduct(v, x8(x, i))
                    case 1: a1.addProduct(v, x8(x, i + 8))
                    case 2: a2.addProduct(v, x8(x, i + 16))
                    default: a3.addProduct(v, x8(x, i + 24))
                    }
                }
                i += 32
            }
        case .bf16:
            while i + 32 <= n {
                for k in 0..<4 {
                    let v = widenBF16(w.loadUnaligned(fromByteOffset: 2 * (i + 8 * k), as: SIMD8<UInt16>.self))
                    switch k {
                    case 0: a0.addProduct(v, x8(x, i))
                    case 1: a1.addProduct(v, x8(x, i + 8))
                    case 2: a2.addProduct(v, x8(x, i + 16))
                    default: a3.addProduct(v, x8(x, i + 24))
                    }
                }
                i += 32
            }
        default:
            preconditionFailure("FloatDot: \(type) is not a float type")
        }
        var sum = ((a0 + a1) + (a2 + a3)).sum()
        while i < n {  // tail shorter than 32
            let wi: Float = switch type {
            case .f32: w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
            case .f16: loadHalf(w, 2 * i)
            default: loadBF16(w, 2 * i)
            }
            sum += wi * x[i]
            i += 1
        }
        return sum
    }
}
