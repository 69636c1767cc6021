import CKernels
import XCTest
@testable import Tensor

/// VectorIndex against a brute-force full sort (the plain reference).
final class VectorIndexTests: XCTestCase {
    struct RNG: RandomNumberGenerator {
        var s: UInt64
        mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s ^ (s >> 29) }
    }

    func randomUnit(_ d: Int, _ g: inout RNG) -> [Float] {
        let v = (0..<d).map { _ in Float.random(in: -1...1, using: &g) }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    /// Reference: score every row in Double, full sort by (score desc, id asc).
    func bruteForce(_ vectors: [Int64: [Float]], _ q: [Float], k: Int, allowed: (Int64) -> Bool = { _ in true }) -> [Int64] {
        var scored: [(id: Int64, s: Float)] = []
        for (id, v) in vectors where allowed(id) {
            var acc = 0.0
            for i in 0..<q.count { acc += Double(v[i]) * Double(q[i]) }
            scored.append((id, Float(acc)))
        }
        scored.sort { $0.s > $1.s || ($0.s == $1.s && $0.id < $1.id) }
        return scored.prefix(k).map { $0.id }
    }

    func testMatchesBruteForceWithAddsRemovesAndReplacements() throws {
        var g = RNG(s: 7)
        let d = 48
        let index = VectorIndex(dimension: d)
        var model: [Int64: [Float]] = [:]
        for id in 0..<500 { let v = randomUnit(d, &g); try index.add(id: Int64(id * 3), vector: v); model[Int64(id * 3)] = v }
        for id in stride(from: 0, to: 1500, by: 7) { index.remove(id: Int64(id)); model[Int64(id)] = nil }
        for id in stride(from: 1, to: 300, by: 9) { let v = randomUnit(d, &g); try index.add(id: Int64(id * 3), vector: v); model[Int64(id * 3)] = v }
        XCTAssertEqual(index.count, model.count)
        XCTAssertFalse(index.remove(id: 999_999))
        for _ in 0..<20 {
            let q = randomUnit(d, &g)
            let got = try index.search(q, k: 10)
            XCTAssertEqual(got.map(\.id), bruteForce(model, q, k: 10))
            XCTAssertEqual(got.map(\.score), got.map(\.score).sorted(by: >))
        }
        let qs = (0..<5).map { _ in randomUnit(d, &g) }
        let batch = try index.search(queries: qs, k: 7)
        for (i, q) in qs.enumerated() { XCTAssertEqual(batch[i].map(\.id), bruteForce(model, q, k: 7)) }
        for (id, v) in model.prefix(5) { XCTAssertEqual(index.vector(id), v) }
    }

    func testTiesBreakBySmallerID() throws {
        let index = VectorIndex(dimension: 4)
        for id: Int64 in [9, 3, 7, 1, 5] { try index.add(id: id, vector: [1, 0, 0, 0]) }
        try index.add(id: 2, vector: [0.5, 0, 0, 0])
        XCTAssertEqual(try index.search([1, 0, 0, 0], k: 3).map(\.id), [1, 3, 5])
        XCTAssertEqual(try index.search([1, 0, 0, 0], k: 6).map(\.id), [1, 3, 5, 7, 9, 2])
    }

    func testKLargerThanCountEmptyIndexAndZeroK() throws {
        let index = VectorIndex(dimension: 3)
        XCTAssertEqual(try index.search([1, 0, 0], k: 5), [])
        index.enableQuantizedCopy()
        XCTAssertEqual(try index.searchInt8([1, 0, 0], k: 5).hits, [])
        try index.add(id: 1, vector: [1, 0, 0]); try index.add(id: 2, vector: [0, 1, 0])
        XCTAssertEqual(try index.search([1, 0, 0], k: 50).map(\.id), [1, 2])
        XCTAssertEqual(try index.search([1, 0, 0], k: 0), [])
        XCTAssertEqual(try index.searchInt8([1, 0, 0], k: 50).hits.map(\.id), [1, 2])
    }

    func testFilterIsAppliedBeforeSelection() throws {
        var g = RNG(s: 11)
        let d = 32
        let index = VectorIndex(dimension: d)
        var model: [Int64: [Float]] = [:]
        for id in 0..<300 { let v = randomUnit(d, &g); try index.add(id: Int64(id), vector: v); model[Int64(id)] = v }
        index.enableQuantizedCopy()
        let even = index.mask { $0 % 2 == 0 }
        XCTAssertEqual(even.allowedCount, 150)
        for _ in 0..<10 {
            let q = randomUnit(d, &g)
            let expected = bruteForce(model, q, k: 10) { $0 % 2 == 0 }
            XCTAssertEqual(try index.search(q, k: 10, allowed: even).map(\.id), expected)
            XCTAssertEqual(try index.searchInt8(q, k: 10, candidates: 20, allowed: even).hits.map(\.id), expected)
        }
        let none = index.mask { _ in false }
        XCTAssertEqual(try index.search(model[0]!, k: 10, allowed: none), [])
        try index.add(id: 1000, vector: randomUnit(d, &g))
        XCTAssertThrowsError(try index.search(model[0]!, k: 10, allowed: even)) { XCTAssertEqual($0 as? VectorIndexError, .staleMask) }
    }

    func testBadInputIsAnError() throws {
        let index = VectorIndex(dimension: 3)
        XCTAssertThrowsError(try index.add(id: 1, vector: [1, 2])) { XCTAssertEqual($0 as? VectorIndexError, .dimensionMismatch(expected: 3, got: 2)) }
        XCTAssertThrowsError(try index.add(id: 1, vector: [1, .nan, 0])) { XCTAssertEqual($0 as? VectorIndexError, .nonFinite(id: 1)) }
        XCTAssertThrowsError(try index.search([1, 2], k: 1))
        XCTAssertThrowsError(try index.search([1, .infinity, 0], k: 1)) { XCTAssertEqual($0 as? VectorIndexError, .nonFiniteQuery) }
        XCTAssertThrowsError(try index.searchInt8([1, 0, 0], k: 1)) { XCTAssertEqual($0 as? VectorIndexError, .noQuantizedCopy) }
        XCTAssertEqual(index.count, 0)
    }

    /// The C integer kernel (generic and AVX2) against its Swift reference twin, on lengths that
    /// are and are not multiples of 32 and row counts that are not multiples of 4.
    func testInt8KernelMatchesSwiftReference() {
        var g = RNG(s: 5)
        for d in [1, 31, 32, 96, 100, 384] {
            var rows = QuantizedRows(dimension: d)
            for _ in 0..<7 { let v = randomUnit(d, &g); v.withUnsafeBufferPointer { rows.append($0.baseAddress!) } }
            var q = [Int8](repeating: 0, count: d)
            for i in 0..<d { q[i] = Int8(Int(g.next() % 255) - 127) }
            let expected = (0..<7).map { rows.referenceDot($0, q) }
            typealias Kernel = @convention(c) (Int32, UnsafePointer<Int8>?, Int32, UnsafePointer<Int8>?, UnsafeMutablePointer<Int32>?) -> Void
            let kernels: [Kernel] = [strata_i8_dots, strata_i8_dots_generic] + (CPUFeatures.hasAVX2 ? [strata_i8_dots_avx2] : [])
            for kernel in kernels {
                var out = [Int32](repeating: 0, count: 7)
                rows.withCodes { c, _ in kernel(Int32(d), c, 7, q, &out) }
                XCTAssertEqual(out, expected, "d = \(d)")
            }
            // Extreme codes: every product 127·127 must not saturate the 16-bit pair sums.
            var ones = QuantizedRows(dimension: d)
            let v = [Float](repeating: -1, count: d)
            v.withUnsafeBufferPointer { ones.append($0.baseAddress!) }
            var out: [Int32] = [0]
            ones.withCodes { c, _ in strata_i8_dots(Int32(d), c, 1, [Int8](repeating: -127, count: d), &out) }
            XCTAssertEqual(out[0], Int32(127 * 127 * d))
        }
    }

    /// The int8 search returns exactly what the float scan returns, proves it on random data,
    /// and its error bound holds for every row.
    func testInt8SearchIsExact() throws {
        var g = RNG(s: 3)
        let d = 96, n = 40_000   // ≥ 32,768 so the two-thread scan runs; small d keeps debug-built data generation quick
        let index = VectorIndex(dimension: d, reserve: n)
        // Uniform in [-1, 1) per component, made with a bare LCG: Float.random is slow in debug builds.
        var flat = [Float](repeating: 0, count: n * d)
        flat.withUnsafeMutableBufferPointer { p in
            var s: UInt64 = 12345
            for i in 0..<p.count {
                s = s &* 6364136223846793005 &+ 1442695040888963407
                p[i] = Float(Int32(truncatingIfNeeded: s >> 32)) * (1.0 / 2147483648.0)
            }
        }
        try flat.withUnsafeBufferPointer { try index.add(ids: (0..<Int64(n)).map { $0 }, vectors: $0.baseAddress!) }
        index.enableQuantizedCopy()
        var proved = 0
        for i in 0..<12 {
            let q = randomUnit(d, &g)
            let float = try index.searchFloat(q, k: 10)
            let int8 = try index.searchInt8(q, k: 10)
            XCTAssertEqual(int8.hits.map(\.id), float.map(\.id))
            // Rescored scores are float inner products (summation order may differ from BLAS by an ulp).
            for (a, b) in zip(int8.hits, float) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5) }
            XCTAssertEqual(try index.search(q, k: 10).map(\.id), float.map(\.id), "search() takes the int8 path here")
            if int8.provedExact { proved += 1 }
            if i == 0 {  // the bound, checked row by row for one query
                var rows = QuantizedRows(dimension: d)
                flat.withUnsafeBufferPointer { p in for r in 0..<2000 { rows.append(p.baseAddress! + r * d) } }
                var qc = [Int8](repeating: 0, count: d)
                let qs = q.withUnsafeBufferPointer { qp in qc.withUnsafeMutableBufferPointer { QuantizedRows.quantize(qp.baseAddress!, d, into: $0.baseAddress!) } }
                let bound = rows.errorBound(queryScale: qs, queryL1: q.reduce(0) { $0 + abs($1) })
                for r in 0..<2000 {
                    let exact = zip(flat[(r * d)..<((r + 1) * d)], q).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                    let approx = Float(rows.referenceDot(r, qc)) * rows.scales[r] * qs
                    XCTAssertLessThanOrEqual(abs(exact - approx), bound)
                }
            }
        }
        XCTAssertEqual(proved, 12, "random data leaves a wide gap between the candidates and the rest")
    }

    /// When scores cannot be separated (many equal vectors), the int8 search says so and
    /// answers with the float scan — still the exact result.
    func testInt8SearchFallsBackWhenItCannotProve() throws {
        let d = 32, n = 20_000
        let index = VectorIndex(dimension: d, reserve: n)
        var v = [Float](repeating: 0, count: d); v[0] = 0.6; v[1] = 0.8
        for id in 0..<n { try index.add(id: Int64(id), vector: v) }
        index.enableQuantizedCopy()
        let q = v
        let r = try index.searchInt8(q, k: 5, candidates: 50)
        XCTAssertFalse(r.provedExact)
        XCTAssertEqual(r.hits.map(\.id), [0, 1, 2, 3, 4])   // equal scores: smaller ids first
        XCTAssertEqual(r.hits.map(\.id), try index.searchFloat(q, k: 5).map(\.id))
    }
}
