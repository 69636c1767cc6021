import Foundation

/// Names of table values given in part: "the Zhongguancun branch" for "Beijing Zhongguancun
/// Branch", "国贸支行" for "北京国贸支行", "美元一年定期" for "美元一年期定期存款".
///
/// Every name is cut into grams (Latin words, Han character pairs). A gram found in the names of
/// few values says more than one found in all of them ("zhongguancun" against "branch"), so a
/// value scores the sum of ln(1 + values / values-with-the-gram) over the grams of its best name
/// that the utterance holds. The best value wins only if one of those grams belongs to it alone
/// and no other value scores as high: "the Beijing branch" names three branches and fills nothing.
struct NameIndex: Sendable {
    let names: [(key: String, grams: Set<String>)]
    let idf: [String: Double]
    /// Grams that belong to one value only.
    let distinctive: Set<String>

    init(_ names: [(name: String, key: String)]) {
        self.names = names.map { (key: $0.key, grams: Self.grams($0.name)) }
        var keysWith: [String: Set<String>] = [:]
        for n in self.names { for g in n.grams { keysWith[g, default: []].insert(n.key) } }
        let keys = Double(Set(names.map(\.key)).count)
        idf = keysWith.mapValues { Foundation.log(1 + keys / Double($0.count)) }
        distinctive = Set(keysWith.filter { $0.value.count == 1 }.keys)
    }

    /// Each value's score for `utterance` (only values with a gram in it).
    func scores(in utterance: String) -> [String: Double] {
        let u = Self.grams(utterance)
        var out: [String: Double] = [:]
        for n in names {
            let s = n.grams.intersection(u).reduce(0.0) { $0 + (idf[$1] ?? 0) }
            if s > out[n.key, default: 0] { out[n.key] = s }
        }
        return out
    }

    /// The value the utterance names in part, if exactly one stands out.
    func best(in utterance: String) -> (key: String, score: Double, matched: String)? {
        let u = Self.grams(utterance)
        var byKey: [String: (score: Double, matched: Set<String>)] = [:]
        for n in names {
            let hit = n.grams.intersection(u)
            let s = hit.reduce(0.0) { $0 + (idf[$1] ?? 0) }
            if s > byKey[n.key]?.score ?? 0 { byKey[n.key] = (s, hit) }
        }
        let ranked = byKey.sorted { $0.value.score > $1.value.score }
        guard let top = ranked.first, !top.value.matched.isDisjoint(with: distinctive),
              ranked.count == 1 || ranked[1].value.score < top.value.score else { return nil }
        return (top.key, top.value.score, top.value.matched.sorted().joined(separator: " "))
    }

    static let stopWords: Set<String> = ["the", "of", "and", "for", "a", "an", "in", "on", "at", "to", "my", "your"]

    /// Lower-case Latin words and numbers, and the character pairs of Han runs.
    static func grams(_ text: String) -> Set<String> {
        var out = Set<String>()
        var word = "", han: [Character] = []
        func flushWord() {
            if !word.isEmpty, !stopWords.contains(word), word.count >= 2 || word.first!.isNumber { out.insert(word) }
            word = ""
        }
        func flushHan() {
            for i in 0..<max(0, han.count - 1) { out.insert(String(han[i...i + 1])) }
            han = []
        }
        for ch in text.lowercased() {
            if ch.unicodeScalars.contains(where: TextAnalysis.isHan) { flushWord(); han.append(ch) }
            else if ch.isLetter || ch.isNumber { flushHan(); word.append(ch) }
            else { flushWord(); flushHan() }
        }
        flushWord(); flushHan()
        return out
    }
}

extension SlotFiller {
    static let weekdayNames: [(names: [String], day: String)] = [
        (["周一", "星期一", "礼拜一", "monday"], "mon"), (["周二", "星期二", "礼拜二", "tuesday"], "tue"),
        (["周三", "星期三", "礼拜三", "wednesday"], "wed"), (["周四", "星期四", "礼拜四", "thursday"], "thu"),
        (["周五", "星期五", "礼拜五", "friday"], "fri"), (["周六", "星期六", "礼拜六", "saturday"], "sat"),
        (["周日", "周天", "星期日", "星期天", "礼拜日", "礼拜天", "sunday"], "sun"),
        (["工作日", "weekday"], "weekday"),
    ]

    /// The day of the week the utterance asks about: a named day, "today"/"今天" or
    /// "tomorrow"/"明天" (counted from `today`), or weekdays as a whole.
    static func weekday(in utterance: String, today: String) -> SlotValue? {
        let lower = utterance.lowercased()
        var found: (SlotValue, String.Index)?
        for (names, day) in weekdayNames {
            for n in names {
                guard let r = lower.range(of: n) else { continue }
                // English names must start a word ("sundays" counts, "resunday" does not).
                if n.first!.isASCII, r.lowerBound > lower.startIndex, lower[lower.index(before: r.lowerBound)].isLetter { continue }
                if found == nil || r.lowerBound < found!.1 { found = (SlotValue(value: day, matched: n, how: "pattern"), r.lowerBound) }
            }
        }
        if let f = found { return f.0 }
        for (words, offset) in [(["today", "今天", "今日"], 0), (["tomorrow", "明天", "明日"], 1)] {
            guard let w = words.first(where: { lower.contains($0) }), let day = weekday(of: today, plus: offset) else { continue }
            return SlotValue(value: day, matched: w, how: "pattern")
        }
        return nil
    }

    /// mon…sun of an ISO date plus `days`.
    static func weekday(of iso: String, plus days: Int) -> String? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let f = DateFormatter()
        f.calendar = calendar; f.timeZone = calendar.timeZone; f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyy-MM-dd"
        guard let d = f.date(from: iso), let later = calendar.date(byAdding: .day, value: days, to: d) else { return nil }
        return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][calendar.component(.weekday, from: later) - 1]
    }
}
