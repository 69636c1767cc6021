import Foundation
import Knowledge

/// A slot value found in an utterance, with how it was found (for --explain).
public struct SlotValue: Sendable, Equatable, Codable {
    /// The value bound as the query parameter (a table key, a number, a date, a reference).
    public var value: String
    /// What the customer wrote that produced it.
    public var matched: String
    /// exact, synonym, fuzzy, pattern, default, or carried (from an earlier turn).
    public var how: String
}

/// Finds slot values in utterances: table values by name (normalised, synonyms, small typos,
/// Chinese and English names alike), numbers, dates and references by pattern.
public final class SlotFiller {
    struct Entry { var normalised: String; var key: String; var how: String }
    /// Per table slot ("table.key"): every name a value may be called by.
    private var catalog: [String: [Entry]] = [:]
    /// Per table slot: the grams of every name (`NameIndex`), for names given in part.
    private var partial: [String: NameIndex] = [:]
    /// Per table slot: each record's whole row as one text (its names, currency, promotion),
    /// for what a question's qualifiers may contradict (`Qualifiers`).
    private var records: [String: [String: String]] = [:]
    /// Every display name of every table value, for the fact check.
    public private(set) var knownNames: Set<String> = []
    let today: String

    /// Reads the names of every table slot's values from `db` (read-only).
    public init(slots: [SlotSpec], db: Database, today: String) throws {
        self.today = today
        for slot in slots where slot.kind == .table {
            let id = "\(slot.table!).\(slot.key!)"
            var entries = catalog[id] ?? []
            // One read of the whole table: the key and match columns name a record, the whole row
            // is what a question's qualifiers are checked against.
            let whole: BusinessRows
            do { whole = try BusinessQuery.run(db, sql: "SELECT * FROM \(try BusinessTables.quoted(slot.table!))", named: [:]) } catch {
                throw ServiceError.lookupFailed(name: "slot \(slot.name)", detail: "\(error.localizedDescription)")
            }
            let columns = try ([slot.key!] + (slot.match ?? []).filter { $0 != slot.key! }).map { c in
                guard let i = whole.columns.firstIndex(where: { $0.caseInsensitiveCompare(c) == .orderedSame }) else {
                    throw ServiceError.lookupFailed(name: "slot \(slot.name)", detail: "table \(slot.table!) has no column \(c)")
                }
                return i
            }
            let rows = whole.rows.map { r in columns.map { BusinessRows.text(r[$0]) } }
            for r in rows {
                let key = r[0]
                for v in r where !v.isEmpty {
                    entries.append(Entry(normalised: Self.normalise(v), key: key, how: "exact"))
                    if v != key { knownNames.insert(v) }
                }
            }
            for (synonym, key) in slot.synonyms { entries.append(Entry(normalised: Self.normalise(synonym), key: key, how: "synonym")) }
            catalog[id] = entries.filter { !$0.normalised.isEmpty }
            records[id] = Dictionary(zip(rows.map { $0[0] }, whole.rows.map { $0.map(BusinessRows.text).joined(separator: " · ") }),
                                     uniquingKeysWith: { a, _ in a })
            var names = rows.flatMap { r in r.filter { !$0.isEmpty }.map { (name: $0, key: r[0]) } }
            names += slot.synonyms.map { (name: $0.key, key: $0.value) }
            partial[id] = NameIndex(names)
        }
    }

