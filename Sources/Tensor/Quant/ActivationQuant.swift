import CKernels

/// Reusable buffers for activations quantized to 8 bits, so the decode loop allocates nothing.
///
/// As llama.cpp does, a quantized weight row is multiplied by the activations quantized too:
/// per block of 32 (for Q4_0/Q4_1/Q5_0/Q8_0, one scale each, like block_q8_0) or of 256 (for
/// the K types, one scale plus sums of every 16, like block_q8_K), so the inner loop is an
/// integer dot product. Not thread-safe: one scratch per thread issuing matvecs.
public final class MatVecScratch {
    /// Widest row (matrix column count) this scratch accepts per token.
    public let maxCols: Int
    private(set) var tokenCapacity = 0
    private(set) var q: UnsafeMutablePointer<Int8>
    private(set) var d: UnsafeMutablePointer<Float>
    private(set) var s: UnsafeMutablePointer<Float>
    private(set) var bsums: UnsafeMutablePointer<Int16>

    public init(maxCols: Int) {
        self.maxCols = max(32, maxCols)
        q = .allocate(capacity: 1); d = .allocate(capacity: 1)
        s = .allocate(capacity: 1); bsums = .allocate(capacity: 1)
        reserve(tokens: 1)
    }

    deinit {
        q.deallocate(); d.deallocate(); s.deallocate(); bsums.deallocate(); views.deallocate()
        tileBuffer?.deallocate(); unpackBuffer?.deallocate()
    }

    /// Rows of weights dequantized at a time per thread for the BLAS path of `matmul`:
    /// 128 rows × 8960 cols × 4 B = 4.6 MB per thread at most; sgemm wants wide strips (64 rows
    /// ran pp512 on SmolLM2 at 69 t/s, 128 at the figure in the commit).
    static let tileRows = 128
    private var tileBuffer: UnsafeMutablePointer<Float>?
    private var tileCapacity = 0

    /// A float buffer for dequantized weight tiles, allocated on first use by prefill.
    func tile(elements: Int) -> UnsafeMutablePointer<Float> {
        if let t = tileBuffer, tileCapacity >= elements { return t }
        tileBuffer?.deallocate()
        tileBuffer = .allocate(capacity: elements)
        tileCapacity = elements
        return tileBuffer!
    }

    /// Per-thread scratch for the tile kernels' unpacked rows (32-byte aligned loads).
    private var unpackBuffer: UnsafeMutableRawPointer?
    private var unpackCapacity = 0

    /// `bytes` of 64-byte aligned scratch, allocated on first use by prefill.
    func unpackScratch(bytes: Int) -> UnsafeMutableRawPointer {
        if let b = unpackBuffer, unpackCapacity >= bytes { return b }
        unpackBuffer?.deallocate()
        unpackBuffer = .allocate(byteCount: bytes, alignment: 64)
        unpackCapacity = bytes
        return unpackBuffer!
    }

    /// `activations(token:)` for every reserved token, for the tile kernels.
    private(set) var views: UnsafeMutablePointer<strata_q8_act> = .allocate(capacity: 1)

    /// Grows the buffers to hold `tokens` rows of activations; only `matmul` with a larger
    /// batch than ever before allocates.
    func reserve(tokens: Int) {
        guard tokens > tokenCapacity else { return }
        q.deallocate(); d.deallocate(); s.deallocate(); bsums.deallocate(); views.deallocate()
        let padded = (maxCols + 255) / 256 * 256
        q = .allocate(capacity: padded * tokens)
        d = .allocate(capacity: padded / 32 * tokens)
        s = .allocate(capacity: padded / 32 * tokens)
        bsums = .allocate(capacity: padded / 16 * tokens)
        tokenCapacity = tokens
        views = .allocate(capacity: tokens)
        for t in 0..<tokens { views[t] = activations(token: t) }
    }

    /// Strides between tokens in each buffer.
    var qStride: Int { (maxCols + 255) / 256 * 256 }
    var dStride: Int { qStride / 32 }
    var bsumStride: Int { qStride / 16 }

