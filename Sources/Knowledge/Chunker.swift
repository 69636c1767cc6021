/// How big chunks are.
public struct ChunkingOptions: Sendable, Equatable {
    /// Target chunk size in estimated tokens (see `TextScan` for the estimate).
    public var targetTokens: Int
    /// Tokens of the previous chunk's tail repeated at the start of the next one (whole sentences).
    public var overlapTokens: Int

    /// ~300 tokens with ~15% overlap: small enough for a 512-token encoder, big enough to answer from.
    public static let `default` = ChunkingOptions(targetTokens: 300, overlapTokens: 45)

    public init(targetTokens: Int, overlapTokens: Int) {
        self.targetTokens = max(8, targetTokens)
        self.overlapTokens = max(0, min(overlapTokens, self.targetTokens / 2))
    }
}

/// A chunk as byte offsets into the text given to the chunker.
struct RawChunk: Equatable {
    var start: Int
    var end: Int
    var headingPath: [String]
    var tokens: Int
}

/// Splits text into chunks that respect its structure: Markdown headings start new sections (and
/// form the heading path), sections split on blank-line paragraphs, paragraphs on sentence ends
/// (English `.!?;` before a space, Chinese `。！？；…`), and only a sentence longer than the target
/// is cut, at a space or between two characters — never inside a UTF-8 sequence.
///
/// A chunk's text is exactly the source bytes `start..<end` (leading and trailing whitespace
/// trimmed); the heading line itself is not part of the chunk text, it is in `headingPath`.
enum Chunker {
    /// One sentence-or-smaller span with its size in tenths of a token.
    struct Piece { var start: Int; var end: Int; var tenths: Int }

    static func chunk(_ b: UnsafeBufferPointer<UInt8>, markdown: Bool, options: ChunkingOptions,
                      carriedHeadings: [String] = []) -> [RawChunk] {
        var out: [RawChunk] = []
        for section in sections(b, markdown: markdown, initial: carriedHeadings) {
            var pieces: [Piece] = []
            for para in paragraphs(b, section.start, section.end) {
                for s in sentences(b, para.0, para.1) {
                    pieces.append(contentsOf: hardSplit(b, s, limitTenths: options.targetTokens * 10))
                }
            }
            pack(pieces, options: options) { first, last, tenths in
                out.append(RawChunk(start: pieces[first].start, end: pieces[last].end,
                                    headingPath: section.headings, tokens: (tenths + 9) / 10))
            }
        }
        return out
    }

    /// Greedy packing up to the target; the next chunk restarts at the last whole pieces that fit
    /// in the overlap budget (always moving forward by at least one piece).
    static func pack(_ pieces: [Piece], options: ChunkingOptions, emit: (Int, Int, Int) -> Void) {
        let target = options.targetTokens * 10, overlap = options.overlapTokens * 10
        var i = 0
        while i < pieces.count {
            var j = i, total = 0
            while j < pieces.count && (j == i || total + pieces[j].tenths <= target) {
                total += pieces[j].tenths; j += 1
            }
            emit(i, j - 1, total)
            if j == pieces.count { break }
            var k = j, carried = 0
            while k - 1 > i && carried + pieces[k - 1].tenths <= overlap {
                carried += pieces[k - 1].tenths; k -= 1
            }
            i = k
        }
    }

    // MARK: Sections

    struct Section { var start: Int; var end: Int; var headings: [String] }

    /// Splits at ATX headings (`#`…`######`) outside fenced code blocks. `initial` is the heading
    /// stack in force before the text starts (one entry per level, "" for a level not set).
    static func sections(_ b: UnsafeBufferPointer<UInt8>, markdown: Bool, initial: [String] = []) -> [Section] {
        sectionsAndStack(b, markdown: markdown, initial: initial).sections
    }

    /// The heading stack in force at the end of `b` (per level, "" for a level not set), to carry
    /// into the next page of a paged document.
    static func headingStack(after b: UnsafeBufferPointer<UInt8>, initial: [String]) -> [String] {
        sectionsAndStack(b, markdown: true, initial: initial).stack
    }

