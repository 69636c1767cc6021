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
        XCTAssertEqual(try index.searchQuantized([1, 0, 0], k: 5), [])
        try index.add(id: 1, vector: [1, 0, 0]); try index.add(id: 2, vector: [0, 1, 0])
        XCTAssertEqual(try index.search([1, 0, 0], k: 50).map(\.id), [1, 2])
        XCTAssertEqual(try index.search([1, 0, 0], k: 0), [])
        XCTAssertEqual(try index.searchQuantized([1, 0, 0], k: 50).map(\.id), [1, 2])
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
            XCTAssertEqual(try index.searchQuantized(q, k: 10, candidates: 300, allowed: even).map(\.id), expected)
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
        XCTAssertThrowsError(try index.searchQuantized([1, 0, 0], k: 1)) { XCTAssertEqual($0 as? VectorIndexError, .noQuantizedCopy) }
        XCTAssertEqual(index.count, 0)
    }

    /// The fast int8 score against its plain reference, and recall of int8 scan + exact rescoring.
    func testQuantizedScanRecall() throws {
        var g = RNG(s: 3)
        let d = 96, n = 70_000   // ≥ 65,536 so the two-part parallel scan runs; small d keeps the debug-built data generation quick
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
        var q8 = QuantizedRows(dimension: d)
        let q = randomUnit(d, &g)
        flat.withUnsafeBufferPointer { q8.append($0.baseAddress!) }
        let ref = q.withUnsafeBufferPointer { q8.referenceScore(0, $0.baseAddress!) }
        let fast = q8.withCodes { c, s in q.withUnsafeBufferPointer { QuantizedRows.fastScore(c, $0.baseAddress!, d) * s[0] } }
        XCTAssertEqual(fast, ref, accuracy: 1e-5)
        XCTAssertEqual(fast, Float(zip(flat.prefix(d), q).reduce(0) { $0 + $1.0 * $1.1 }), accuracy: 0.01)

        var hits = 0, total = 0
        for _ in 0..<10 {
            let q = randomUnit(d, &g)
            let exact = Set(try index.search(q, k: 10).map(\.id))
            let approx = try index.searchQuantized(q, k: 10, candidates: 1000)
            hits += approx.filter { exact.contains($0.id) }.count; total += 10
            // Rescored scores are exact float inner products (summation order may differ from BLAS by an ulp).
            let e = try index.search(q, k: 10)
            if Set(approx.map(\.id)) == exact {
                XCTAssertEqual(approx.map(\.id), e.map(\.id))
                for (a, b) in zip(approx, e) { XCTAssertEqual(a.score, b.score, accuracy: 1e-6) }
            }
        }
        XCTAssertGreaterThanOrEqual(Double(hits) / Double(total), 0.99)
    }
}
