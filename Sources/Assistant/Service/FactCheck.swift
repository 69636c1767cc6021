import Foundation
import Knowledge

/// Checks a generated reply against what it may say: every number (amounts, rates, dates are
/// digit runs) and every known product, card or branch name in the reply must appear in the
/// looked-up rows or in the customer's question.
public enum FactCheck {
    public struct Outcome: Sendable, Equatable, Codable {
        public var passed: Bool
        /// What the reply states that the rows and the question do not (for --explain).
        public var unsupported: [String]
    }

    /// - Parameters:
    ///   - mustMention: columns of which the reply has to state at least one value: a small model
    ///     copies a real but wrong number from the rows ("12 purchases" as the fee), which passes
    ///     the "appears in the rows" test but not this one.
    ///   - shown: the rows' values as the prompt showed them ("20万元" for 200000), which count
    ///     as evidence beside the raw ones.
    ///   - language: the customer's language: a reply in the other one, or one that mixes in
    ///     its words ("周日closed"), fails.
    public static func check(reply: String, rows: BusinessRows, question: String, knownNames: Set<String>,
                             mustMention: [String] = [], shown: [[String: String]] = [], language: String? = nil) -> Outcome {
        let evidence = rows.rows.flatMap { $0.map(BusinessRows.text) }.joined(separator: "\n") + "\n"
            + shown.flatMap { $0.values.sorted() }.joined(separator: "\n") + "\n" + question
        let allowed = Set(numbers(in: evidence).compactMap(value))
        var unsupported: [String] = []
        for n in numbers(in: reply) {
            guard let v = value(n) else { continue }
            if !allowed.contains(v) { unsupported.append(n) }
        }
        let lowerEvidence = evidence.lowercased(), lowerReply = reply.lowercased()
        for name in knownNames.sorted() where name.count >= 2 {
            let l = name.lowercased()
            if lowerReply.contains(l) && !lowerEvidence.contains(l) { unsupported.append(name) }
        }
        // A reply that recites the prompt's record table is not an answer.
        if let column = rows.columns.first(where: { $0.contains("_") && lowerReply.contains($0.lowercased()) }) ?? (reply.contains(" | ") ? "|" : nil) {
            unsupported.append("raw record (\(column))")
        }
        let replyNumbers = Set(numbers(in: reply).compactMap(value))
        let values = (mustMention.compactMap { rows.columns.firstIndex(of: $0) }.flatMap { i in rows.rows.map { BusinessRows.text($0[i]) } }
            + mustMention.flatMap { c in shown.compactMap { $0[c] } }).filter { !$0.isEmpty }
        let stated = values.contains { v in
            if let d = value(v) { return replyNumbers.contains(d) }
            return lowerReply.contains(v.lowercased())
        }
        if !values.isEmpty && !stated { unsupported.append("missing \(mustMention.joined(separator: "/"))") }
        // The lookup found rows, so a reply that says there are none contradicts them (SmolLM2:
        // "No, the 3-month deposit promotion has been removed" with the promotion in the rows).
        if !rows.rows.isEmpty, let claim = Self.absenceClaims.first(where: { lowerReply.contains($0) && !question.lowercased().contains($0) }) {
            unsupported.append("claims absence (\"\(claim)\") but the lookup found rows")
        }
        if let language, !reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            if !ReplyLanguage.matches(reply, language: language) {
                unsupported.append("not in the customer's language (\(language))")
            } else if let foreign = ReplyLanguage.foreignText(in: reply, language: language) {
                unsupported.append("mixes in '\(foreign)'")
            }
        }
        return Outcome(passed: unsupported.isEmpty, unsupported: unsupported)
    }

    /// Phrases that deny what a non-empty lookup shows.
    static let absenceClaims = ["no, ", "not available", "no longer", "has been removed", "has ended", "have ended",
                                "expired", "there is no", "there are no", "does not exist",
                                "没有", "已结束", "已经结束", "不再", "已下架", "不存在"]

    /// Digit runs with thousands separators and decimals: "100,000", "1.30", "2026".
    static func numbers(in text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: #"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"#) else { return [] }
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range, in: text).map { String(text[$0]) }
        }
    }

    /// The numeric value, so "1.30" in a reply matches 1.3 stored as a real.
    static func value(_ s: String) -> Double? { Double(s.replacingOccurrences(of: ",", with: "")) }
}
