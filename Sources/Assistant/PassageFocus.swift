import Foundation
import Knowledge

/// What the model reads of a long passage: the sentences, list items and table rows that bear
/// on the question, in document order, within a token budget.
///
/// A retrieved chunk is ~300 tokens, and the answer to a customer's question is usually one
/// sentence or one row of it. Reading four whole chunks costs Qwen2.5-1.5B ~12 s of prompt on
/// two cores, and the rest is where a small model finds the neighbouring number it copies by
/// mistake ("50,000", the SMS-code limit, for the face-verification one). So each passage is cut
/// down to its best units. A unit scores by the question's key terms it holds and, with an
/// encoder, by its cosine to the question (paraphrases share no words); a unit right after a
/// good one inherits part of its score, because a heading or an FAQ question is followed by its
/// answer. A table row kept brings its table's header line, so its columns keep their names.
/// Records (a CSV row, an FAQ pair) are short and kept whole.
public enum PassageFocus {
    /// Per-passage budget in estimated tokens (TextScan's estimate: ~1 per English word, 1 per
    /// Han character). Passages within it are not touched.
    public static let defaultBudget = 140

    /// One unit of a passage. `block` numbers runs of consecutive lines of one kind (a table, a
    /// list, a paragraph), so rows of one table share it; `SubjectTie` splits passages the same way.
    struct Unit {
        enum Kind { case tableRow, heading, listItem, sentence }
        var text: String
        var kind: Kind
        var block: Int
        /// A table's header row or its |---| rule: read with the rows, but not data.
        var tableHeader: Bool = false
    }

    /// Splits a passage into units: lines that are headings, list items or table rows stay whole;
    /// other lines are split into sentences.
    static func units(_ text: String) -> [Unit] {
        var out: [Unit] = []
        var block = 0
        var previous: Unit.Kind? = nil
        var rowsInTable = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { previous = nil; continue }
            let kind: Unit.Kind = line.hasPrefix("|") ? .tableRow : line.hasPrefix("#") ? .heading
                : isListItem(line) ? .listItem : .sentence
            if kind != previous { block += 1; rowsInTable = 0 }
            previous = kind
            switch kind {
            case .tableRow:
                rowsInTable += 1
                out.append(Unit(text: line, kind: kind, block: block,
                                tableHeader: rowsInTable == 1 || line.allSatisfy({ "|-: ".contains($0) })))
            case .sentence:
                for s in TextAnalysis.sentences(line) { out.append(Unit(text: s, kind: kind, block: block)) }
            case .heading, .listItem:
                out.append(Unit(text: line, kind: kind, block: block))
            }
        }
        return out
    }

    static func isListItem(_ line: String) -> Bool {
        guard let c = line.first else { return false }
        if "-*•·".contains(c) { return true }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        return !digits.isEmpty && digits.count <= 2 && [".", ")", "、"].contains(line.dropFirst(digits.count).first.map(String.init) ?? "")
    }

    /// Whether a passage is a record kept whole: a table row or a JSON record.
    public static func isRecord(_ p: RetrievedPassage) -> Bool {
        ["csv", "xlsx", "json", "jsonl", "ndjson"].contains(fileExtension(p))
    }

    /// The passage's file extension, lower-cased; a file inside a container is stored as
    /// "mail.eml › rates.csv", so the last part names it.
    static func fileExtension(_ p: RetrievedPassage) -> String {
        let name = p.documentPath.components(separatedBy: " › ").last ?? p.documentPath
        return URL(fileURLWithPath: name).pathExtension.lowercased()
    }

    /// Whether a passage is one row of a table (CSV or a spreadsheet sheet): "column: value" lines.
    public static func isTableRecord(_ p: RetrievedPassage) -> Bool {
        ["csv", "xlsx"].contains(fileExtension(p))
    }

    /// `passages` with each long one cut to its units that best answer `question`.
    /// `embed`, when given, scores units by meaning too (one call for all units).
    public static func focus(_ passages: [RetrievedPassage], question: String, budget: Int = defaultBudget,
                             embed: (([String]) throws -> [[Float]])? = nil) throws -> [RetrievedPassage] {
        let asked = TextAnalysis.keyTerms(question)
        var split: [[Unit]] = passages.map { p in
            isRecord(p) || TextScan.estimateTokens(p.text) <= budget ? [] : units(p.text)
        }
        for i in split.indices where split[i].count < 2 { split[i] = [] }
        var similarity: [[Double]] = split.map { Array(repeating: 0, count: $0.count) }
        if let embed, split.contains(where: { !$0.isEmpty }) {
            let texts = split.flatMap { $0.map(\.text) }
            let vecs = try embed([question] + texts)
            var k = 1
            for i in split.indices {
                for j in split[i].indices {
                    similarity[i][j] = zip(vecs[0], vecs[k]).reduce(0.0) { $0 + Double($1.0 * $1.1) }
                    k += 1
                }
            }
        }
        return passages.indices.map { i in
            let us = split[i]
            guard !us.isEmpty else { return passages[i] }
            var p = passages[i]
            p.text = select(us, asked: asked, similarity: similarity[i], budget: budget)
            return p
        }
    }

    /// The chosen units, in order, joined as lines.
    static func select(_ us: [Unit], asked: Set<String>, similarity: [Double], budget: Int) -> String {
        var score = us.indices.map { j -> Double in
            let lex = asked.isEmpty ? 0 : TextAnalysis.coverage(asked, in: TextAnalysis.keyTerms(us[j].text))
            return lex + similarity[j]
        }
        // The unit after a good one (the answer under a heading or after an FAQ question) shares
        // its subject even when it repeats none of its words.
        for j in us.indices.dropFirst() { score[j] = max(score[j], 0.8 * score[j - 1]) }
        var kept = Set<Int>()
        var used = 0
        for j in us.indices.sorted(by: { score[$0] > score[$1] }) {
            let cost = TextScan.estimateTokens(us[j].text)
            if !kept.isEmpty && used + cost > budget { continue }
            kept.insert(j); used += cost
            // A table row needs its header to be read: the first row of its table.
            if us[j].kind == .tableRow, let top = us.firstIndex(where: { $0.block == us[j].block }), !kept.contains(top) {
                kept.insert(top); used += TextScan.estimateTokens(us[top].text)
            }
            if used >= budget { break }
        }
        var lines: [String] = []
        var last = -2
        for j in kept.sorted() {
            if j > last + 1 && !lines.isEmpty { lines.append("…") }
            lines.append(us[j].text)
            last = j
        }
        return lines.joined(separator: "\n")
    }
}
