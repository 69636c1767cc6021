/// How FTS5 sees CJK text, and how a user's question becomes a safe `MATCH` expression.
///
/// FTS5's `unicode61` tokenizer keeps a run of Han characters as one token, so `退款` would never
/// match inside `申请退款需要几天`. The index therefore stores every CJK run rewritten as
/// overlapping bigrams plus the run's last character alone (`申请退款` → `申请 请退 退款 款`),
/// and queries are rewritten the same way. A one-character query `退` becomes the prefix query
/// `"退"*`: every occurrence of a character either starts a bigram or ends its run, so the prefix
/// finds them all. Non-CJK text passes through unchanged (unicode61, diacritics folded).
public enum CJKIndexing {
    /// The text to put in the index for `text`. Deterministic: deleting a row from the contentless
    /// index requires the very same value, so never change this without a migration that rebuilds it.
    public static func indexText(_ text: String) -> String {
        // Fast path: every CJK scalar is encoded with a lead byte >= 0xE3.
        guard text.utf8.contains(where: { $0 >= 0xE3 }) else { return text }
        var out = String.UnicodeScalarView()
        var run: [Unicode.Scalar] = []
        func flush() {
            guard !run.isEmpty else { return }
            out.append(" ")
            for i in 0..<(run.count - 1) {
                out.append(run[i]); out.append(run[i + 1]); out.append(" ")
            }
            out.append(run[run.count - 1]); out.append(" ")
            run.removeAll(keepingCapacity: true)
        }
        for s in text.unicodeScalars {
            if TextScan.isCJK(s.value) { run.append(s) } else { flush(); out.append(s) }
        }
        flush()
        return String(out)
    }
}

/// A user's query as terms, and its FTS5 `MATCH` expression. Users' text is never passed raw to
/// `MATCH`: quotes, `*`, `NEAR`, `-`, `AND/OR/NOT` and parentheses are just characters here. The
/// query is split the way unicode61 splits text (letters, marks and digits form words; everything
/// else separates), CJK runs become bigrams, and every term is emitted as a quoted string.
public struct KeywordQuery: Sendable, Equatable {
    /// How terms combine.
    public enum Combination: String, Sendable { case any, all }

    /// Words (lowercased) and CJK bigrams or single characters, deduplicated, in query order.
    public let terms: [String]

    /// Words dropped from a query that has other terms: they match nearly every chunk, which
    /// makes an OR query slow and adds nothing to the ranking.
    static let stopwords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "of", "to", "in", "on", "at", "for", "and",
        "or", "not", "with", "by", "from", "as", "it", "this", "that", "what", "which", "who", "how",
        "do", "does", "did", "can", "i", "you", "we", "my", "our", "your", "me", "there", "if", "about",
    ]
    /// More terms than this only slow the query down; the first ones are kept.
    public static let maxTerms = 32

    public init(_ text: String) {
        var words: [String] = []
        var word = String.UnicodeScalarView(), run: [Unicode.Scalar] = []
        func flushWord() { if !word.isEmpty { words.append(String(word).lowercased()); word = .init() } }
        func flushRun() {
            if run.count == 1 { words.append(String(run[0])) }
            for i in 0..<max(0, run.count - 1) { words.append(String(String.UnicodeScalarView([run[i], run[i + 1]]))) }
            run.removeAll()
        }
        for s in text.unicodeScalars {
            if TextScan.isCJK(s.value) { flushWord(); run.append(s) }
            else if TextScan.isWordScalar(s) { flushRun(); word.append(s) }
            else { flushWord(); flushRun() }
        }
        flushWord(); flushRun()
        var seen = Set<String>(), unique: [String] = []
        for w in words where seen.insert(w).inserted { unique.append(w) }
        let content = unique.filter { !Self.stopwords.contains($0) }
        terms = Array((content.isEmpty ? unique : content).prefix(Self.maxTerms))
    }

    /// The `MATCH` expression, or nil when the query has no searchable term (only punctuation…).
    public func matchExpression(_ combination: Combination) -> String? {
        guard !terms.isEmpty else { return nil }
        return terms.map(Self.quote).joined(separator: combination == .any ? " OR " : " AND ")
    }

    /// One term as an FTS5 string; a lone CJK character becomes a prefix query (see CJKIndexing).
    static func quote(_ term: String) -> String {
        let q = "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let scalars = term.unicodeScalars
        if scalars.count == 1, let s = scalars.first, TextScan.isCJK(s.value) { return q + "*" }
        return q
    }
}
