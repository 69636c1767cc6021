import Foundation
import Prompts

/// Answering by quotation: the model answers from numbered source lines and names the line it
/// used; the answer the customer gets is that line, quoted, with its source.
///
/// Measured on the answers benchmark (bench/kbqa/dev.jsonl), a 1.5B model writing free text from
/// four passages declines about half the questions whose answer sits in its first source, and
/// when it does answer it often says the opposite of the line it read: "Yes, the Nanjing Road
/// branch is open on Sundays (11)", where line 11 is "Nanjing Road Branch: sunday hours:
/// closed". The line it names is right far more often than the sentence it writes. Asked to point
/// at a line number alone, the same model does worse (it named line 1 for a Saturday-hours
/// question whose answer was line 6): it finds the line by answering. So the model answers, and
/// Strata keeps only what it pointed at, in the bank's own words, which the support check then
/// holds to the row or sentence they came from.
///
/// A source is shown as its units, numbered once across all sources, each line carrying its
/// source's name: a table row (a CSV record) as one line per column ("sunday hours: closed"),
/// so a Sunday question points at the Sunday column and not the row's other hours; a Markdown
/// table row with its header's names; prose as sentences; list items whole.
public enum AnswerSelection {
    /// A numbered line the model may select.
    public struct Line: Sendable, Equatable {
        /// 1-based index of the passage it comes from.
        public var passage: Int
        /// What the model reads after the line's number.
        public var shown: String
        /// What the answer says when the line is selected (a column line names its record).
        public var answer: String
        /// For a column of a table record: the record's name, so two columns of one record are
        /// quoted as one sentence.
        public var record: String? = nil
    }

    /// One source as the selection prompt shows it.
    public struct Source: Sendable, Equatable {
        public var passage: Int
        public var title: String
        /// Indices of its lines in the numbered list (each source's lines are consecutive).
        public var lines: Range<Int>
    }

    /// The most lines one prompt lists: past ~40 a small model loses count of the numbers.
    public static let maxLines = 40

    /// Splits `passages` into numbered lines (numbered from 1 across all of them).
    public static func lines(_ passages: [RetrievedPassage]) -> (sources: [Source], lines: [Line]) {
        var sources: [Source] = []
        var lines: [Line] = []
        for (i, p) in passages.enumerated() {
            let n = i + 1
            let title = p.headingPath.components(separatedBy: " > ").last ?? p.headingPath
            let first = lines.count
            func add(_ shown: String, answer: String, record: String? = nil) {
                guard lines.count < maxLines else { return }
                lines.append(Line(passage: n, shown: shown, answer: answer, record: record))
            }
            if PassageFocus.isTableRecord(p) {
                // A CSV record: a line per column, its name as words; the answer names the record.
                for field in KnowledgeQA.readable(p).split(separator: "\n") {
                    let f = field.trimmingCharacters(in: .whitespaces)
                    guard !f.isEmpty else { continue }
                    add(f, answer: "\(p.headingPath) — \(f)", record: p.headingPath)
                }
            } else {
                var header: [String] = []
                for u in PassageFocus.units(p.text) {
                    if u.text == "…" { continue }
                    switch u.kind {
                    case .heading:
                        continue   // the source's name, which every line carries, says where it is
                    case .tableRow where u.tableHeader:
                        if !u.text.allSatisfy({ "|-: ".contains($0) }) { header = cells(u.text) }
                    case .tableRow:
                        let row = cells(u.text)
                        let named = header.count == row.count
                            ? zip(header, row).map { $0.isEmpty ? $1 : "\($0): \($1)" }.joined(separator: "; ")
                            : row.joined(separator: "; ")
                        add(named, answer: named)
                    case .listItem, .sentence:
                        let text = u.kind == .listItem ? String(u.text.drop(while: { "-*•· ".contains($0) })) : u.text
                        add(text, answer: text)
                    }
                }
            }
            sources.append(Source(passage: n, title: title, lines: first..<lines.count))
        }
        return (sources, lines)
    }

