import Foundation

/// The qualifiers a question can put on a record it names loosely: a currency ("USD", "美元"),
/// a term ("for a year", "三个月", "7-day") and a size ("大号"). A record named by a synonym or a shared part of
/// its name is the one meant only when the question's qualifiers are the record's own: "美元六个月
/// 定期" names the RMB 6-month deposit by its synonym "六个月定期" but asks in dollars, "7-day
/// notice deposit" shares "deposit" with a 90-day product, "五年期大额存单" shares "大额存单" with
/// the 1- to 3-year CDs. Those questions go to the documents, where the checks can refuse them.
///
/// What a record says is read from its whole row (names, currency column, promotion text), so a
/// record with no currency or term in it cannot contradict one (a card has no term). The
/// agreement check reads the same way which line of the sources answers a question: the small
/// safe deposit box's "RMB 300 a year" is no reading of "大号保管箱一年多少钱".
enum Qualifiers {
    /// Currency codes named in `text`, longest names first so "美元" is not also "元" (RMB).
    /// With `amounts: false`, only a currency that qualifies a thing ("USD deposit", "美元存三个
    /// 月") counts, not one an amount is in ("wiring 5,000 USD", "30万元"): the amount says what
    /// the customer has, not which product or fee line is meant.
    static func currencies(in text: String, amounts: Bool = true) -> Set<String> {
        var rest = text.lowercased()
        if !amounts {
            rest = amount.stringByReplacingMatches(in: rest, range: NSRange(rest.startIndex..., in: rest), withTemplate: " ")
        }
        var found = Set<String>()
        for (re, code) in currencyPatterns {
            let range = NSRange(rest.startIndex..., in: rest)
            if re.firstMatch(in: rest, range: range) != nil {
                found.insert(code)
                rest = re.stringByReplacingMatches(in: rest, range: range, withTemplate: " ")
            }
        }
        return found
    }

