import CKernels
import Foundation

/// Which rows of a `VectorIndex` a search may return (e.g. the chunks a user's access groups
/// allow). Built from the index for one state of it: any change to the index invalidates it.
public struct RowMask: Sendable {
    var bits: [UInt64]
    let generation: Int
    public let allowedCount: Int
    @inline(__always) func allows(_ row: Int) -> Bool { bits[row >> 6] & (1 << UInt64(row & 63)) != 0 }
}

/// Exact inner-product search over vectors held in one contiguous row-major (n × d) matrix.
///
/// Scoring is one BLAS `sgemv` per query (`sgemm` for several), selection a size-k heap over the
/// scores, never a full sort. Rows are appended and removed in place (a removal moves the last
/// row into the hole), with the caller's ids kept beside. An optional int8 copy (one scale per
/// row, 25% more memory) makes a single-query search of a large index about three times
/// cheaper: an integer scan picks candidates, float rescoring and an error bound keep it exact.
///
/// Not thread-safe for mutation; concurrent searches without mutation are fine.
public final class VectorIndex: @unchecked Sendable {
    public let dimension: Int
    public private(set) var count = 0
    public private(set) var ids: [Int64] = []
    private var rowOf: [Int64: Int] = [:]
    private var storage: UnsafeMutablePointer<Float>
    private var capacity: Int
    private var quantized: QuantizedRows?
    /// Bumped by every mutation so a stale `RowMask` is detected.
    private var generation = 0