    /// The C view of token `t`'s quantized activations.
    func activations(token t: Int) -> strata_q8_act {
        strata_q8_act(q: UnsafePointer(q + t * qStride), d: UnsafePointer(d + t * dStride),
                      s: UnsafePointer(s + t * dStride), bsums: UnsafePointer(bsums + t * bsumStride))
    }

    /// Quantizes `n` floats of token `t` in `format` (llama.cpp's vec_dot_type of the weights).
    func quantize(_ x: UnsafePointer<Float>, count n: Int, format: ActivationFormat, token t: Int) {
        ActivationQuant.quantize(x, count: n, format: format, q: q + t * qStride, d: d + t * dStride,
                                 s: s + t * dStride, bsums: bsums + t * bsumStride)
    }
}

/// How activations are quantized for one weight type: the same `vec_dot_type` llama.cpp uses,
/// with llama.cpp's rounding on x86, because small models are sensitive to it. With a float
/// scale (the first version here) SmolLM2 Q4_1 greedy decoding matched llama.cpp for 5 of 32
/// tokens on `raw_en_capital`; the cause was the scale (`d`, `s`) not being rounded to f16 as
/// `block_q8_0`/`block_q8_1` store them (see `ActivationQuantParityTests` in LLMTests).
public enum ActivationFormat: Sendable {
    /// block_q8_0 (for Q4_0, Q5_0, Q8_0 weights): 32 values, d = f16(amax/127),
    /// q = round-half-even(x·127/amax) (`quantize_row_q8_0` AVX2 path). `s` = d·Σq exactly, so
    /// a kernel's offset term (−8·dw·s) equals llama.cpp's integer (q−8)·y product.
    case q8_0
    /// block_q8_1 (for Q4_1): as q8_0 with `s` = f16(amax/127 · Σq), as llama.cpp stores it.
    case q8_1
    /// block_q8_K (for K-quants): 256 values, iscale = −127/max (max: the signed value of
    /// largest magnitude), q = min(127, nearest_int(iscale·x)), d = 1/iscale (f32), bsums of 16.
    case q8_K

    public var block: Int { self == .q8_K ? 256 : 32 }
}

/// The activation quantizer (plain loops; -Ounchecked vectorises them and it is a few µs per
/// matvec, small next to streaming the weights).
public enum ActivationQuant {
    /// Quantizes `n` floats (`n` a multiple of `format.block`) as llama.cpp does for `format`.
    /// `s[b]` is used by the 32-blocks kernels, `bsums[g]` (Σq per 16) by the K kernels.
    public static func quantize(_ x: UnsafePointer<Float>, count n: Int, format: ActivationFormat,
                                q: UnsafeMutablePointer<Int8>, d: UnsafeMutablePointer<Float>,
                                s: UnsafeMutablePointer<Float>, bsums: UnsafeMutablePointer<Int16>) {
        let block = format.block
        for b in 0..<(n / block) {
            let xb = x + b * block, qb = q + b * block
            var amax: Float = 0, signedMax: Float = 0
            for i in 0..<block where abs(xb[i]) > amax { amax = abs(xb[i]); signedMax = xb[i] }
            let multiplier: Float, scale: Float
            switch format {
            case .q8_0, .q8_1:
                scale = amax / 127
                multiplier = amax != 0 ? 127 / amax : 0
            case .q8_K:
                multiplier = amax != 0 ? -127 / signedMax : 0
                scale = amax != 0 ? 1 / multiplier : 0
            }
            var total = 0
            for g in 0..<(block / 16) {
                var groupSum = 0
                for i in (16 * g)..<(16 * g + 16) {
                    // Both ggml paths round half to even (_mm256_round_ps, nearest_int).
                    let v = Int8(min(127, (xb[i] * multiplier).rounded(.toNearestOrEven)))
                    qb[i] = v
                    groupSum += Int(v)
                }
                bsums[b * block / 16 + g] = Int16(groupSum)
                total += groupSum
            }
            switch format {
            case .q8_0:
                d[b] = Float(Float16(scale))
                s[b] = d[b] * Float(total)
            case .q8_1:
                d[b] = Float(Float16(scale))
                s[b] = Float(Float16(scale * Float(total)))
            case .q8_K:
                d[b] = scale
                s[b] = scale * Float(total)
            }
        }
    }
}
