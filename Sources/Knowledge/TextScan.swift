/// Character classes and the token estimate shared by the chunker, the index and the query builder.
///
/// Token estimate (documented contract, used for chunk sizes and prompt budgets): ~1 token per CJK
/// character (Han, kana, Hangul, full-width punctuation) and ~1.3 tokens per word of any other
/// script (a word is a run of letters/digits). Punctuation and spaces between words count nothing.
/// This matches BPE tokenizers of the Qwen/Llama family within ~20% on mixed prose.
public enum TextScan {
    /// True for scripts written without spaces that the index splits into bigrams.
    @inline(__always)
    public static func isCJK(_ v: UInt32) -> Bool {
        (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0x3400 && v <= 0x4DBF) || (v >= 0x3040 && v <= 0x30FF)
            || (v >= 0xAC00 && v <= 0xD7AF) || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0x20000 && v <= 0x2FFFF)
    }

    /// Full-width and CJK punctuation: one token each in the estimate, a separator in the index.
    @inline(__always)
    static func isCJKPunctuation(_ v: UInt32) -> Bool {
        (v >= 0x3000 && v <= 0x303F) || (v >= 0xFF00 && v <= 0xFFEF)
    }

    /// Letters, marks and digits of any script: what FTS5's unicode61 keeps inside a token.
    @inline(__always)
    public static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark,
             .privateUse:
            return true
        default:
            return false
        }
    }

    /// Decodes the scalar starting at `i` of valid UTF-8; returns the value and its byte length.
    @inline(__always)
    static func decode(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let c0 = UInt32(b[i])
        if c0 < 0x80 { return (c0, 1) }
        if c0 < 0xE0 { return ((c0 & 0x1F) << 6 | UInt32(b[i + 1]) & 0x3F, 2) }
        if c0 < 0xF0 { return ((c0 & 0x0F) << 12 | (UInt32(b[i + 1]) & 0x3F) << 6 | UInt32(b[i + 2]) & 0x3F, 3) }
        return ((c0 & 0x07) << 18 | (UInt32(b[i + 1]) & 0x3F) << 12 | (UInt32(b[i + 2]) & 0x3F) << 6
                | UInt32(b[i + 3]) & 0x3F, 4)
    }

    /// The token estimate of `b[start..<end]` in tenths of a token (so sums do not drift).
    static func tokenTenths(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var tenths = 0
        var inWord = false
        var i = start
        while i < end {
            let (v, n) = decode(b, i)
            i += n
            if v < 0x80 {
                let word = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                if word && !inWord { tenths += 13 }
                inWord = word
            } else if isCJK(v) || isCJKPunctuation(v) {
                tenths += 10
                inWord = false
            } else {
                let word = Unicode.Scalar(v).map(isWordScalar) ?? false
                if word && !inWord { tenths += 13 }
                inWord = word
            }
        }
        return tenths
    }

    /// The token estimate of `text` (see the type's documentation for the rule).
    public static func estimateTokens(_ text: String) -> Int {
        var copy = text
        return copy.withUTF8 { (tokenTenths($0, 0, $0.count) + 9) / 10 }
    }

    /// True when `b[i]` is a UTF-8 continuation byte (never a place to cut).
    @inline(__always)
    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
