/// Dequantization used on the hot paths (embedding rows, BLAS tiles in prefill).
///
/// The quantized formats go through the reference loops, which `-Ounchecked` vectorises
/// well enough for these uses (a row at a time, not per token per layer); float formats get
/// straight conversions.
enum FastDequant {
    @inline(__always)
    static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        switch type {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: n)
        case .f16:
            var i = 0
            while i + 8 <= n {
                let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self)
                UnsafeMutableRawPointer(dst + i).storeBytes(of: FloatDot.widen(h), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dst[i] = loadHalf(src, 2 * i); i += 1 }
        default:
            ReferenceDequant.row(type, src, dst, count: n)
        }
    }
}