    /// Lower-case letters and digits only, so "3-Year", "3 year" and "3year" compare equal and
    /// full-width punctuation in Chinese text does not matter.
    static func normalise(_ s: String) -> String {
        String(String.UnicodeScalarView(s.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }))
    }

    /// The values of `slots` found in `utterance`.
    public func fill(_ slots: [SlotSpec], from utterance: String) -> [String: SlotValue] {
        var out: [String: SlotValue] = [:]
        for slot in slots {
            if let v = find(slot, in: utterance) { out[slot.name] = v }
        }
        return out
    }

    func find(_ slot: SlotSpec, in utterance: String) -> SlotValue? {
        switch slot.kind {
        case .table:
            let id = "\(slot.table!).\(slot.key!)"
            return matchTable(catalog[id] ?? [], partial: partial[id], in: utterance)
        case .weekday:
            return Self.weekday(in: utterance, today: today)
        case .number:
            return firstMatch(#"[0-9][0-9,]*(\.[0-9]+)?"#, in: utterance).map {
                SlotValue(value: $0.replacingOccurrences(of: ",", with: ""), matched: $0, how: "pattern")
            }
        case .date:
            if let d = firstMatch(#"[0-9]{4}-[0-9]{2}-[0-9]{2}"#, in: utterance) { return SlotValue(value: d, matched: d, how: "pattern") }
            let lower = utterance.lowercased()
            if lower.contains("today") || utterance.contains("今天") { return SlotValue(value: today, matched: "today", how: "pattern") }
            return slot.default == "today" ? SlotValue(value: today, matched: "", how: "default") : nil
        case .text:
            return firstMatch(slot.pattern!, in: utterance, caseInsensitive: true).map {
                SlotValue(value: $0.uppercased(), matched: $0, how: "pattern")
            }
        }
    }

    /// The longest name found in the utterance wins ("gold credit card" over "card"), unless a
    /// name given in part says more ("美元一年定期" is the USD deposit, though "一年定期" is a
    /// whole synonym of the RMB one: see `NameIndex`); when no name occurs, a Latin name within
    /// a small edit distance counts (typos).
    func matchTable(_ entries: [Entry], partial: NameIndex? = nil, in utterance: String) -> SlotValue? {
        let u = Self.normalise(utterance)
        guard !u.isEmpty else { return nil }
        var best: Entry?
        for e in entries where u.contains(e.normalised) {
            if best == nil || e.normalised.count > best!.normalised.count { best = e }
        }
        if let p = partial?.best(in: utterance), p.key != best?.key,
           best == nil || p.score > partial!.scores(in: utterance)[best!.key, default: 0] {
            return SlotValue(value: p.key, matched: p.matched, how: "partial")
        }
        if let b = best { return SlotValue(value: b.key, matched: b.normalised, how: b.how) }
        let chars = Array(u)
        var fuzzy: (Entry, Int, String)?
        for e in entries where e.normalised.count >= 5 && e.normalised.unicodeScalars.allSatisfy(\.isASCII) {
            let name = Array(e.normalised)
            let allowed = name.count >= 12 ? 2 : 1
            for len in max(1, name.count - allowed)...(name.count + allowed) where len <= chars.count {
                for start in 0...(chars.count - len) {
                    let d = levenshtein(Array(chars[start..<(start + len)]), name, limit: allowed)
                    if d <= allowed, fuzzy == nil || d < fuzzy!.1 || (d == fuzzy!.1 && name.count > fuzzy!.0.normalised.count) {
                        fuzzy = (e, d, String(chars[start..<(start + len)]))
                    }
                }
            }
        }
        return fuzzy.map { SlotValue(value: $0.0.key, matched: $0.2, how: "fuzzy") }
    }

    /// Whether a value found from part of its name (`partial`) is named unmistakably: the
    /// longest run of the utterance that is part of one of the record's names is at least four
    /// Chinese characters or ten Latin letters long, and part of no other record's name.
    /// "中关村支行" is the Zhongguancun branch alone; "time deposit" (in "6-month USD time
    /// deposit") is part of every term deposit's name, and "fixed" is too short to name one.
    public func namesUniquely(_ slot: SlotSpec, _ value: SlotValue, in utterance: String) -> Bool {
        guard slot.kind == .table, let entries = catalog["\(slot.table!).\(slot.key!)"] else { return false }
        let u = Array(Self.normalise(utterance))
        var run = ""
        for e in entries where e.key == value.value {
            let r = Self.longestCommonRun(u, Array(e.normalised))
            if r.count > run.count { run = r }
        }
        let han = run.unicodeScalars.contains { $0.properties.isIdeographic }
        guard run.count >= (han ? 4 : 10) else { return false }
        return !entries.contains { $0.key != value.value && $0.normalised.contains(run) }
    }

    /// Why `value` cannot be the record `utterance` means, or nil: a currency, term or size the
    /// utterance names that the record's row, naming its own, does not (`Qualifiers`).
    public func contradiction(_ slot: SlotSpec, _ value: SlotValue, in utterance: String) -> String? {
        guard slot.kind == .table, let row = records["\(slot.table!).\(slot.key!)"]?[value.value] else { return nil }
        return Qualifiers.contradiction(utterance, record: row)
    }

    static func longestCommonRun(_ a: [Character], _ b: [Character]) -> String {
        guard !a.isEmpty, !b.isEmpty else { return "" }
        // Two rows of the run-length table, reused: cur[j] is the run ending at a[i-1], b[j-1].
        var prev = [Int](repeating: 0, count: b.count + 1), cur = prev, best = 0, end = 0
        for i in 1...a.count {
            for j in 1...b.count {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0
                if cur[j] > best { best = cur[j]; end = i }
            }
            swap(&prev, &cur)
        }
        return String(a[(end - best)..<end])
    }

    private func firstMatch(_ pattern: String, in text: String, caseInsensitive: Bool = false) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []),
              let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let r = Range(m.range, in: text) else { return nil }
        return String(text[r])
    }
}

/// Edit distance, giving up early once every path exceeds `limit`.
func levenshtein(_ a: [Character], _ b: [Character], limit: Int) -> Int {
    if abs(a.count - b.count) > limit { return limit + 1 }
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        cur[0] = i
        var rowMin = cur[0]
        for j in 1...max(b.count, 1) where !b.isEmpty {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            rowMin = min(rowMin, cur[j])
        }
        if rowMin > limit { return limit + 1 }
        swap(&prev, &cur)
    }
    return a.isEmpty ? b.count : prev[b.count]
}
