import CKernels

/// An int8 copy of a row-major float matrix, one symmetric scale per row:
/// x[r][i] ≈ scale[r] · q[r][i] with scale[r] = max|x[r]| / 127, so every code is in [-127, 127].
///
/// A scan over it reads a quarter of the bytes of the float matrix. It only ranks candidates:
/// `errorBound` says how far an int8 score can be from the float one, which is what lets the
/// vector index prove that rescoring the candidates in float gave the exact top k.
struct QuantizedRows {
    let dimension: Int
    private(set) var codes: [Int8] = []     // (rows, d)
    private(set) var scales: [Float] = []   // (rows)
    /// Largest scale and largest scale·Σ|q| of any row ever stored. Never lowered on removal:
    /// a stale maximum only makes the error bound looser, never wrong.
    private(set) var maxScale: Float = 0
    private(set) var maxScaledL1: Float = 0
    var count: Int { scales.count }

    init(dimension: Int) { self.dimension = dimension }

    /// The codes and scale of one vector (scale 0 for the zero vector).
    static func quantize(_ v: UnsafePointer<Float>, _ d: Int, into out: UnsafeMutablePointer<Int8>) -> Float {
        var m: Float = 0
        for i in 0..<d { m = max(m, abs(v[i])) }
        guard m > 0 else { out.initialize(repeating: 0, count: d); return 0 }
        let inv = 127 / m
        for i in 0..<d { out[i] = Int8(clamping: Int((v[i] * inv).rounded())) }
        return m / 127
    }

    mutating func append(_ v: UnsafePointer<Float>) {
        let start = codes.count
        codes.append(contentsOf: repeatElement(0, count: dimension))
        let s = codes.withUnsafeMutableBufferPointer { Self.quantize(v, dimension, into: $0.baseAddress! + start) }
        scales.append(s)
        noteRow(count - 1)
    }

    /// Replaces row `r` with the last row and drops the last (mirrors the float matrix).
    mutating func swapRemove(_ r: Int) {
        let last = count - 1
        if r != last {
            for i in 0..<dimension { codes[r * dimension + i] = codes[last * dimension + i] }
            scales[r] = scales[last]
        }
        codes.removeLast(dimension); scales.removeLast()
    }

    mutating func update(_ r: Int, _ v: UnsafePointer<Float>) {
        scales[r] = codes.withUnsafeMutableBufferPointer { Self.quantize(v, dimension, into: $0.baseAddress! + r * dimension) }
        noteRow(r)
    }

    private mutating func noteRow(_ r: Int) {
        var l1 = 0
        for i in 0..<dimension { l1 += abs(Int(codes[r * dimension + i])) }
        maxScale = max(maxScale, scales[r])
        maxScaledL1 = max(maxScaledL1, scales[r] * Float(l1))
    }

    /// An upper bound of |x·q − scale_r·s_q·(X·Q)| over every row, for a query q with scale s_q
    /// and codes Q. With x = s_r·X + δx (|δx| ≤ s_r/2) and q = s_q·Q + δq (|δq| ≤ s_q/2):
    /// x·q − s_r·s_q·X·Q = s_r·X·δq + δx·q, so the error is at most
    /// (s_q/2)·s_r·Σ|X| + (s_r/2)·Σ|q|. A small relative margin covers float rounding.
    func errorBound(queryScale: Float, queryL1: Float) -> Float {
        let e = 0.5 * queryScale * maxScaledL1 + 0.5 * maxScale * queryL1
        return e * 1.001 + 1e-6
    }

    /// Integer inner product of row r's codes with an int8 query. Plain reference twin of
    /// `strata_i8_dots` (Sources/CKernels), which the scan uses.
    func referenceDot(_ r: Int, _ query: [Int8]) -> Int32 {
        var s: Int32 = 0
        for i in 0..<dimension { s += Int32(codes[r * dimension + i]) * Int32(query[i]) }
        return s
    }

    func withCodes<R>(_ body: (UnsafePointer<Int8>, UnsafePointer<Float>) -> R) -> R {
        codes.withUnsafeBufferPointer { c in scales.withUnsafeBufferPointer { s in body(c.baseAddress!, s.baseAddress!) } }
    }
}