    /// An amount with its currency before or after it: "usd 500", "$500", "5,000 usd", "30万元".
    private static let amount = try! NSRegularExpression(pattern:
        #"(?:us\$|hk\$|\$|¥|€|£|(?<![a-z])(?:usd|hkd|eur|rmb|cny|jpy|gbp)(?![a-z]))\s*[0-9][0-9,.]*(?:\s*(?:万|千|亿|k\b|m\b|bn\b|million|billion))?"#
        + #"|[0-9][0-9,.]*\s*(?:万|千|亿|k|m|bn|million|billion)?\s*(?:us dollars?|dollars?|usd|hkd|eur|euros?|rmb|cny|yuan|yen|pounds?|美元|美金|港币|港元|欧元|日元|英镑|人民币|元|块)"#)

    /// Longest first: a longer name is removed before a shorter one inside it is looked for.
    static let currencyNames: [(String, String)] = [
        ("us dollars", "USD"), ("us dollar", "USD"), ("dollars", "USD"), ("dollar", "USD"), ("us$", "USD"),
        ("usd", "USD"), ("美元", "USD"), ("美金", "USD"),
        ("hk$", "HKD"), ("hkd", "HKD"), ("港币", "HKD"), ("港元", "HKD"), ("港幣", "HKD"),
        ("euros", "EUR"), ("euro", "EUR"), ("eur", "EUR"), ("欧元", "EUR"),
        ("yen", "JPY"), ("jpy", "JPY"), ("日元", "JPY"),
        ("pounds", "GBP"), ("gbp", "GBP"), ("英镑", "GBP"),
        ("人民币", "CNY"), ("rmb", "CNY"), ("cny", "CNY"), ("yuan", "CNY"), ("元", "CNY"), ("块", "CNY"),
    ].sorted { $0.0.count > $1.0.count }

    /// `currencyNames` as patterns: a short Latin code is a whole word ("eur", not "europe").
    private static let currencyPatterns: [(NSRegularExpression, String)] = currencyNames.map { name, code in
        let escaped = NSRegularExpression.escapedPattern(for: name)
        let word = name.unicodeScalars.allSatisfy(\.isASCII) && name.count <= 4 && name.first!.isLetter
        return (try! NSRegularExpression(pattern: word ? "(?<![a-z])" + escaped + "(?![a-z])" : escaped), code)
    }

    /// Terms named in `text`, as "Nd" (days and weeks) or "Nm" (months and years): "1-Year",
    /// "for a year", "12 months" are all "12m"; "90-Day" is "90d", "一周" "7d". A calendar
    /// year ("2028年") and a date ("12月1日") are not terms.
    static func terms(in text: String) -> Set<String> {
        var found = Set<String>()
        let lower = text.lowercased()
        let ns = lower as NSString
        for m in englishTerm.matches(in: lower, range: NSRange(location: 0, length: ns.length)) {
            let count = ns.substring(with: m.range(at: 1)), unit = ns.substring(with: m.range(at: 2))
            guard let n = englishNumber(count) else { continue }
            if let t = term(n, unit: unit) { found.insert(t) }
        }
        for m in chineseTerm.matches(in: lower, range: NSRange(location: 0, length: ns.length)) {
            let count = ns.substring(with: m.range(at: 1)), unit = ns.substring(with: m.range(at: 2))
            guard let n = count == "半" ? 0.5 : chineseNumber(count).map(Double.init), n < 1900 else { continue }
            let english = unit.hasPrefix("年") ? "year" : unit.hasSuffix("月") ? "month" : unit == "天" ? "day" : "week"
            if let t = term(n, unit: english) { found.insert(t) }
        }
        return found
    }

    private static let englishTerm = try! NSRegularExpression(
        pattern: #"(?<![a-z0-9.])([0-9]+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|half an?|half)[\s-]*(day|week|month|year|yr)s?(?![a-z])"#)
    private static let chineseTerm = try! NSRegularExpression(pattern: #"([0-9]+|[一二两三四五六七八九十]+|半)\s*(个月|個月|年期|年|天|个星期|星期|周)"#)

    private static func term(_ n: Double, unit: String) -> String? {
        switch unit {
        case "day": return n >= 1 ? "\(Int(n))d" : nil
        case "week": return n >= 1 ? "\(Int(n * 7))d" : nil
        case "month": return n >= 1 ? "\(Int(n))m" : nil
        default: return n > 0 ? "\(Int(n * 12))m" : nil
        }
    }

    private static func englishNumber(_ s: String) -> Double? {
        if let n = Double(s) { return n }
        if s.hasPrefix("half") { return 0.5 }
        let words = ["a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                     "eight": 8, "nine": 9, "ten": 10, "twelve": 12]
        return words[s].map(Double.init)
    }

    /// 一 … 九十九 (and 两); digits as they are.
    static func chineseNumber(_ s: String) -> Int? {
        if let n = Int(s) { return n }
        let digit: [Character: Int] = ["一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9]
        let c = Array(s)
        switch c.count {
        case 1: return c[0] == "十" ? 10 : digit[c[0]]
        case 2 where c[0] == "十": return digit[c[1]].map { 10 + $0 }
        case 2 where c[1] == "十": return digit[c[0]].map { $0 * 10 }
        case 3 where c[1] == "十": return digit[c[0]].flatMap { t in digit[c[2]].map { t * 10 + $0 } }
        default: return nil
        }
    }

    /// Sizes named in `text` (S, M, L): "small", "large", "小号", "大号". A large-denomination CD
    /// (大额存单) is a product name, not a size.
    static func sizes(in text: String) -> Set<String> {
        let lower = text.lowercased().replacingOccurrences(of: "large-denomination", with: " ")
            .replacingOccurrences(of: "large denomination", with: " ")
        let ns = lower as NSString
        var found = Set<String>()
        for m in size.matches(in: lower, range: NSRange(location: 0, length: ns.length)) {
            switch ns.substring(with: m.range) {
            case "small", "小号", "小型": found.insert("S")
            case "medium", "中号", "中型": found.insert("M")
            default: found.insert("L")
            }
        }
        return found
    }

    private static let size = try! NSRegularExpression(pattern: #"(?<![a-z])(?:small|medium|large)(?![a-z])|小号|中号|大号|小型|中型|大型"#)

    /// The qualifiers one text names, read once and compared with many.
    struct Named {
        var currencies: Set<String>, sizes: Set<String>, terms: Set<String>

        /// `amounts: false` reads currencies as `currencies(in:amounts:)` does.
        init(_ text: String, amounts: Bool = true) {
            currencies = Qualifiers.currencies(in: text, amounts: amounts)
            sizes = Qualifiers.sizes(in: text)
            terms = Qualifiers.terms(in: text)
        }

        /// Why a question naming these cannot be about a record or line naming `own`, or nil
        /// when nothing contradicts it: a currency, size or term the question names that the
        /// record, which names its own, does not.
        func contradiction(with own: Named) -> String? {
            func list(_ s: Set<String>) -> String { s.sorted().joined(separator: ", ") }
            if !currencies.isEmpty, !own.currencies.isEmpty, currencies.isDisjoint(with: own.currencies) {
                return "the question asks in \(list(currencies)), it is in \(list(own.currencies))"
            }
            if !sizes.isEmpty, !own.sizes.isEmpty, sizes.isDisjoint(with: own.sizes) {
                return "the question asks of size \(list(sizes)), it is of \(list(own.sizes))"
            }
            if !terms.isEmpty, !own.terms.isEmpty, terms.isDisjoint(with: own.terms) {
                return "the question names a term of \(list(terms)), it names \(list(own.terms))"
            }
            return nil
        }
    }

    /// Why `question` cannot be about the record whose row reads `record` (see `Named`).
    static func contradiction(_ question: String, record: String, amounts: Bool = true) -> String? {
        Named(question, amounts: amounts).contradiction(with: Named(record))
    }
}
