/// One result of a vector search: the caller's id and the inner product with the query.
public struct VectorHit: Sendable, Equatable, Hashable {
    public var id: Int64
    public var score: Float
    public init(id: Int64, score: Float) { self.id = id; self.score = score }
}

/// Keeps the k best (score, row) pairs seen so far in a size-k min-heap: O(n log k) for n
/// offers, and O(1) for the common case of a score below the current k-th best.
///
/// Order: a higher score is better; equal scores are broken by the smaller `key` (the caller's
/// id), so results are deterministic and match a full sort by (score desc, id asc).
public struct TopK {
    public let k: Int
    private(set) var scores: [Float] = []
    private(set) var rows: [Int32] = []
    private(set) var keys: [Int64] = []

    public init(k: Int) {
        self.k = max(0, k)
        scores.reserveCapacity(self.k); rows.reserveCapacity(self.k); keys.reserveCapacity(self.k)
    }

    /// True once k entries are kept (from then on, a rejected entry was below `threshold`).
    public var isFull: Bool { scores.count >= k }

    /// The score a new entry must beat (or tie with a smaller key) to enter, -inf until full.
    @inline(__always) public var threshold: Float { scores.count < k ? -.infinity : scores[0] }

    @inline(__always) private func worse(_ i: Int, _ j: Int) -> Bool {
        scores[i] < scores[j] || (scores[i] == scores[j] && keys[i] > keys[j])
    }

    /// Offers one entry; `key` breaks ties (smaller wins).
    @inline(__always)
    public mutating func offer(score: Float, row: Int32, key: Int64) {
        if scores.count < k {
            scores.append(score); rows.append(row); keys.append(key)
            var c = scores.count - 1
            while c > 0 {
                let p = (c - 1) / 2
                guard worse(c, p) else { break }
                scores.swapAt(c, p); rows.swapAt(c, p); keys.swapAt(c, p); c = p
            }
            return
        }
        guard k > 0, score > scores[0] || (score == scores[0] && key < keys[0]) else { return }
        scores[0] = score; rows[0] = row; keys[0] = key
        var p = 0
        let n = scores.count
        while true {
            let l = 2 * p + 1, r = l + 1
            var m = p
            if l < n && worse(l, m) { m = l }
            if r < n && worse(r, m) { m = r }
            if m == p { break }
            scores.swapAt(m, p); rows.swapAt(m, p); keys.swapAt(m, p); p = m
        }
    }

    /// The kept entries as (row, score, key), best first.
    public func sorted() -> [(row: Int32, score: Float, key: Int64)] {
        scores.indices.map { (rows[$0], scores[$0], keys[$0]) }
            .sorted { $0.score > $1.score || ($0.score == $1.score && $0.key < $1.key) }
    }
}
