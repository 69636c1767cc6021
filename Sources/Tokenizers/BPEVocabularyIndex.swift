/// Token spelling -> id, hashed on raw UTF-8 bytes.
///
/// A `[String: Int32]` costs ~1.5 µs per non-ASCII key on this machine (String hashing
/// normalises Unicode), which made building Qwen's 151k-token vocabulary and 151k merges take
/// most of a second; it would also treat canonically equivalent spellings as one token. Bytes
/// in one buffer with an open-addressing table are exact and ~20x faster.
struct BPEVocabularyIndex: Sendable {
    private var bytes: [UInt8] = []
    private var starts: [Int] = []   // token i is bytes[starts[i]..<starts[i + 1]]
    private var slots: [Int32]       // token id or -1; size a power of two, at most half full
    private let mask: Int

    init(_ tokens: [String]) {
        var size = 16
        while size < tokens.count * 2 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        starts.reserveCapacity(tokens.count + 1)
        for t in tokens { starts.append(bytes.count); bytes.append(contentsOf: t.utf8) }
        starts.append(bytes.count)
        bytes.withUnsafeBufferPointer { all in
            for id in 0..<tokens.count {
                let key = UnsafeBufferPointer(rebasing: all[starts[id]..<starts[id + 1]])
                var slot = Self.hash(key) & mask
                while true {
                    let existing = slots[slot]
                    if existing < 0 { slots[slot] = Int32(id); break }
                    if equal(Int(existing), key, all) { break }  // duplicate spelling: the first id wins
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private func equal(_ id: Int, _ key: UnsafeBufferPointer<UInt8>, _ all: UnsafeBufferPointer<UInt8>) -> Bool {
        let s = starts[id], n = starts[id + 1] - s
        guard n == key.count else { return false }
        for i in 0..<n where all[s + i] != key[i] { return false }
        return true
    }

    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        bytes.withUnsafeBufferPointer { all in
            var slot = Self.hash(key) & mask
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                if equal(Int(id), key, all) { return id }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ text: String) -> Int32? {
        var t = text
        return t.withUTF8 { lookup($0) }
    }
}
