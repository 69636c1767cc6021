import Foundation

/// The text work of a report that needs no model: cleaning passages, picking key evidence
/// sentences, and removing repeats and generation loops.
public enum ReportText {
    /// A passage line as prose: Markdown bullets, heading marks and bold removed.
    static func plainLine(_ line: String) -> String {
        var l = line.trimmingCharacters(in: .whitespaces)
        while l.hasPrefix("#") { l.removeFirst() }
        for m in ["- ", "* ", "• ", "> "] where l.hasPrefix(m) { l = String(l.dropFirst(m.count)) }
        return l.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            .trimmingCharacters(in: .whitespaces)
    }

    /// Length of a sentence in "words": Han characters count one each, Latin words one each.
    static func weight(_ s: String) -> Int {
        TextAnalysis.pieces(s).reduce(0) { $0 + ($1.han ? $1.text.count : 1) }
    }

    /// A piece of model output that is not a sentence of prose: a heading or list label the
    /// model copied or wrote ("出口管制", "半导体行业风险提示", "Risks"), a table row or source
    /// header line, a lead-in cut at its colon or comma ("竞争优势在于："), or the prompt's
    /// "topic — section" line echoed back (`echo`).
    static func isFragment(_ body: String, echo: String) -> Bool {
        if body.hasPrefix("|") { return true }   // a Markdown table row copied from a source
        // A source header line echoed back ("[2] Knowledge/… › …").
        if body.contains("›") || body.contains(".md") { return true }
        let w = weight(body)
        let han = body.unicodeScalars.filter(TextAnalysis.isHan).count
        if w < 3 || (han * 2 >= w && w < 8) { return true }
        // A short Chinese line with no sentence end is a heading the model wrote ("半导体行业风险提示").
        if han * 2 >= w, w < 16, let last = body.last, !"。！？.!?”）)".contains(last) { return true }
        if let last = body.last, "：:，,、；;".contains(last) { return true }
        return !echo.isEmpty && body.contains(echo)
    }

    /// The sentences of `passages` that best carry `terms` (topic + section), at most `limit`,
    /// each with the 1-based index of its passage. Table rows, headings-only lines and fragments
    /// are skipped; sentences stating figures are preferred because they are what a reader
    /// of a research report looks for. Returned in passage order so the section reads in order.
    public static func keyEvidence(_ passages: [RetrievedPassage], terms: Set<String>, limit: Int) -> [(sentence: String, source: Int)] {
        guard limit > 0 else { return [] }
        var scored: [(sentence: String, source: Int, order: Int, score: Double)] = []
        var order = 0
        for (i, p) in passages.enumerated() {
            for raw in p.text.components(separatedBy: .newlines) {
                let t = raw.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("|") || t.hasPrefix("#") || t.hasPrefix("```") { continue }
                for s in TextAnalysis.sentences(plainLine(t)) {
                    let w = weight(s)
                    guard w >= 8, w <= 160, !s.hasSuffix(":"), !s.hasSuffix("：") else { continue }
                    let own = TextAnalysis.keyTerms(s)
                    let cover = terms.isEmpty ? 0 : Double(own.intersection(terms).count) / Double(min(terms.count, 6))
                    let figures = TextAnalysis.numbers(s).isEmpty ? 0.0 : 0.5
                    // A passage ranked first by retrieval lends its sentences a little weight.
                    let rank = 0.3 / Double(i + 1)
                    scored.append((s, i + 1, order, min(1, cover) + figures + rank))
                    order += 1
                }
            }
        }
        var seen = RepetitionFilter()
        let best = scored.sorted { $0.score != $1.score ? $0.score > $1.score : $0.order < $1.order }
            .filter { seen.admit($0.sentence) }
            .prefix(limit)
        return best.sorted { $0.order < $1.order }.map { ($0.sentence, $0.source) }
    }

