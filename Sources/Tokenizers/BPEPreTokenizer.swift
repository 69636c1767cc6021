/// Splits text into words before BPE, reproducing the regexes llama.cpp uses per
/// `tokenizer.ggml.pre` with hand-written matchers over Unicode scalars.
///
/// The matchers follow llama.cpp's own (`unicode_regex_split_custom_*`), including where a
/// word may end: the lookahead in `\s+(?!\S)` stops at the end of the current segment, so
/// splits made by an earlier stage (SmolLM's digits, special tokens) change later ones.
public enum BPEPreTokenizer: String, Sendable, CaseIterable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `\p{N}` first (every digit its own word), then the GPT-2 pattern on what is between.
    case smollm
    /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` (single digits).
    case qwen2
    /// As qwen2 with `\p{N}{1,3}` (digits in groups of up to three).
    case llama3

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value; nil when not supported.
    /// A missing value means GPT-2's, as in llama.cpp.
    public init?(ggmlName: String?) {
        switch ggmlName {
        case nil, "default", "gpt2", "gpt-2": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell": self = .smollm
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        case "llama3", "llama-bpe", "llama-v3": self = .llama3
        default: return nil
        }
    }

    /// Word boundaries of `scalars[range]`: the end index (exclusive) of every word, in order.
    func split(_ text: ScalarText, _ range: Range<Int>, into ends: inout [Int]) {
        switch self {
        case .gpt2:
            Self.gpt2(text, range, &ends)
        case .smollm:
            // Stage 1: each number scalar is a segment; so is each run between them.
            var start = range.lowerBound
            for i in range where text.flags[i] & ScalarText.number != 0 {
                if start < i { Self.gpt2(text, start..<i, &ends) }
                ends.append(i + 1)
                start = i + 1
            }
            if start < range.upperBound { Self.gpt2(text, start..<range.upperBound, &ends) }
        case .qwen2:
            Self.llama3Family(text, range, maxDigits: 1, &ends)
        case .llama3:
            Self.llama3Family(text, range, maxDigits: 3, &ends)
        }
    }

    private static func gpt2(_ text: ScalarText, _ range: Range<Int>, _ ends: inout [Int]) {
        let hi = range.upperBound
        let c = text.scalars, f = text.flags
        @inline(__always) func flags(_ p: Int) -> UInt8 { p < hi ? f[p] : 0 }
        var pos = range.lowerBound
        while pos < hi {
            let cpt = c[pos]
            if let n = contraction(c, pos, hi, caseInsensitive: false) {
                pos += n; ends.append(pos); continue
            }
            let f2 = cpt == 0x20 ? flags(pos + 1) : f[pos]
            let skip = cpt == 0x20 ? 1 : 0
            if f2 & ScalarText.letter != 0 {
                pos += skip
                while flags(pos) & ScalarText.letter != 0 { pos += 1 }
                ends.append(pos); continue
            }
            if f2 & ScalarText.number != 0 {
                pos += skip
                while flags(pos) & ScalarText.number != 0 { pos += 1 }
                ends.append(pos); continue
            }
            if ScalarText.isOther(f2) {
                pos += skip
                while ScalarText.isOther(flags(pos)) { pos += 1 }
                ends.append(pos); continue
            }
            pos = whitespace(text, pos, hi, splitAtNewlines: false)
            ends.append(pos)
        }
    }

    private static func llama3Family(_ text: ScalarText, _ range: Range<Int>, maxDigits: Int, _ ends: inout [Int]) {
        let hi = range.upperBound
        let c = text.scalars, f = text.flags
        @inline(__always) func flags(_ p: Int) -> UInt8 { p < hi ? f[p] : 0 }
        var pos = range.lowerBound
        while pos < hi {
            let cpt = c[pos], fl = f[pos]
            if let n = contraction(c, pos, hi, caseInsensitive: true) {
                pos += n; ends.append(pos); continue
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(cpt == 0x0D || cpt == 0x0A || fl & ScalarText.number != 0),
               fl & ScalarText.letter != 0 || flags(pos + 1) & ScalarText.letter != 0 {
                pos += 1
                while flags(pos) & ScalarText.letter != 0 { pos += 1 }
                ends.append(pos); continue
            }
            // \p{N}{1,maxDigits}
            if fl & ScalarText.number != 0 {
                var run = 0
                while flags(pos) & ScalarText.number != 0 {
                    pos += 1; run += 1
                    if run == maxDigits { ends.append(pos); run = 0 }
                }
                if run > 0 { ends.append(pos) }
                continue
            }
            // ' '?[^\s\p{L}\p{N}]+[\r\n]*
            let f2 = cpt == 0x20 ? flags(pos + 1) : fl
            if f2 & (ScalarText.whitespace | ScalarText.letter | ScalarText.number) == 0 {
                if cpt == 0x20 { pos += 1 }
                while ScalarText.isOther(flags(pos)) { pos += 1 }
                while pos < hi, c[pos] == 0x0D || c[pos] == 0x0A { pos += 1 }
                ends.append(pos); continue
            }
            pos = whitespace(text, pos, hi, splitAtNewlines: true)
            ends.append(pos)
        }
    }

    /// Length of a contraction ('s 't 'm 'd 're 've 'll) at `pos`, or nil.
    @inline(__always)
    private static func contraction(_ c: [UInt32], _ pos: Int, _ hi: Int, caseInsensitive: Bool) -> Int? {
        guard c[pos] == 0x27, pos + 1 < hi else { return nil }
        @inline(__always) func lower(_ v: UInt32) -> UInt32 {
            caseInsensitive && v >= 0x41 && v <= 0x5A ? v + 0x20 : v
        }
        let a = lower(c[pos + 1])
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return 2 }  // s t m d
        guard pos + 2 < hi else { return nil }
        let b = lower(c[pos + 2])
        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }  // re ve ll
        return nil
    }

    /// The end of the whitespace word starting at `pos`: `\s*[\r\n]+` (when asked), then
    /// `\s+(?!\S)`, then `\s+`; a lone non-matching scalar is a word of its own.
    @inline(__always)
    private static func whitespace(_ text: ScalarText, _ pos: Int, _ hi: Int, splitAtNewlines: Bool) -> Int {
        var n = 0
        var lastNewlineEnd = 0
        while pos + n < hi, text.flags[pos + n] & ScalarText.whitespace != 0 {
            let v = text.scalars[pos + n]
            if v == 0x0D || v == 0x0A { lastNewlineEnd = pos + n + 1 }
            n += 1
        }
        if splitAtNewlines && lastNewlineEnd > 0 { return lastNewlineEnd }
        if n > 1 && pos + n < hi { return pos + n - 1 }
        if n > 0 { return pos + n }
        return pos + 1
    }
}

/// Text as Unicode scalars with their character classes and UTF-8 offsets, computed once.
struct ScalarText {
    static let letter: UInt8 = 1, number: UInt8 = 2, whitespace: UInt8 = 4, inRange: UInt8 = 8

    var scalars: [UInt32] = []
    var flags: [UInt8] = []
    /// UTF-8 offset of each scalar, plus one entry for the end.
    var byteOffsets: [Int] = []

    /// Not a letter, number or whitespace, but a scalar of the current segment.
    @inline(__always) static func isOther(_ f: UInt8) -> Bool {
        f & (letter | number | whitespace) == 0 && f != 0
    }

    private static let asciiFlags: [UInt8] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    static func classify(_ s: Unicode.Scalar) -> UInt8 {
        let p = s.properties
        var f = inRange
        if p.isWhitespace { f |= whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: f |= letter
        case .decimalNumber, .letterNumber, .otherNumber: f |= number
        default: break
        }
        return f
    }

    /// Fills the arrays for `bytes[range]` (valid UTF-8).
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scalars.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        byteOffsets.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        while i < range.upperBound {
            let b0 = UInt32(bytes[i])
            var v: UInt32, n: Int
            if b0 < 0x80 { v = b0; n = 1 }
            else if b0 < 0xE0 { v = b0 & 0x1F; n = 2 }
            else if b0 < 0xF0 { v = b0 & 0x0F; n = 3 }
            else { v = b0 & 0x07; n = 4 }
            for k in 1..<n { v = (v << 6) | (UInt32(bytes[i + k]) & 0x3F) }
            scalars.append(v)
            flags.append(v < 128 ? Self.asciiFlags[Int(v)] : Self.classify(Unicode.Scalar(v)!))
            byteOffsets.append(i)
            i += n
        }
        byteOffsets.append(range.upperBound)
    }
}
