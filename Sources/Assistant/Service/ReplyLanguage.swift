import Foundation

/// Whether a reply speaks only the customer's language. A Chinese reply may hold brand names and
/// codes written in Latin letters (Visa, ATM, IBAN, HB-2026-00123), but not English words
/// ("周日closed", "当前状态：processing") or English phrases copied from a bilingual record; an
/// English reply holds no Chinese at all.
public enum ReplyLanguage {
    /// The first piece of `reply` that is not in `language` ("zh" or "en"), nil when the reply is clean.
    public static func foreignText(in reply: String, language: String) -> String? {
        if language == "en" {
            guard let i = reply.unicodeScalars.firstIndex(where: { TextAnalysis.isHan($0) }) else { return nil }
            let run = reply.unicodeScalars[i...].prefix { TextAnalysis.isHan($0) }
            return String(String.UnicodeScalarView(run))
        }
        // Latin words: letters only (a code with digits like SF1402265731 is not a word).
        let words = latinWords(reply), chars = Array(reply)
        for (n, w) in words.enumerated() {
            // An all-lower-case word of three letters or more is English prose, not a name.
            if w.text.count >= 3 && w.text == w.text.lowercased() { return w.text }
            // Two Latin words in a row form a phrase ("Harbor Mobile", "Sales service fee").
            // ("Visa/Mastercard" is two names, not a phrase.)
            if n + 1 < words.count, words[n + 1].start == w.end + 1, chars[w.end] == " ",
               w.text.count >= 2, words[n + 1].text.count >= 2 {
                return w.text + " " + words[n + 1].text
            }
        }
        return nil
    }

    /// Whether `reply` is written in `language` as a whole (the share of Han characters decides).
    public static func matches(_ reply: String, language: String) -> Bool {
        let letters = reply.unicodeScalars.filter { $0.properties.isAlphabetic }
        guard !letters.isEmpty else { return true }
        return TextAnalysis.detectLanguage(reply) == language
    }

    /// Runs of Latin letters with their character offsets; a run glued to digits or a hyphen
    /// (a reference, a product code) is skipped.
    static func latinWords(_ text: String) -> [(text: String, start: Int, end: Int)] {
        var out: [(String, Int, Int)] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            guard chars[i].isASCII && chars[i].isLetter else { i += 1; continue }
            var j = i
            while j < chars.count && chars[j].isASCII && chars[j].isLetter { j += 1 }
            let glued = (i > 0 && (chars[i - 1].isNumber || chars[i - 1] == "-")) || (j < chars.count && (chars[j].isNumber || chars[j] == "-"))
            if !glued { out.append((String(chars[i..<j]), i, j)) }
            i = j
        }
        return out.map { (text: $0.0, start: $0.1, end: $0.2) }
    }
}
