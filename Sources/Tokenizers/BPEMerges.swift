/// BPE merge table over token ids, and the merge loop llama.cpp runs on one word.
///
/// Merges are looked up by the pair of token ids (not strings), so merging a word is integer
/// work: a min-heap of candidate pairs ordered by (rank, position) applies the best-ranked,
/// leftmost pair first, as llama.cpp's `llm_tokenizer_bpe_session` does, in O(n log n).
struct BPEMerges: Sendable {
    // Open addressing on (left << 32 | right): SipHash in Dictionary cost more than the merging
    // itself, and this lookup runs once per adjacent pair of every word.
    private var keys: [UInt64]
    private var values: [UInt64]  // rank << 32 | merged id
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int = 0) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = Array(repeating: Self.empty, count: size)
        values = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ l: Int32, _ r: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
    }

    @inline(__always)
    private func slot(_ k: UInt64) -> Int {
        Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The table for GGUF merge lines ("left right", best first) over `index`'s vocabulary.
    init(lines: [String], index: BPEVocabularyIndex) throws {
        self.init(capacity: lines.count)
        var joined: [UInt8] = []
        for (rank, line) in lines.enumerated() {
            var line = line
            let ok: Bool = line.withUTF8 { u in
                // The separator is the first space after the first character (a token may start with one).
                guard u.count >= 3, let sep = u[1...].firstIndex(of: 0x20), sep + 1 < u.count else { return false }
                let left = UnsafeBufferPointer(rebasing: u[..<sep]), right = UnsafeBufferPointer(rebasing: u[(sep + 1)...])
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left); joined.append(contentsOf: right)
                // Merges whose parts or result are not tokens can never appear in llama.cpp's output either.
                guard let l = index.lookup(left), let r = index.lookup(right),
                      let m = joined.withUnsafeBufferPointer({ index.lookup($0) }) else { return true }
                add(left: l, right: r, merged: m, rank: rank)
                return true
            }
            guard ok else { throw TokenizerError.invalidMerge(index: rank, line: line) }
        }
    }

    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int) {
        if (count + 1) * 2 > keys.count { grow() }
        let k = Self.key(left, right)
        var i = slot(k)
        while keys[i] != Self.empty {
            if keys[i] == k { return }  // a later duplicate of a pair keeps the better (earlier) rank
            i = (i + 1) & mask
        }
        keys[i] = k
        values[i] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = Array(repeating: Self.empty, count: oldKeys.count * 2)
        values = Array(repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (i, k) in oldKeys.enumerated() where k != Self.empty {
            var j = slot(k)
            while keys[j] != Self.empty { j = (j + 1) & mask }
            keys[j] = k; values[j] = oldValues[i]
        }
    }

    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        let k = Self.key(left, right)
        var i = slot(k)
        while true {
            let found = keys[i]
            if found == k {
                let v = values[i]
                return (UInt32(v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
            }
            if found == Self.empty { return nil }
            i = (i + 1) & mask
        }
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
