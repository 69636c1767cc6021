/// Turns generated token ids into text as they arrive, never emitting half a UTF-8 character.
///
/// A byte-level token may end in the middle of a multi-byte character (a Chinese character or
/// an emoji is often split over two or three tokens). The trailing incomplete sequence is held
/// back until the token that completes it arrives; bytes that can never become valid UTF-8 are
/// emitted as U+FFFD rather than held forever.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: BPETokenizer
    public let renderSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: BPETokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
        pending.reserveCapacity(16)
    }

    /// The text that became complete with `id` (often empty while a character is incomplete).
    public mutating func push(_ id: Int32) -> String {
        pending.append(contentsOf: tokenizer.piece(id, renderSpecial: renderSpecial))
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is still held back (an incomplete character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll(keepingCapacity: true) }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Ends a generation: the bytes still held back are the start of a character the model never
    /// finished (it stopped at max tokens mid-character), so they are dropped, not shown as U+FFFD.
    public mutating func finish() -> String {
        pending.removeAll(keepingCapacity: true)
        return ""
    }

    /// Bytes held back waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    /// Length of the longest prefix that does not end inside a character that may still complete.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        // Look back at most 3 bytes for the lead byte of the last character.
        var i = n - 1
        var continuation = 0
        while i >= 0 && n - i <= 4 {
            let byte = b[i]
            if byte & 0xC0 == 0x80 { continuation += 1; i -= 1; continue }
            let need: Int
            switch byte {
            case 0xC2...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF4: need = 4
            default: return n  // ASCII or a byte that can never start a character: nothing to wait for
            }
            return continuation + 1 < need ? i : n
        }
        return n
    }
}
