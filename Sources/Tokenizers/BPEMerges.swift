/// BPE merge table over token ids, and the merge loop llama.cpp runs on one word.
///
/// Merges are looked up by the pair of token ids (not strings), so merging a word is integer
/// work: a min-heap of candidate pairs ordered by (rank, position) applies the best-ranked,
/// leftmost pair first, as llama.cpp's `llm_tokenizer_bpe_session` does, in O(n log n).
struct BPEMerges: Sendable {
    /// (left << 32 | right) -> (rank << 32 | merged id).
    private var table: [UInt64: UInt64] = [:]

    var count: Int { table.count }

    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        // A later duplicate of a pair keeps the better (earlier) rank.
        if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
    }

    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        guard let v = table[key] else { return nil }
        return (UInt32(v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
    }

    /// Merges `ids` (one token per byte of the word, in place) and appends the result to `out`.
    func apply(_ ids: inout [Int32], into out: inout [Int32], scratch: inout Scratch) {
        let n = ids.count
        if n == 1 { out.append(ids[0]); return }
        scratch.reset(n)
        for i in 0..<(n - 1) { push(i, ids[i], ids[i + 1], &scratch.heap) }
        while let top = scratch.heap.popMin() {
            let pos = Int(UInt32(truncatingIfNeeded: top))
            let rank = UInt32(top >> 32)
            guard scratch.alive[pos] else { continue }
            let nxt = scratch.next[pos]
            guard nxt >= 0, let m = lookup(ids[pos], ids[nxt]), m.rank == rank else { continue }  // stale entry
            ids[pos] = m.merged
            scratch.alive[nxt] = false
            let after = scratch.next[nxt]
            scratch.next[pos] = after
            if after >= 0 { scratch.prev[after] = pos }
            let before = scratch.prev[pos]
            if before >= 0 { push(before, ids[before], ids[pos], &scratch.heap) }
            if after >= 0 { push(pos, ids[pos], ids[after], &scratch.heap) }
        }
        var i = 0
        while i >= 0 { out.append(ids[i]); i = scratch.next[i] }
    }

    @inline(__always)
    private func push(_ pos: Int, _ l: Int32, _ r: Int32, _ heap: inout MinHeap) {
        if let m = lookup(l, r) { heap.push(UInt64(m.rank) << 32 | UInt64(pos)) }
    }

    /// Buffers reused across words.
    struct Scratch {
        var prev: [Int] = [], next: [Int] = [], alive: [Bool] = []
        var heap = MinHeap()
        mutating func reset(_ n: Int) {
            prev.removeAll(keepingCapacity: true); next.removeAll(keepingCapacity: true)
            alive.removeAll(keepingCapacity: true); heap.items.removeAll(keepingCapacity: true)
            for i in 0..<n { prev.append(i - 1); next.append(i + 1 < n ? i + 1 : -1); alive.append(true) }
        }
    }
}

/// Binary min-heap of packed (rank, position) keys: lowest rank first, then leftmost.
struct MinHeap {
    var items: [UInt64] = []

    mutating func push(_ v: UInt64) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[p] > items[i] else { break }
            items.swapAt(p, i); i = p
        }
    }

    mutating func popMin() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && items[l] < items[m] { m = l }
            if r < n && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m); i = m
        }
        return top
    }
}