    /// The cells of a Markdown table row, trimmed.
    static func cells(_ row: String) -> [String] {
        var parts = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// The numbered lines of the prompt, each with its source's name: "6. Hong Kong Central
    /// Branch: saturday hours: 09:00-12:30".
    public static func render(_ sources: [Source], lines: [Line]) -> String {
        var out: [String] = []
        for s in sources {
            let name = shortTitle(s.title)
            for j in s.lines { out.append("\(j + 1). \(name.isEmpty ? "" : name + ": ")\(lines[j].shown)") }
        }
        return out.joined(separator: "\n")
    }

    /// A source's name as each of its lines repeats it: a record's names without its key
    /// ("Hong Kong Central Branch · 香港中环分行"), a section's last heading, at most ~8 words.
    static func shortTitle(_ title: String) -> String {
        var parts = title.components(separatedBy: " · ")
        if parts.count > 1, let first = parts.first, !first.contains(" "), first.contains(where: \.isNumber) { parts.removeFirst() }
        let t = parts.joined(separator: " · ")
        let words = t.split(separator: " ")
        return words.count > 8 ? words.prefix(8).joined(separator: " ") + " …" : t
    }

    private static let citationPattern = try! NSRegularExpression(
        pattern: #"[\(\[（【]\s*((?:line|fact|lines|facts|第)?\s*(?:number|no\.?|#)?\s*\d{1,2}(?:\s*(?:[,，、]|and|和|与|及)\s*\d{1,2})*)\s*[\)\]）】]|(?:\b(?:line|fact)s?|资料|事实|第)\s*(?:number|no\.?|#)?\s*(\d{1,2}(?:\s*(?:[,，、]|and|和|与|及)\s*\d{1,2})*)"#,
        options: [.caseInsensitive])

    private static let valuePattern = try! NSRegularExpression(pattern: #"\d+(?:[,，]\d{3})*(?:[.:：]\d+)*(\s*[万亿])?"#)

    /// The numbers in `text` as comparable strings: thousands separators gone, leading zeros
    /// gone from each part ("09:30" and "9:30" are one time, "2026-12-01" holds "1"), 万 and 亿
    /// multiplied out ("20万" is "200000"), so a reply's values are found in a line however it
    /// writes them.
    static func values(_ text: String) -> Set<String> {
        let ns = text as NSString
        var out = Set<String>()
        for m in valuePattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let digits = ns.substring(with: m.range).replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "，", with: "")
                .replacingOccurrences(of: "：", with: ":").trimmingCharacters(in: CharacterSet(charactersIn: "万亿 "))
            if m.range(at: 1).location != NSNotFound, let d = Decimal(string: digits) {
                let scale: Decimal = ns.substring(with: m.range(at: 1)).contains("亿") ? 100_000_000 : 10_000
                out.insert("\(d * scale)")
                continue
            }
            // "1.50" and "1.5" are one rate; "09" and "9" one hour.
            let parts = digits.split(separator: ":", omittingEmptySubsequences: false).map { part -> String in
                if let d = Decimal(string: String(part)) { return "\(d)" }
                return String(part)
            }
            out.insert(parts.joined(separator: ":"))
        }
        return out
    }

    /// The line numbers a reply names as its sources ("(6)", "[6]", "fact 6", "（5、6）"), in
    /// order, without repeats, within 1…count.
    public static func cited(_ reply: String, count: Int, limit: Int = 3) -> [Int] {
        let ns = reply as NSString
        var out: [Int] = []
        for m in citationPattern.matches(in: reply, range: NSRange(location: 0, length: ns.length)) {
            let r = m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range(at: 2)
            guard r.location != NSNotFound else { continue }
            for d in ns.substring(with: r).split(whereSeparator: { !($0.isASCII && $0.isNumber) }) {
                if let n = Int(d), (1...count).contains(n), !out.contains(n), out.count < limit { out.append(n) }
            }
        }
        return out
    }

