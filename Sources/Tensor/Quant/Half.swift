/// Half-precision helpers shared by the reference and fast code.
///
/// ggml stores block scales as IEEE half (`ggml_half`) and BF16 tensors as the top 16 bits
/// of a Float; both are read from unaligned bytes, so these go through `loadUnaligned`.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

@inline(__always)
func loadBF16(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
    Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) << 16)
}

/// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K / Q5_K block, as ggml's
/// `get_scale_min_k4`: the first four are plain 6-bit fields, the last four borrow their top
/// two bits from the high bits of the first eight bytes.
@inline(__always)
func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j + 4] & 63)
    }
    let d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4)
    let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
    return (d, m)
}
