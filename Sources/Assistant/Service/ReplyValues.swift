import Foundation
import Knowledge

/// Turns looked-up rows into values a reply can state in the customer's language: a bank says
/// "20万元" or "RMB 200,000", not "200000 CNY"; "周日不营业", not "周日closed".
///
/// Per row and column, in order:
/// 1. a bilingual value "English / 中文" keeps the half in the reply's language;
/// 2. a value listed under its column in the pack's `values` takes that translation
///    ("processing" → "处理中" / "being processed");
/// 3. a column listed in `formats` is formatted: `money:C` (C a currency column or code),
///    `fee:C` ("0.02%, min 2, max 50" → "0.02%（最低2元，最高50元）"), `rate` (two decimals and
///    %: 1.3 → "1.30%") or `percent` (1.5 → "1.5%").
/// Columns that come in pairs (`name_en`, `name_zh`) also give the bare name (`name`) in the
/// reply's language, so one template line serves both languages' rows.
public struct ReplyValues: Sendable {
    /// column → raw value → language → text.
    public var values: [String: [String: Localised]]
    /// column → format.
    public var formats: [String: String]

    public init(values: [String: [String: Localised]] = [:], formats: [String: String] = [:]) {
        self.values = values; self.formats = formats
    }

    /// Row `i` of `rows` as column → display text in `language`.
    public func display(_ rows: BusinessRows, row i: Int, language: String) -> [String: String] {
        let raw = rows.record(i)
        var out: [String: String] = [:]
        for (column, value) in raw {
            out[column] = localise(column, value, row: raw, language: language)
        }
        for column in raw.keys where column.hasSuffix("_" + language) {
            let base = String(column.dropLast(language.count + 1))
            if out[base] == nil { out[base] = out[column] }
        }
        return out
    }

    func localise(_ column: String, _ value: String, row: [String: String], language: String) -> String {
        var v = Self.half(value, language: language)
        if let t = values[column]?[v]?[language] { return t }
        guard let format = formats[column], !v.isEmpty else { return v }
        let parts = format.split(separator: ":", maxSplits: 1).map(String.init)
        let currency = parts.count > 1 ? (row[parts[1]] ?? parts[1]) : "CNY"
        switch parts[0] {
        case "money": v = Self.money(v, currency: currency, language: language)
        case "fee": v = Self.fee(v, currency: currency, language: language)
        case "rate": if let d = Double(v) { v = String(format: "%.2f%%", d) }
        case "percent": if let d = Double(v) { v = Self.grouped(d) + "%" }
        default: break
        }
        return v
    }

    /// The half of "English / 中文" in `language`; any other value unchanged.
    static func half(_ value: String, language: String) -> String {
        let parts = value.components(separatedBy: " / ")
        guard parts.count == 2 else { return value }
        let hasHan = parts.map { $0.unicodeScalars.contains(where: TextAnalysis.isHan) }
        guard hasHan[0] != hasHan[1] else { return value }
        let zh = hasHan[0] ? parts[0] : parts[1], en = hasHan[0] ? parts[1] : parts[0]
        return (language == "zh" ? zh : en).trimmingCharacters(in: .whitespaces)
    }

    static let chineseUnits = ["CNY": "元", "RMB": "元", "USD": "美元", "EUR": "欧元", "GBP": "英镑", "HKD": "港元", "JPY": "日元"]

    /// 200000 CNY → "20万元" / "RMB 200,000"; 1120.5 USD → "1,120.50美元" / "USD 1,120.50".
    public static func money(_ raw: String, currency: String, language: String) -> String {
        guard let amount = Double(raw.replacingOccurrences(of: ",", with: "")) else { return raw }
        let code = currency.uppercased()
        if language == "zh" {
            let unit = chineseUnits[code] ?? code
            if amount >= 10_000 && amount.truncatingRemainder(dividingBy: 1_000) == 0 {
                return grouped(amount / 10_000) + "万" + unit
            }
            return grouped(amount, cents: true) + unit
        }
        return (code == "CNY" ? "RMB" : code) + " " + grouped(amount, cents: true)
    }

    /// A fee as the fee schedule writes it: a number, a percentage, optionally with a minimum and
    /// a maximum. 0 is "free". Anything else is returned unchanged.
    public static func fee(_ raw: String, currency: String, language: String) -> String {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if let d = Double(s) {
            if d == 0 { return language == "zh" ? "免费" : "free" }
            return money(s, currency: currency, language: language)
        }
        guard let re = try? NSRegularExpression(pattern: #"^([0-9.]+%)(?:,\s*min\s+([0-9.,]+))?(?:,\s*max\s+([0-9.,]+))?$"#),
              let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return s }
        func group(_ i: Int) -> String? { Range(m.range(at: i), in: s).map { String(s[$0]) } }
        let pct = group(1)!, lo = group(2).map { money($0, currency: currency, language: language) },
            hi = group(3).map { money($0, currency: currency, language: language) }
        if lo == nil && hi == nil { return pct }
        if language == "zh" {
            return pct + "（" + [lo.map { "最低" + $0 }, hi.map { "最高" + $0 }].compactMap { $0 }.joined(separator: "，") + "）"
        }
        return pct + " (" + [lo.map { "min " + $0 }, hi.map { "max " + $0 }].compactMap { $0 }.joined(separator: ", ") + ")"
    }

    /// Thousands separators, and decimals only when there is a fraction: 200000 → "200,000";
    /// with `cents` two of them (1120.5 → "1,120.50"), else its own digits (1.5 → "1.5").
    static func grouped(_ d: Double, cents: Bool = false) -> String {
        var text: String
        if cents {
            text = String(format: "%.2f", abs(d))
            if text.hasSuffix(".00") { text.removeLast(3) }
        } else {
            text = String(format: "%.4f", abs(d))
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        let parts = text.split(separator: ".", maxSplits: 1)
        var digits = String(parts[0]), out = ""
        while digits.count > 3 { out = "," + digits.suffix(3) + out; digits.removeLast(3) }
        out = (d < 0 ? "-" : "") + digits + out
        return parts.count > 1 ? out + "." + parts[1] : out
    }
}