    /// Puts citation marks before the sentence's final punctuation: "… in 2026 [1]." / "……亿美元 [1]。"
    static func attach(_ marks: String, to sentence: String) -> String {
        var body = sentence.trimmingCharacters(in: .whitespaces)
        guard !marks.isEmpty else { return body }
        var end = ""
        if let last = body.last, ".。！？!?；;".contains(last) { end = String(last); body.removeLast() }
        body = body.trimmingCharacters(in: .whitespaces)
        return body + (marks.hasPrefix("（") ? "" : " ") + marks + end
    }

    /// Text the model wrote until its token limit ends mid-sentence ("…也可能出现类似2024"): keep
    /// it up to the last sentence end (and the citation marks right after it).
    public static func dropUnfinished(_ text: String) -> String {
        let c = Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let last = c.lastIndex(where: { ".。!！?？".contains($0) }) else { return "" }
        var end = last + 1
        while end < c.count {   // " [3][4]" after the full stop belongs to that sentence
            var j = end
            while j < c.count, c[j] == " " { j += 1 }
            guard j < c.count, c[j] == "[", let close = c[j...].firstIndex(of: "]"),
                  close > j + 1, c[(j + 1)..<close].allSatisfy(\.isNumber) else { break }
            end = close + 1
        }
        return String(c[..<end])
    }

    /// The model's text ready for checking: an unfinished last sentence dropped when the token
    /// limit cut it, and cut where it loops (`cut`: a loop was found).
    static func draft(_ result: GenerationResult) -> (text: String, cut: Bool) {
        cutLoop(result.stopReason == .maxTokens ? dropUnfinished(result.text) : result.text)
    }

    /// Cuts a generation loop: where any run of 2–60 characters repeats three times in a row,
    /// the text stops after its first occurrence. Returns the text and whether it was cut.
    public static func cutLoop(_ text: String) -> (text: String, cut: Bool) {
        let c = Array(text)
        let n = c.count
        guard n >= 6 else { return (text, false) }
        for i in 0..<n {
            for w in 2...60 where i + 3 * w <= n {
                if c[i..<(i + w)] == c[(i + w)..<(i + 2 * w)], c[i..<(i + w)] == c[(i + 2 * w)..<(i + 3 * w)] {
                    // Whitespace-only runs ("   ") are layout, not a loop.
                    if c[i..<(i + w)].allSatisfy(\.isWhitespace) { continue }
                    // The repeated run may start inside a word ("stro|ng and growi|ng and…"): finish
                    // the Latin word so the cut text does not end in half a word.
                    var end = i + w
                    while end < n, c[end].isASCII, c[end].isLetter || c[end].isNumber, c[end - 1].isLetter || c[end - 1].isNumber { end += 1 }
                    return (String(c[..<end]).trimmingCharacters(in: .whitespaces), true)
                }
            }
        }
        return (text, false)
    }
}

/// Remembers the sentences already written in a report and rejects a new one that repeats any
/// of them: the same text once normalised (case, spacing, punctuation, citations), or, for
/// sentences of at least five key terms, 80% of their terms shared with an earlier sentence.
public struct RepetitionFilter: Sendable {
    private var keys = Set<String>()
    private var termSets: [Set<String>] = []
    public private(set) var rejected = 0
    public var threshold = 0.8

    public init() {}

    /// True (and remembered) when `sentence` is new; false when it repeats an earlier one.
    public mutating func admit(_ sentence: String) -> Bool {
        let plain = TextAnalysis.stripCitations(sentence)
        let key = TextAnalysis.normalized(plain)
        guard !key.isEmpty else { return true }
        if keys.contains(key) { rejected += 1; return false }
        let terms = TextAnalysis.keyTerms(plain)
        if terms.count >= 5 {
            for t in termSets {
                let shared = Double(terms.intersection(t).count)
                if shared / Double(min(terms.count, t.count)) >= threshold && t.count >= 5 { rejected += 1; return false }
            }
        }
        keys.insert(key)
        termSets.append(terms)
        return true
    }
}
