import Foundation

/// Builds the short excerpt shown for a hit, with matched terms marked `[term]`.
///
/// Our own rather than FTS5's snippet(): the index is contentless and holds bigram-rewritten CJK,
/// so the excerpt is cut from the stored chunk text, matching terms case- and accent-insensitively
/// (as unicode61 with remove_diacritics 2 does) and whole words only for non-CJK terms.
public enum Snippet {
    public static let open = "[", close = "]"

    public static func make(_ text: String, terms: [String], width: Int = 160) -> String {
        let chars = Array(text)
        // Folded text as scalars, each remembering the Character it came from.
        var folded: [Unicode.Scalar] = [], owner: [Int] = []
        folded.reserveCapacity(chars.count)
        for (i, c) in chars.enumerated() {
            let f = c.isASCII ? String(c).lowercased() : String(c).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            for s in f.unicodeScalars { folded.append(s); owner.append(i) }
        }
        var marks = [Bool](repeating: false, count: chars.count)
        for term in terms {
            let t = Array(term.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).unicodeScalars)
            guard !t.isEmpty, t.count <= folded.count else { continue }
            let cjk = TextScan.isCJK(t[0].value)
            var i = 0
            while i + t.count <= folded.count {
                if folded[i] == t[0] && Array(folded[i..<(i + t.count)]) == t {
                    let before = i == 0 || !TextScan.isWordScalar(folded[i - 1]) || TextScan.isCJK(folded[i - 1].value)
                    let after = i + t.count == folded.count || !TextScan.isWordScalar(folded[i + t.count])
                        || TextScan.isCJK(folded[i + t.count].value)
                    if cjk || (before && after) {
                        for k in i..<(i + t.count) { marks[owner[k]] = true }
                    }
                    i += t.count
                } else { i += 1 }
            }
        }
        let first = marks.firstIndex(of: true) ?? 0
        var start = max(0, first - width / 4)
        let end = min(chars.count, start + width)
        start = max(0, min(start, end - width))
        var out = start > 0 ? "…" : ""
        var inMark = false
        for i in start..<end {
            let c = chars[i] == "\n" ? " " : chars[i]
            if marks[i] && !inMark { out += open; inMark = true }
            if !marks[i] && inMark { out += close; inMark = false }
            out.append(c)
        }
        if inMark { out += close }
        if end < chars.count { out += "…" }
        return out
    }
}
