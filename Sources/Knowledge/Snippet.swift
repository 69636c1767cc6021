import Foundation

/// Builds the short excerpt shown for a hit, with matched terms marked `[term]`.
///
/// Our own rather than FTS5's snippet(): the index is contentless and holds bigram-rewritten CJK,
/// so the excerpt is cut from the stored chunk text, matching terms case- and accent-insensitively
/// (as unicode61 with remove_diacritics 2 does) and whole words only for non-CJK terms.
/// Works on Unicode scalars (a cut never splits a UTF-8 sequence); ASCII and CJK take a fast path
/// because a search builds k snippets every time.
public enum Snippet {
    public static let open = "[", close = "]"

    public static func make(_ text: String, terms: [String], width: Int = 160) -> String {
        let scalars = Array(text.unicodeScalars)
        // Folded text as scalars, each remembering the source scalar it came from.
        var folded: [Unicode.Scalar] = [], owner: [Int32] = []
        folded.reserveCapacity(scalars.count); owner.reserveCapacity(scalars.count)
        for (i, s) in scalars.enumerated() {
            let v = s.value
            if v < 0x80 || TextScan.isCJK(v) {          // no allocation on the common path
                folded.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 32)) : s); owner.append(Int32(i))
            } else {
                for f in fold(s) { folded.append(f); owner.append(Int32(i)) }
            }
        }
        var marks = [Bool](repeating: false, count: scalars.count)
        for term in terms {
            let t = term.unicodeScalars.flatMap(fold)
            guard let head = t.first, t.count <= folded.count else { continue }
            let cjk = TextScan.isCJK(head.value)
            var i = 0
            while i + t.count <= folded.count {
                if folded[i] == head && folded[i..<(i + t.count)].elementsEqual(t) {
                    let before = i == 0 || !isWordNotCJK(folded[i - 1])
                    let after = i + t.count == folded.count || !isWordNotCJK(folded[i + t.count])
                    if cjk || (before && after) {
                        for k in i..<(i + t.count) { marks[Int(owner[k])] = true }
                    }
                    i += t.count
                } else { i += 1 }
            }
        }
        let first = marks.firstIndex(of: true) ?? 0
        var start = max(0, first - width / 4)
        let end = min(scalars.count, start + width)
        start = max(0, min(start, end - width))
        var out = String.UnicodeScalarView()
        if start > 0 { out.append("…") }
        var inMark = false
        for i in start..<end {
            if marks[i] != inMark { out.append(inMark ? "]" : "["); inMark = marks[i] }
            let s = scalars[i]
            out.append(s == "\n" || s == "\r" || s == "\t" ? " " : s)
        }
        if inMark { out.append("]") }
        if end < scalars.count { out.append("…") }
        return String(out)
    }

    @inline(__always)
    static func isWordNotCJK(_ s: Unicode.Scalar) -> Bool { TextScan.isWordScalar(s) && !TextScan.isCJK(s.value) }

    /// Lowercase without diacritics, like unicode61 remove_diacritics 2 (one scalar may give several).
    @inline(__always)
    static func fold(_ s: Unicode.Scalar) -> [Unicode.Scalar] {
        let v = s.value
        if v < 0x80 { return [v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : s] }
        if TextScan.isCJK(v) { return [s] }
        let f = String(s).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        return Array(f.unicodeScalars)
    }
}
