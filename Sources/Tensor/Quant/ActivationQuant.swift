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

    deinit { q.deallocate(); d.deallocate(); s.deallocate(); bsums.deallocate(); tileBuffer?.deallocate() }

    /// Rows of weights dequantized at a time for the BLAS path of `matmul`.
    static let tileRows = 256
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

    /// Grows the buffers to hold `tokens` rows of activations; only `matmul` with a larger
    /// batch than ever before allocates.
    func reserve(tokens: Int) {
        guard tokens > tokenCapacity else { return }
        q.deallocate(); d.deallocate(); s.deallocate(); bsums.deallocate()
        let padded = (maxCols + 255) / 256 * 256
        q = .allocate(capacity: padded * tokens)
        d = .allocate(capacity: padded / 32 * tokens)
        s = .allocate(capacity: padded / 32 * tokens)
        bsums = .allocate(capacity: padded / 16 * tokens)
        tokenCapacity = tokens
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

    /// Quantizes `n` floats of token `t` in blocks of `block` (32 or 256).
    func quantize(_ x: UnsafePointer<Float>, count n: Int, block: Int, token t: Int) {
        ActivationQuant.quantize(x, count: n, block: block, q: q + t * qStride, d: d + t * dStride,
                                 s: s + t * dStride, bsums: bsums + t * bsumStride)
    }
}

/// The activation quantizer (plain loops; -Ounchecked vectorises them and it is a few µs per
/// matvec, small next to streaming the weights).
public enum ActivationQuant {
    /// Symmetric 8-bit quantization of `n` floats in blocks of `block`: d = max|x|/127,
    /// q = round(x/d) (half away from zero, as ggml's roundf), sums kept for the weight offsets.
    /// `s[b]` = d·Σq per block (used by 32-blocks); `bsums[g]` = Σq per 16 (used by K types).
    public static func quantize(_ x: UnsafePointer<Float>, count n: Int, block: Int,
                                q: UnsafeMutablePointer<Int8>, d: UnsafeMutablePointer<Float>,
                                s: UnsafeMutablePointer<Float>, bsums: UnsafeMutablePointer<Int16>) {
        for b in 0..<(n / block) {
            let xb = x + b * block, qb = q + b * block
            var amax: Float = 0
            for i in 0..<block { amax = max(amax, abs(xb[i])) }
            let scale = amax / 127
            let inverse: Float = scale != 0 ? 1 / scale : 0
            var total = 0
            for g in 0..<(block / 16) {
                var groupSum = 0
                for i in (16 * g)..<(16 * g + 16) {
                    let v = Int8((xb[i] * inverse).rounded(.toNearestOrAwayFromZero))
                    qb[i] = v
                    groupSum += Int(v)
                }
                bsums[b * block / 16 + g] = Int16(groupSum)
                total += groupSum
            }
            d[b] = scale
            s[b] = scale * Float(total)
        }
    }
}