    static func sectionsAndStack(_ b: UnsafeBufferPointer<UInt8>, markdown: Bool, initial: [String]) -> (sections: [Section], stack: [String]) {
        guard markdown else { return ([Section(start: 0, end: b.count, headings: initial.filter { !$0.isEmpty })], initial) }
        var result: [Section] = []
        var stack: [String] = initial
        var sectionStart = 0
        var fence: UInt8? = nil
        var lineStart = 0
        while lineStart < b.count {
            var lineEnd = lineStart
            while lineEnd < b.count && b[lineEnd] != 0x0A { lineEnd += 1 }
            var p = lineStart, indent = 0
            while p < lineEnd && b[p] == 0x20 && indent < 4 { p += 1; indent += 1 }
            if indent < 4, p + 2 < lineEnd, (b[p] == 0x60 || b[p] == 0x7E), b[p + 1] == b[p], b[p + 2] == b[p] {
                if fence == nil { fence = b[p] } else if fence == b[p] { fence = nil }
            } else if fence == nil, indent < 4, let (level, title) = atxHeading(b, p, lineEnd) {
                if lineStart > sectionStart { result.append(Section(start: sectionStart, end: lineStart, headings: stack)) }
                if stack.count >= level { stack.removeSubrange((level - 1)...) }
                while stack.count < level - 1 { stack.append("") }
                stack.append(title)
                sectionStart = min(lineEnd + 1, b.count)
            }
            lineStart = lineEnd + 1
        }
        if sectionStart < b.count { result.append(Section(start: sectionStart, end: b.count, headings: stack)) }
        return (result.map { s in var s = s; s.headings = s.headings.filter { !$0.isEmpty }; return s }, stack)
    }

    static func atxHeading(_ b: UnsafeBufferPointer<UInt8>, _ p: Int, _ end: Int) -> (Int, String)? {
        var q = p
        while q < end && b[q] == 0x23 { q += 1 }
        let level = q - p
        guard level >= 1, level <= 6, q == end || b[q] == 0x20 || b[q] == 0x09 else { return nil }
        var e = end
        while e > q && isSpace(b[e - 1]) { e -= 1 }
        while e > q && b[e - 1] == 0x23 { e -= 1 }        // closing #s
        while e > q && isSpace(b[e - 1]) { e -= 1 }
        while q < e && isSpace(b[q]) { q += 1 }
        return (level, String(decoding: UnsafeBufferPointer(rebasing: b[q..<e]), as: UTF8.self))
    }

    // MARK: Paragraphs and sentences

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    /// Runs of non-blank lines, trimmed.
    static func paragraphs(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [(Int, Int)] {
        var result: [(Int, Int)] = []
        var paraStart: Int? = nil, paraEnd = start
        var lineStart = start
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end && b[lineEnd] != 0x0A { lineEnd += 1 }
            var p = lineStart
            while p < lineEnd && isSpace(b[p]) { p += 1 }
            if p == lineEnd {
                if let s = paraStart { result.append((s, paraEnd)); paraStart = nil }
            } else {
                if paraStart == nil { paraStart = p }
                var e = lineEnd
                while e > p && isSpace(b[e - 1]) { e -= 1 }
                paraEnd = e
            }
            lineStart = lineEnd + 1
        }
        if let s = paraStart { result.append((s, paraEnd)) }
        return result
    }