    public init(dimension: Int, reserve: Int = 0) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
        capacity = max(16, reserve)
        storage = .allocate(capacity: capacity * dimension)
    }

    deinit { storage.deallocate() }

    /// Whether the int8 copy is kept (it is maintained on every later add/remove).
    public var hasQuantizedCopy: Bool { quantized != nil }

    public func contains(_ id: Int64) -> Bool { rowOf[id] != nil }

    /// The stored vector of `id`.
    public func vector(_ id: Int64) -> [Float]? {
        guard let r = rowOf[id] else { return nil }
        return Array(UnsafeBufferPointer(start: storage + r * dimension, count: dimension))
    }

    /// Adds `vector` under `id`, replacing the vector already stored under that id.
    public func add(id: Int64, vector: [Float]) throws {
        guard vector.count == dimension else { throw VectorIndexError.dimensionMismatch(expected: dimension, got: vector.count) }
        try vector.withUnsafeBufferPointer { try add(ids: [id], vectors: $0.baseAddress!) }
    }

    /// Adds ids.count vectors read row-major from `vectors` (ids.count × dimension floats).
    public func add(ids newIDs: [Int64], vectors: UnsafePointer<Float>) throws {
        for i in 0..<(newIDs.count * dimension) where !vectors[i].isFinite {
            throw VectorIndexError.nonFinite(id: newIDs[i / dimension])
        }
        generation += 1
        for (k, id) in newIDs.enumerated() {
            let src = vectors + k * dimension
            if let r = rowOf[id] {
                (storage + r * dimension).update(from: src, count: dimension)
                quantized?.update(r, src)
                continue
            }
            if count == capacity { grow(to: capacity * 2) }
            (storage + count * dimension).initialize(from: src, count: dimension)
            quantized?.append(src)
            ids.append(id); rowOf[id] = count; count += 1
        }
    }

    /// Removes `id`; returns false when it was not there.
    @discardableResult
    public func remove(id: Int64) -> Bool {
        guard let r = rowOf.removeValue(forKey: id) else { return false }
        generation += 1
        let last = count - 1
        if r != last {
            (storage + r * dimension).update(from: storage + last * dimension, count: dimension)
            ids[r] = ids[last]; rowOf[ids[r]] = r
        }
        ids.removeLast(); quantized?.swapRemove(r); count -= 1
        return true
    }

    /// Keeps an int8 copy from now on (builds it for the rows already present).
    public func enableQuantizedCopy() {
        guard quantized == nil else { return }
        var q = QuantizedRows(dimension: dimension)
        for r in 0..<count { q.append(storage + r * dimension) }
        quantized = q
    }

    /// A mask allowing the rows whose id satisfies `isAllowed`, valid until the next mutation.
    public func mask(_ isAllowed: (Int64) -> Bool) -> RowMask {
        var bits = [UInt64](repeating: 0, count: (count + 63) / 64)
        var n = 0
        for (r, id) in ids.enumerated() where isAllowed(id) { bits[r >> 6] |= 1 << UInt64(r & 63); n += 1 }
        return RowMask(bits: bits, generation: generation, allowedCount: n)
    }

    /// With an int8 copy, indexes at least this large are searched through it: below, the
    /// float matrix is small enough that one BLAS pass costs about the same.
    public static let prefilterMinRows = 16_384

    /// The k rows with the largest inner product with `query`, best first (ties: smaller id).
    /// Always exact: with an int8 copy and at least `prefilterMinRows` rows it runs
    /// `searchInt8`, whose result is proven equal to the float scan (or is the float scan).
    public func search(_ query: [Float], k: Int, allowed: RowMask? = nil) throws -> [VectorHit] {
        if quantized != nil && count >= Self.prefilterMinRows { return try searchInt8(query, k: k, allowed: allowed).hits }
        return try searchFloat(query, k: k, allowed: allowed)
    }

    /// The exact search as one BLAS `sgemv` over the float matrix and a size-k heap.
    public func searchFloat(_ query: [Float], k: Int, allowed: RowMask? = nil) throws -> [VectorHit] {
        try check(query, allowed)
        guard count > 0, k > 0 else { return [] }
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { scores.deallocate() }
        query.withUnsafeBufferPointer { q in
            BLAS.gemv(m: count, n: dimension, a: storage, lda: dimension, x: q.baseAddress!, y: scores)
        }
        return select(scores, k: k, allowed: allowed)
    }

    /// Several queries at once: one `sgemm` scores them all (faster than one gemv each).
    public func search(queries: [[Float]], k: Int, allowed: RowMask? = nil) throws -> [[VectorHit]] {
        for q in queries { try check(q, allowed) }
        guard count > 0, k > 0, !queries.isEmpty else { return queries.map { _ in [] } }
        let nq = queries.count
        let flat = queries.flatMap { $0 }
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: nq * count)
        defer { scores.deallocate() }
        flat.withUnsafeBufferPointer { q in
            // scores (nq × n) = Q (nq × d) · Vᵀ
            BLAS.gemm(m: nq, n: count, k: dimension, a: q.baseAddress!, lda: dimension,
                      b: storage, ldb: dimension, transB: true, c: scores, ldc: count)
        }
        return (0..<nq).map { select(scores + $0 * count, k: k, allowed: allowed) }
    }

    /// What `searchInt8` did: the hits, how many candidates it rescored in float, and whether
    /// the int8 bound proved them the exact top k (false: it fell back to the float scan).
    public struct Int8Search: Sendable {
        public var hits: [VectorHit]
        public var candidatesRescored: Int
        public var provedExact: Bool
    }

    /// Exact top-k at the cost of an int8 scan: the query is quantized too, the int8 copy is
    /// scanned with the integer kernel (a quarter of the float bytes) keeping the best
    /// `candidates` rows, and those are rescored in float. `QuantizedRows.errorBound` limits how
    /// far any int8 score is from its float score, so when the best int8 score left out, plus
    /// that bound, is below the k-th float score, no row left out can belong to the top k and
    /// the result is exact. When it cannot be proven (near-duplicate scores around the k-th,
    /// too few candidates) the float scan answers instead. Requires `enableQuantizedCopy()`.
    public func searchInt8(_ query: [Float], k: Int, candidates: Int = 256, allowed: RowMask? = nil) throws -> Int8Search {
        try check(query, allowed)
        guard let q = quantized else { throw VectorIndexError.noQuantizedCopy }
        guard count > 0, k > 0 else { return Int8Search(hits: [], candidatesRescored: 0, provedExact: true) }
        let c = min(count, max(k, candidates))
        let d = dimension, n = count
        var qCodes = [Int8](repeating: 0, count: d)
        let qScale = query.withUnsafeBufferPointer { qp in
            qCodes.withUnsafeMutableBufferPointer { QuantizedRows.quantize(qp.baseAddress!, d, into: $0.baseAddress!) }
        }
        let bound = q.errorBound(queryScale: qScale, queryL1: query.reduce(0) { $0 + abs($1) })

        // Blocks of rows from one counter: when another process holds a core, the other thread
        // takes over its blocks. Each thread keeps its own candidate heap and score buffer.
        let block = 8192
        let pool = ThreadPool.shared(threads: n >= 32_768 ? 2 : 1)
        var heaps = [TopK](repeating: TopK(k: c), count: pool.threads)
        let dots = UnsafeMutablePointer<Int32>.allocate(capacity: pool.threads * block)
        defer { dots.deallocate() }
        qCodes.withUnsafeBufferPointer { qc in
            q.withCodes { codes, scales in
                let ids = self.ids
                heaps.withUnsafeMutableBufferPointer { hp in
                    pool.parallelFor(n, chunk: block) { rows, slot in
                        var heap = TopK(k: 0)
                        swap(&heap, &hp[slot])   // work on the slot's heap without copying it
                        let out = dots + slot * block
                        strata_i8_dots(Int32(d), codes + rows.lowerBound * d, Int32(rows.count), qc.baseAddress!, out)
                        for (j, r) in rows.enumerated() {
                            if let m = allowed, !m.allows(r) { continue }
                            let s = Float(out[j]) * (scales[r] * qScale)
                            if s >= heap.threshold { heap.offer(score: s, row: Int32(r), key: ids[r]) }
                        }
                        swap(&heap, &hp[slot])
                    }
                }
            }
        }
        // The best int8 score of any row not kept: a thread whose heap is not full kept all its rows.
        var leftOut = -Float.infinity
        var top = TopK(k: k)
        var rescored = 0
        query.withUnsafeBufferPointer { qp in
            for h in heaps {
                if h.isFull { leftOut = max(leftOut, h.threshold) }
                for (row, _, key) in h.sorted() {
                    top.offer(score: Self.dot(storage + Int(row) * d, qp.baseAddress!, d), row: row, key: key)
                    rescored += 1
                }
            }
        }
        let proven = leftOut == -.infinity || (top.isFull && leftOut + bound < top.threshold)
        guard proven else {
            return Int8Search(hits: try searchFloat(query, k: k, allowed: allowed), candidatesRescored: rescored, provedExact: false)
        }
        return Int8Search(hits: top.sorted().map { VectorHit(id: $0.key, score: $0.score) }, candidatesRescored: rescored, provedExact: true)
    }

    // MARK: - Internals

    private func check(_ query: [Float], _ allowed: RowMask?) throws {
        guard query.count == dimension else { throw VectorIndexError.dimensionMismatch(expected: dimension, got: query.count) }
        guard query.allSatisfy(\.isFinite) else { throw VectorIndexError.nonFiniteQuery }
        if let m = allowed, m.generation != generation { throw VectorIndexError.staleMask }
    }

    private func select(_ scores: UnsafePointer<Float>, k: Int, allowed: RowMask?) -> [VectorHit] {
        var heap = TopK(k: min(k, count))
        if let m = allowed {
            for r in 0..<count where m.allows(r) && scores[r] >= heap.threshold {
                heap.offer(score: scores[r], row: Int32(r), key: ids[r])
            }
        } else {
            for r in 0..<count where scores[r] >= heap.threshold {
                heap.offer(score: scores[r], row: Int32(r), key: ids[r])
            }
        }
        return heap.sorted().map { VectorHit(id: $0.key, score: $0.score) }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    private func grow(to newCapacity: Int) {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimension)
        p.moveInitialize(from: storage, count: count * dimension)
        storage.deallocate()
        storage = p; capacity = newCapacity
    }
}

/// Errors of `VectorIndex`, each saying what the caller must change.
public enum VectorIndexError: Error, LocalizedError, Equatable {
    /// A vector or query has the wrong length for this index.
    case dimensionMismatch(expected: Int, got: Int)
    /// A stored vector contains NaN or infinity.
    case nonFinite(id: Int64)
    /// The query contains NaN or infinity.
    case nonFiniteQuery
    /// The RowMask was built before the index last changed.
    case staleMask
    /// `searchInt8` was called without `enableQuantizedCopy()`.
    case noQuantizedCopy

    public var errorDescription: String? {
        switch self {
        case .dimensionMismatch(let e, let g): "vector has \(g) dimensions but the index holds \(e) — was it made by a different embedding model? Rebuild the index with one model"
        case .nonFinite(let id): "vector for id \(id) contains NaN or infinity — re-embed that item"
        case .nonFiniteQuery: "query vector contains NaN or infinity — re-embed the query"
        case .staleMask: "the allowed-rows mask was built before the index changed — rebuild the mask"
        case .noQuantizedCopy: "no int8 copy — call enableQuantizedCopy() before searchInt8"
        }
    }
}
