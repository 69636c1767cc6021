// Module Assistant.
//
// The scenarios (knowledge-base Q&A, customer service, reports), written against small protocols.
import Foundation

/// The text measurements the gate, the support check and chat share. Chinese has no spaces, so
/// its "terms" are character bigrams; English terms are lower-cased words with a crude plural
/// fold, minus stop words.
public enum TextAnalysis {
    static func isHan(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F: true
        default: false
        }
    }

    /// "zh" when at least a quarter of the letters are Han characters, else "en". A quarter, not
    /// a half, because Chinese questions often carry English product names ("VPN 怎么配置").
    public static func detectLanguage(_ text: String) -> String {
        var han = 0, latin = 0
        for s in text.unicodeScalars {
            if isHan(s) { han += 1 } else if s.properties.isAlphabetic { latin += 1 }
        }
        guard han > 0 else { return "en" }
        // A Latin word of five letters weighs about as much as two Han characters.
        return Double(han) / (Double(han) + Double(latin) / 2.5) >= 0.25 ? "zh" : "en"
    }

    static let englishStopWords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from",
        "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had",
        "it", "its", "this", "that", "these", "those", "there", "their", "they", "them", "what", "which",
        "who", "whom", "when", "where", "why", "how", "can", "could", "should", "would", "will", "may",
        "i", "you", "we", "our", "your", "my", "me", "us", "he", "she", "his", "her", "not", "no", "so",
        "about", "into", "than", "then", "also", "any", "all", "some", "such", "much", "many", "more", "most",
        "yes", "out", "up", "get", "take", "takes", "long",
    ]
    /// Question words that say nothing about the topic.
    static let chineseStopBigrams: Set<String> = [
        "什么", "怎么", "多久", "如何", "是否", "哪些", "可以", "需要", "多少", "为什", "么时", "时候", "哪里",
        "请问", "我们", "你们", "他们", "一个", "这个", "那个", "还有", "的是", "是什",
    ]

    static func fold(_ word: String) -> String {
        var w = word
        if w.count > 4, w.hasSuffix("ies") { w = String(w.dropLast(3)) + "y" }
        else if w.count > 3, w.hasSuffix("s"), !w.hasSuffix("ss") { w.removeLast() }
        return w
    }

    /// Words (letters or digits) and Han runs, in order.
    static func pieces(_ text: String) -> [(text: String, han: Bool)] {
        var out: [(String, Bool)] = []
        var cur = "", curHan = false
        func flush() { if !cur.isEmpty { out.append((cur, curHan)); cur = "" } }
        for s in text.unicodeScalars {
            if isHan(s) {
                if !curHan { flush(); curHan = true }
                cur.unicodeScalars.append(s)
            } else if s.properties.isAlphabetic || s.properties.numericType != nil {
                if curHan { flush(); curHan = false }
                cur.unicodeScalars.append(s)
            } else { flush() }
        }
        flush()
        return out
    }

    /// The content terms of `text`: folded English words and Han bigrams, without stop words.
    public static func keyTerms(_ text: String) -> Set<String> {
        var terms = Set<String>()
        for (piece, han) in pieces(text) {
            if han {
                let chars = Array(piece)
                if chars.count == 1 { terms.insert(piece); continue }
                for i in 0..<(chars.count - 1) {
                    let bigram = String(chars[i...i + 1])
                    if !chineseStopBigrams.contains(bigram) { terms.insert(bigram) }
                }
            } else {
                let w = piece.lowercased()
                if w.count >= 2 || w.first?.isNumber == true, !englishStopWords.contains(w) { terms.insert(fold(w)) }
            }
        }
        return terms
    }

    /// English content words as written (for making a follow-up question standalone).
    static func contentWords(_ text: String) -> [String] {
        pieces(text).compactMap { piece, han in
            han ? piece : (englishStopWords.contains(piece.lowercased()) || piece.count < 2 ? nil : piece)
        }
    }

    /// Numbers in `text` with thousands separators removed ("1,250.50" → "1250.50"), citation
    /// markers excluded.
    public static func numbers(_ text: String) -> [String] {
        let stripped = stripCitations(text)
        var out: [String] = []
        var cur = ""
        let chars = Array(stripped)
        for (i, c) in chars.enumerated() {
            if c.isASCII && c.isNumber { cur.append(c); continue }
            if (c == "," || c == "."), !cur.isEmpty, i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isNumber {
                if c == "." { cur.append(c) }
                continue
            }
            if !cur.isEmpty { out.append(cur); cur = "" }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// Proper names a sentence states: Latin words that start with a capital letter, except the
    /// sentence's first word (capitalised anyway) and "I". Chinese has no capitals; its names
    /// are left to the bigram overlap.
    public static func names(_ sentence: String) -> [String] {
        let words = stripCitations(sentence).split(whereSeparator: { !($0.isLetter || $0 == "-" || $0 == "'") })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "-'")) }.filter { !$0.isEmpty }
        var out: [String] = []
        for w in words.dropFirst() where w.count >= 2 && w != "I" && !out.contains(w) {
            if let c = w.unicodeScalars.first, c.isASCII, CharacterSet.uppercaseLetters.contains(c) { out.append(w) }
        }
        return out
    }

    /// Whether `name` occurs in `folded` (a text already lower-cased: a checker folds each source
    /// once), allowing an English ending to differ ("English" is in a text that says "England"):
    /// its first max(4, length − 3) letters.
    public static func mentions(folded: String, name: String) -> Bool {
        let n = name.lowercased()
        return folded.contains(String(n.prefix(max(4, n.count - 3))))
    }

    /// How models say in their own words that the sources do not hold the answer, when the pack
    /// told them to reply with its exact refusal sentence ("The sources do not contain the answer
    /// to the question of …", SmolLM2 on SQuAD 2.0). Only phrases about the sources or the
    /// information: "if you cannot find your card" is an answer in a bank's FAQ.
    static let declinePhrases = [
        "sources do not", "sources don't", "sources does not", "source does not", "source doesn't",
        "sources provided do not", "not mentioned in the source", "not stated in the source",
        "not provided in the source", "not found in the source", "not given in the source",
        "no information about", "no information on", "no information in the source",
        "do not provide information", "does not provide information", "not enough information",
        "the text does not", "the passage does not", "the context does not",
        "资料中没有", "资料没有", "资料中未", "资料未", "没有相关信息", "无法回答",
    ]

    /// The sentence says the sources do not hold the answer instead of answering.
    public static func declines(_ sentence: String) -> Bool {
        let text = stripCitations(sentence).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            .replacingOccurrences(of: "’", with: "'")
        return declinePhrases.contains { text.contains($0) }
    }

    /// Why a sentence (citations stripped) states nothing as an answer, or nil when it may: the
    /// support check's neutral verdicts, which are neither supported nor counted against a reply.
    static func notAnAnswer(_ plain: String) -> String? {
        // A model told to answer with the refusal sentence often says so in its own words
        // ("The sources do not contain …"); that copies the question's terms but answers nothing.
        if declines(plain) { return "says the sources do not hold the answer: not an answer" }
        // A question copied back ("小号保管箱一年多少钱？", an FAQ heading "3、转错账怎么办？").
        if let last = plain.trimmingCharacters(in: .whitespaces).last, "?？".contains(last) { return "asks a question: not an answer" }
        if pointsAtSource(plain) { return "says where the answer is instead of giving it: not an answer" }
        if remarksOnSources(plain) { return "says where the answer came from: a remark on the sources, not an answer" }
        return nil
    }

    /// A sentence that says where the answer is instead of giving it: "This information is
    /// provided in the source with product id LN-EASY", "This is stated in source [4] under the
    /// … service" (Qwen2.5-1.5B on the answers benchmark, both scored wrong). A sentence stating a
    /// value is never one ("According to source [1], the fee is RMB 100").
    public static func pointsAtSource(_ sentence: String) -> Bool {
        let plain = stripCitations(sentence)
        guard numbers(plain).isEmpty else { return false }
        let ns = plain as NSString
        return pointingPattern.firstMatch(in: plain, range: NSRange(location: 0, length: ns.length)) != nil
    }

    static let pointingPattern = try! NSRegularExpression(pattern:
        #"\b(?:is|are|was|were)\s+(?:provided|stated|given|listed|mentioned|described|found|shown|detailed|explained|available)\s+(?:in|under|by)\s+(?:the\s+)?(?:sources?|table|row|record)\b"#
        + #"|\b(?:refer|referring)\s+to\s+(?:the\s+)?sources?\b|\bcan\s+be\s+found\s+in\s+(?:the\s+)?sources?\b"#
        + #"|详见|参见资料|见资料|资料中(?:有|已)(?:说明|提到|列出|写明)"#, options: .caseInsensitive)

    /// A remark on where the previous sentence came from: "This is based on the forecast provided
    /// in the sources, which states that … 18.6 million …", "This information is provided in the
    /// source [1]", "以上信息来源于资料[2]". Its subject is the answer just given ("This", "以上"),
    /// so it adds nothing a customer asked for; the figures it carries are the model's gloss on
    /// its sources (the 2026 forecast retold as 2026 sales, a peer average no source gives), and
    /// Qwen2.5-1.5B wrote one in 12 of 200 answers on the answers benchmark (#19). Unlike
    /// `pointsAtSource` it may state values: they are the remark's, not the answer's.
    public static func remarksOnSources(_ sentence: String) -> Bool {
        let plain = stripCitations(sentence).trimmingCharacters(in: .whitespaces)
        let ns = plain as NSString
        return remarkPattern.firstMatch(in: plain, range: NSRange(location: 0, length: ns.length)) != nil
    }

    static let remarkPattern = try! NSRegularExpression(pattern:
        #"^(?:this|these|that)(?:\s+(?:information|answer|figure|figures|data|number|numbers|detail|details))?\s+(?:is|are|was|were|comes|come|came)\s+"#
        + #"(?:(?:all|also|directly|clearly|explicitly)\s+)?(?:based\s+on|according\s+to|"#
        + #"(?:(?:stated|mentioned|provided|given|listed|shown|found|taken|derived|drawn|sourced|quoted|indicated|specified|written)\s+(?:in|by|from|under|within)|from)\s+"#
        + #"(?:the\s+|their\s+)?(?:sources?|documents?|table|passages?|records?|knowledge\s+base|information)\b)"#
        + #"|^(?:以上|上述|这|此)(?:是|些|一)?(?:信息|内容|数据|回答|答案|数字)?(?:均|都|是)?(?:根据|来自|来源于|摘自|出自|引自|依据)"#,
        options: .caseInsensitive)

    static let citationPattern = try! NSRegularExpression(pattern: #"\[(\d+(?:\s*[,，]\s*\d+)*)\]"#)

    /// Source numbers cited as [n], [n, m] or [n][m], in order of appearance, without repeats.
    public static func citations(_ text: String) -> [Int] {
        var out: [Int] = []
        let ns = text as NSString
        for m in citationPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            for part in ns.substring(with: m.range(at: 1)).split(whereSeparator: { $0 == "," || $0 == "，" }) {
                if let n = Int(part.trimmingCharacters(in: .whitespaces)), !out.contains(n) { out.append(n) }
            }
        }
        return out
    }

    /// `text` with every citation number outside `valid` removed (a marker left with none goes):
    /// a small model cites [5] with four sources, or runs on to "[21] … [31]".
    public static func keepingCitations(_ text: String, in valid: ClosedRange<Int>) -> String {
        let ns = text as NSString
        var out = "", last = 0
        for m in citationPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let kept = ns.substring(with: m.range(at: 1)).split(whereSeparator: { $0 == "," || $0 == "，" })
                .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { valid.contains($0) }
            if !kept.isEmpty { out += "[" + kept.map(String.init).joined(separator: ", ") + "]" }
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return out.replacingOccurrences(of: "  ", with: " ").replacingOccurrences(of: " .", with: ".")
    }

    public static func stripCitations(_ text: String) -> String {
        let ns = text as NSString
        return citationPattern.stringByReplacingMatches(in: text, range: NSRange(location: 0, length: ns.length), withTemplate: "")
    }

    /// Splits an answer into sentences at . ! ? (followed by a space or the end), 。！？；, and line
    /// breaks. A citation written after the full stop ("… 5 days. [1]") stays with its sentence.
    public static func sentences(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            cur.append(c)
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            var ends = "。！？；!?\n".contains(c) || (c == "." && (next == nil || next!.isWhitespace))
            if c == ".", let prev = cur.dropLast().last, prev.isNumber, next == nil || next == " " {
                ends = true  // "…costs 5." ends a sentence; "3.5" never reaches here (next is a digit)
            }
            if ends {
                // Swallow citations and spaces that follow the terminator.
                var j = i + 1
                var tail = ""
                // Not after a line break: a "[n]" opening the next line starts the next sentence.
                let canSwallow = c != "\n" && !cur.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                while canSwallow, j < chars.count {
                    if chars[j] == " " { tail.append(chars[j]); j += 1; continue }
                    if chars[j] == "[", let close = chars[j...].firstIndex(of: "]"),
                       chars[(j + 1)..<close].allSatisfy({ $0.isNumber || $0 == "," || $0 == " " }) {
                        tail += String(chars[j...close]); j = close + 1; continue
                    }
                    break
                }
                if tail.contains("[") { while tail.last == " " { tail.removeLast() }; cur += tail }
                i = tail.contains("[") ? j : i + 1
                let s = cur.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { out.append(s) }
                cur = ""
                continue
            }
            i += 1
        }
        let s = cur.trimmingCharacters(in: .whitespacesAndNewlines)
        if !s.isEmpty { out.append(s) }
        return out
    }

    /// Share of `terms` found in `other`.
    static func coverage(_ terms: Set<String>, in other: Set<String>) -> Double {
        terms.isEmpty ? 0 : Double(terms.intersection(other).count) / Double(terms.count)
    }

    /// Lower-cased letters and digits only, for comparing an answer with the refusal sentence.
    static func normalized(_ s: String) -> String {
        String(s.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }
            .map(Character.init))
    }
}