    /// Sentence spans of a paragraph, each trimmed, with token sizes. A sentence ends after
    /// `.!?;` followed by whitespace (not after a one-letter initial such as "J."), after any of
    /// `。！？；…` (plus closing quotes/brackets), and before a line that starts a list item.
    static func sentences(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [Piece] {
        var result: [Piece] = []
        var s = start
        func close(_ e: Int) {
            var a = s, z = e
            while a < z && isSpace(b[a]) { a += 1 }
            while z > a && isSpace(b[z - 1]) { z -= 1 }
            if z > a { result.append(Piece(start: a, end: z, tenths: TextScan.tokenTenths(b, a, z))) }
            s = e
        }
        var i = start
        while i < end {
            let (v, n) = TextScan.decode(b, i)
            var cut: Int? = nil
            switch v {
            case 0x2E, 0x21, 0x3F, 0x3B:                 // . ! ? ;
                var j = i + 1
                while j < end && (b[j] == 0x22 || b[j] == 0x27 || b[j] == 0x29 || b[j] == 0x5D) { j += 1 }
                if j == end || isSpace(b[j]) {
                    let initial = v == 0x2E && i >= start + 1 && isUpperASCII(b[i - 1]) && (i == start + 1 || !isAlnumASCII(b[i - 2]))
                    if !initial { cut = j }
                }
            case 0x3002, 0xFF01, 0xFF1F, 0xFF1B, 0x2026, 0xFF0E:   // 。！？；…．
                var j = i + n
                while j < end {
                    let (w, m) = TextScan.decode(b, j)
                    guard w == 0x2026 || w == 0x201D || w == 0x2019 || w == 0x300D || w == 0x300F
                            || w == 0xFF09 || w == 0x3002 || w == 0xFF01 || w == 0xFF1F else { break }
                    j += m
                }
                cut = j
            case 0x0A:
                var j = i + 1
                while j < end && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                if startsListItem(b, j, end) { cut = i }
            default:
                break
            }
            if let c = cut {
                if c > s { close(c) }
                i = max(c, i + n)
            } else {
                i += n
            }
        }
        if s < end { close(end) }
        return result
    }

    @inline(__always) static func isUpperASCII(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    @inline(__always) static func isAlnumASCII(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    static func startsListItem(_ b: UnsafeBufferPointer<UInt8>, _ p: Int, _ end: Int) -> Bool {
        guard p < end else { return false }
        if (b[p] == 0x2D || b[p] == 0x2A || b[p] == 0x2B) && p + 1 < end && b[p + 1] == 0x20 { return true }
        if b[p] == 0x7C { return true }                       // table row
        var q = p
        while q < end && b[q] >= 0x30 && b[q] <= 0x39 { q += 1 }
        return q > p && q + 1 < end && (b[q] == 0x2E || b[q] == 0x29) && b[q + 1] == 0x20
    }

    /// Cuts a piece longer than `limitTenths` at the last space before the limit, or between two
    /// characters when there is none (CJK text), so every piece fits the target.
    static func hardSplit(_ b: UnsafeBufferPointer<UInt8>, _ piece: Piece, limitTenths: Int) -> [Piece] {
        guard piece.tenths > limitTenths else { return [piece] }
        var result: [Piece] = []
        var s = piece.start
        while s < piece.end {
            var i = s, lastSpace = -1, tenths = 0, inWord = false
            var cut = piece.end
            while i < piece.end {
                let (v, n) = TextScan.decode(b, i)
                var add = 0
                if TextScan.isCJK(v) || TextScan.isCJKPunctuation(v) { add = 10; inWord = false } else {
                    let word = v < 0x80 ? isAlnumASCII(UInt8(v)) : (Unicode.Scalar(v).map(TextScan.isWordScalar) ?? false)
                    if word && !inWord { add = 13 }
                    inWord = word
                }
                if tenths + add > limitTenths && i > s {
                    cut = lastSpace > s ? lastSpace : i
                    break
                }
                tenths += add
                if v == 0x20 || v == 0x0A || v == 0x09 { lastSpace = i }
                i += n
            }
            var a = s, z = cut
            while a < z && isSpace(b[a]) { a += 1 }
            while z > a && isSpace(b[z - 1]) { z -= 1 }
            if z > a { result.append(Piece(start: a, end: z, tenths: TextScan.tokenTenths(b, a, z))) }
            s = cut
        }
        return result
    }
}
