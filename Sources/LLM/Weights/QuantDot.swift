import Tensor

/// Fast row · vector dot products on quantized weights with float activations, used by decode.
///
/// Activations stay in float (llama.cpp quantizes them to Q8 blocks): it costs nothing on a
/// memory-bound matvec and keeps us closer to exact arithmetic. Each must agree with
/// `Dequantize.row` followed by a float dot product (see `QuantTests`).
enum QuantDot {
    @inline(__always) static func floats(_ v: SIMD8<UInt8>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(Int32(v[i])) }
        return r
    }
    @inline(__always) static func floats(_ v: SIMD8<Int8>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(Int32(v[i])) }
        return r
    }
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Plain float dot product (8 lanes, two accumulators).
    @inline(__always) static func f32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            acc0.addProduct(load8(a + i), load8(b + i))
            acc1.addProduct(load8(a + i + 8), load8(b + i + 8))
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Q4_1 row · x. `xsum[b]` is the sum of x over block b (the min term of every row shares it).
    @inline(__always) static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ xsum: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc = SIMD8<Float>(), mins: Float = 0
        var p = row
        for b in 0..<blocks {
            let d = Dequantize.half(p, 0), m = Dequantize.half(p, 2)
            let q = (p + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = q & 0x0F, hi = q &>> 4
            let xb = x + b * 32
            var s = floats(lo.lowHalf) * load8(xb)
            s.addProduct(floats(lo.highHalf), load8(xb + 8))
            s.addProduct(floats(hi.lowHalf), load8(xb + 16))
            s.addProduct(floats(hi.highHalf), load8(xb + 24))
            acc.addProduct(SIMD8(repeating: d), s)
            mins += m * xsum[b]
            p += 20
        }
        return acc.sum() + mins
    }

    /// Q4_0 row · x: nibbles offset by 8, so the offset becomes -8·d·sum(x) per block.
    @inline(__always) static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ xsum: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc = SIMD8<Float>(), offs: Float = 0
        var p = row
        for b in 0..<blocks {
            let d = Dequantize.half(p, 0)
            let q = (p + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = q & 0x0F, hi = q &>> 4
            let xb = x + b * 32
            var s = floats(lo.lowHalf) * load8(xb)
            s.addProduct(floats(lo.highHalf), load8(xb + 8))
            s.addProduct(floats(hi.lowHalf), load8(xb + 16))
            s.addProduct(floats(hi.highHalf), load8(xb + 24))
            acc.addProduct(SIMD8(repeating: d), s)
            offs += -8 * d * xsum[b]
            p += 18
        }
        return acc.sum() + offs
    }

    /// Q8_0 row · x.
    @inline(__always) static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var p = row
        for b in 0..<blocks {
            let d = Dequantize.half(p, 0)
            let q = (p + 2).loadUnaligned(as: SIMD32<Int8>.self)
            let xb = x + b * 32
            var s = floats(SIMD8(q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7])) * load8(xb)
            s.addProduct(floats(SIMD8(q[8], q[9], q[10], q[11], q[12], q[13], q[14], q[15])), load8(xb + 8))
            s.addProduct(floats(SIMD8(q[16], q[17], q[18], q[19], q[20], q[21], q[22], q[23])), load8(xb + 16))
            s.addProduct(floats(SIMD8(q[24], q[25], q[26], q[27], q[28], q[29], q[30], q[31])), load8(xb + 24))
            acc.addProduct(SIMD8(repeating: d), s)
            p += 34
        }
        return acc.sum()
    }

    /// Q4_K row · x: per 32-element sub-block, d1·(q·x) − m1·sum(x).
    @inline(__always) static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ xsum: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc = SIMD8<Float>(), mins: Float = 0
        var p = row, xb = x, xs = xsum
        for _ in 0..<blocks {
            let d = Dequantize.half(p, 0), dmin = Dequantize.half(p, 2)
            let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
            var q = p + 16
            for pair in 0..<4 {
                let (sc1, m1) = Dequantize.scaleMinK4(2 * pair, scales)
                let (sc2, m2) = Dequantize.scaleMinK4(2 * pair + 1, scales)
                let a = q.loadUnaligned(as: SIMD16<UInt8>.self), b = q.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                var s1 = floats((a & 0x0F).lowHalf) * load8(xb)
                s1.addProduct(floats((a & 0x0F).highHalf), load8(xb + 8))
                s1.addProduct(floats((b & 0x0F).lowHalf), load8(xb + 16))
                s1.addProduct(floats((b & 0x0F).highHalf), load8(xb + 24))
                var s2 = floats((a &>> 4).lowHalf) * load8(xb + 32)
                s2.addProduct(floats((a &>> 4).highHalf), load8(xb + 40))
                s2.addProduct(floats((b &>> 4).lowHalf), load8(xb + 48))
                s2.addProduct(floats((b &>> 4).highHalf), load8(xb + 56))
                acc.addProduct(SIMD8(repeating: d * sc1), s1)
                acc.addProduct(SIMD8(repeating: d * sc2), s2)
                mins += dmin * (m1 * xs[0] + m2 * xs[1])
                q += 32; xb += 64; xs += 2
            }
            p += 144
        }
        return acc.sum() - mins
    }
}