    /// The reply without its line markers, for reading the values it states.
    static func withoutMarkers(_ reply: String) -> String {
        let ns = reply as NSString
        return citationPattern.stringByReplacingMatches(in: reply, range: NSRange(location: 0, length: ns.length), withTemplate: "")
    }

    /// What to quote for a reply: the lines it names when they hold every value it states; else
    /// the lines that do hold those values (a model names the neighbouring line as often as it
    /// copies the neighbouring number), preferring the named source and the question's terms;
    /// nil when a stated value is in no line (the model made it up) or nothing can be pointed at.
    public static func quoted(reply: String, question: String, lines: [Line]) -> (lines: [Int], note: String?)? {
        let named = cited(reply, count: lines.count)
        // Values the question itself states ("my 800,000 deposit") are not the answer's.
        let stated = values(TextAnalysis.stripCitations(withoutMarkers(reply))).subtracting(values(question))
        func holds(_ j: Int) -> Set<String> { values(lines[j - 1].shown) }
        let namedValues = named.reduce(into: Set<String>()) { $0.formUnion(holds($1)) }
        if !named.isEmpty && stated.isSubset(of: namedValues) { return (named, nil) }
        guard !stated.isEmpty else {
            // Nothing named, nothing stated: the line that shares most of the reply's and the question's words.
            let terms = TextAnalysis.keyTerms(reply).union(TextAnalysis.keyTerms(question))
            let best = lines.indices.max { TextAnalysis.keyTerms(lines[$0].shown).intersection(terms).count < TextAnalysis.keyTerms(lines[$1].shown).intersection(terms).count }
            guard let b = best, !TextAnalysis.keyTerms(lines[b].shown).intersection(terms).isEmpty else { return nil }
            return ([b + 1], "the reply named no line; quoted the line sharing most of its words")
        }
        // Each stated value from the line that holds it, best first: named, same source as a
        // named line, most question terms.
        let asked = TextAnalysis.keyTerms(question)
        let namedPassages = Set(named.map { lines[$0 - 1].passage })
        var picked: [Int] = []
        for v in stated.sorted() {
            let holders = (1...lines.count).filter { holds($0).contains(v) }
            guard !holders.isEmpty else { return nil }
            if holders.contains(where: picked.contains) { continue }
            let best = holders.max { a, b in
                func rank(_ j: Int) -> (Int, Int, Int) {
                    (named.contains(j) ? 1 : 0, namedPassages.contains(lines[j - 1].passage) ? 1 : 0,
                     TextAnalysis.keyTerms(lines[j - 1].shown).intersection(asked).count)
                }
                return rank(a) < rank(b)
            }!
            picked.append(best)
        }
        return (Array(picked.prefix(3)), named.isEmpty ? "the reply named no line; quoted the lines holding its values"
                : "the named line does not hold the reply's values; quoted the lines that do")
    }

    /// The answer text for the selected lines: each quoted with its source marker.
    /// Columns of one record are one sentence: "SH-002 · Nanjing Road Branch — saturday hours:
    /// 09:00-16:00; sunday hours: closed. [1]".
    public static func answer(_ picked: [Int], lines: [Line], language: String) -> String {
        var sentences: [(text: String, passage: Int)] = []
        var lastRecord: (name: String, passage: Int)? = nil
        for n in picked {
            let l = lines[n - 1]
            if let r = l.record, let last = lastRecord, last.name == r, last.passage == l.passage {
                sentences[sentences.count - 1].text += "; " + l.shown
                continue
            }
            sentences.append((l.answer.trimmingCharacters(in: .whitespaces), l.passage))
            lastRecord = l.record.map { ($0, l.passage) }
        }
        return sentences.map { s in
            var t = s.text
            if language != "zh", let last = t.last, !".!?。".contains(last) { t += "." }
            return "\(t) [\(s.passage)]"
        }.joined(separator: language == "zh" ? "" : " ")
    }
}
