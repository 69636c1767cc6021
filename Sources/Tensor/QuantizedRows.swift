/// An int8 copy of a row-major float matrix, one symmetric scale per row:
/// x[r][i] ≈ scale[r] · q[r][i] with scale[r] = max|x[r]| / 127.
///
/// A scan over it reads a quarter of the bytes of the float matrix; it only ranks candidates,
/// which are then rescored exactly in float.
struct QuantizedRows {
    let dimension: Int
    private(set) var codes: [Int8] = []     // (rows, d)
    private(set) var scales: [Float] = []   // (rows)
    var count: Int { scales.count }

    init(dimension: Int) { self.dimension = dimension }

    mutating func append(_ v: UnsafePointer<Float>) {
        var m: Float = 0
        for i in 0..<dimension { m = max(m, abs(v[i])) }
        let s = m > 0 ? m / 127 : 1
        let inv = 1 / s
        for i in 0..<dimension { codes.append(Int8(clamping: Int((v[i] * inv).rounded()))) }
        scales.append(m > 0 ? s : 0)
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
        var tmp = QuantizedRows(dimension: dimension)
        tmp.append(v)
        for i in 0..<dimension { codes[r * dimension + i] = tmp.codes[i] }
        scales[r] = tmp.scales[0]
    }

    /// Approximate inner product of row r with the float query: scale · Σ q[i]·x[i].
    /// Plain reference for `fastScore`.
    func referenceScore(_ r: Int, _ query: UnsafePointer<Float>) -> Float {
        var s: Float = 0
        for i in 0..<dimension { s += Float(codes[r * dimension + i]) * query[i] }
        return s * scales[r]
    }

    /// Same as `referenceScore`, 8 lanes at a time with two accumulators (dimension % 16 == 0).
    @inline(__always)
    static func fastScore(_ row: UnsafePointer<Int8>, _ query: UnsafePointer<Float>, _ d: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= d {
            a0.addProduct(widen(row + i), UnsafeRawPointer(query + i).loadUnaligned(as: SIMD8<Float>.self))
            a1.addProduct(widen(row + i + 8), UnsafeRawPointer(query + i + 8).loadUnaligned(as: SIMD8<Float>.self))
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < d { s += Float(row[i]) * query[i]; i += 1 }
        return s
    }

    /// Eight int8 to eight floats; a per-lane loop compiles to vpmovsxbd + vcvtdq2ps where the
    /// stdlib SIMD conversion initialisers are not inlined.
    @inline(__always)
    static func widen(_ p: UnsafePointer<Int8>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for j in 0..<8 { r[j] = Float(p[j]) }
        return r
    }

    func withCodes<R>(_ body: (UnsafePointer<Int8>, UnsafePointer<Float>) -> R) -> R {
        codes.withUnsafeBufferPointer { c in scales.withUnsafeBufferPointer { s in body(c.baseAddress!, s.baseAddress!) } }
    }
}
