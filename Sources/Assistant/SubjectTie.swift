import Foundation

/// Ties each value an answer states to the part of its source that is about the question's
/// subject (support check, layer 3).
///
/// A number can be in the cited passage and still be the wrong one: "What is the daily limit
/// with face verification?" answered "RMB 50,000", the SMS-code row of the same table. The rule:
/// a value is *untied* when the source has a sibling unit (another row of the same table, item
/// of the same list, or sentence of the same prose) that holds a value of the same kind (a rate,
/// an amount, a time of day, a date, a duration) and is more about the subject than every unit
/// holding the stated value. "About the subject" counts the terms of the question and of the
/// answer sentence a unit holds, leaving out terms every unit of the passage holds.
///
/// Only competitors of the same kind count, so a two-fact answer ("1.40% from 1 December,
/// minimum RMB 50,000") whose date sits in a sentence naming less of the question is not
/// dropped: no other date is more about the subject. A record (a CSV row) is one unit: nothing
/// in it competes.
public enum SubjectTie {
    public enum Kind: String, Sendable { case percent, money, time, date, duration, count }

    /// A value as it appears: its digits (thousands separators removed, as TextAnalysis.numbers
    /// gives them) and what kind of quantity the words around it make it.
    struct Value: Hashable { var number: String; var kind: Kind }

    private static let pattern = try! NSRegularExpression(
        pattern: #"(?:(RMB|CNY|USD|HKD|EUR|¥|\$|人民币)\s*)?(\d+(?:[,，]\d{3})*(?:\.\d+)?)(?:\s*(%|％|percent|per cent|bp|个百分点|元|万元|万|亿元|亿|yuan|:\d{2}|：\d{2}|[-–/]\d{1,2}[-–/]\d{1,2}|年|月|日|号|business days?|working days?|days?|hours?|hrs?|minutes?|months?|years?|weeks?|个工作日|个月|天|小时|分钟|周))?"#,
        options: [.caseInsensitive])
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The values in `text`, each with its kind.
    static func values(_ text: String) -> [Value] {
        let ns = text as NSString
        var out: [Value] = []
        for m in pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let number = ns.substring(with: m.range(at: 2)).replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "，", with: "")
            let currency = m.range(at: 1).location != NSNotFound
            let unit = m.range(at: 3).location != NSNotFound ? ns.substring(with: m.range(at: 3)).lowercased() : ""
            // A month name right after or before the number makes it a date ("1 December", "Dec 1").
            let after = ns.substring(with: NSRange(location: m.range.upperBound, length: min(5, ns.length - m.range.upperBound))).lowercased()
            let beforeStart = max(0, m.range.location - 5)
            let before = ns.substring(with: NSRange(location: beforeStart, length: m.range.location - beforeStart)).lowercased()
            let nearMonth = monthNames.contains { after.trimmingCharacters(in: .whitespaces).hasPrefix($0) || before.contains($0) }
            let kind: Kind
            if ["%", "％", "percent", "per cent", "bp", "个百分点"].contains(unit) { kind = .percent }
            else if currency || ["元", "万元", "万", "亿元", "亿", "yuan"].contains(unit) { kind = .money }
            else if unit.hasPrefix(":") || unit.hasPrefix("：") { kind = .time }
            else if unit.first.map({ "-–/".contains($0) }) == true || ["年", "月", "日", "号"].contains(unit) || nearMonth { kind = .date }
            else if !unit.isEmpty { kind = .duration }
            else if number.count == 4, number.hasPrefix("19") || number.hasPrefix("20") { kind = .date }   // a year
            else { kind = .count }
            out.append(Value(number: number, kind: kind))
        }
        return out
    }

    /// A passage split once for every answer sentence checked against it: its data units
    /// (table rows without header, list items, sentences — PassageFocus's split) with their
    /// terms and values, and the terms all of them hold (they tell no unit apart).
    struct Source {
        struct Unit { var block: Int; var terms: Set<String>; var values: [Value] }
        var units: [Unit]
        var common: Set<String>

        init(_ passage: RetrievedPassage) {
            // A record (a CSV row, an FAQ pair) is one unit: nothing in it competes.
            guard !PassageFocus.isRecord(passage) else { units = []; common = []; return }
            units = PassageFocus.units(passage.text).compactMap { u in
                switch u.kind {
                case .heading: return nil
                case .tableRow where u.tableHeader: return nil
                // All prose of a passage competes, whatever paragraph it is in.
                case .sentence: return Unit(block: -1, terms: TextAnalysis.keyTerms(u.text), values: values(u.text))
                case .tableRow, .listItem: return Unit(block: u.block, terms: TextAnalysis.keyTerms(u.text), values: values(u.text))
                }
            }
            common = units.dropFirst().reduce(units.first?.terms ?? []) { $0.intersection($1.terms) }
        }
    }

    /// The stated values of `sentence` that come from a unit of the source less about the subject
    /// than a sibling holding a value of the same kind; empty when every value is tied.
    static func untied(sentence: String, question: String, passage: RetrievedPassage) -> [String] {
        untied(sentence: sentence, question: question, source: Source(passage))
    }

    static func untied(sentence: String, question: String, source: Source) -> [String] {
        let units = source.units
        guard units.count > 1 else { return [] }
        let stated = values(TextAnalysis.stripCitations(sentence))
        guard !stated.isEmpty else { return [] }
        // Terms that tell the units apart: those of the question and the sentence, less the ones
        // every unit holds.
        func subject(_ text: String) -> Set<String> {
            TextAnalysis.keyTerms(text).subtracting(source.common).filter { !$0.allSatisfy(\.isNumber) }   // numbers are the values checked
        }
        let asked = subject(question)
        let said = subject(TextAnalysis.stripCitations(sentence)).subtracting(asked)
        // The question's terms first: a model that borrows a neighbour's wording ("average daily
        // assets … over the previous 24 months", said of ChiNext, for the STAR Market's RMB
        // 500,000) must not make the neighbour the subject. The answer's own terms break ties.
        struct About: Comparable {
            var asked: Int, said: Int
            static func < (a: About, b: About) -> Bool { (a.asked, a.said) < (b.asked, b.said) }
        }
        func about(_ u: Source.Unit) -> About { About(asked: u.terms.intersection(asked).count, said: u.terms.intersection(said).count) }
        var out: [String] = []
        for number in Set(stated.map(\.number)).sorted() {
            let holders = units.indices.filter { units[$0].values.contains { $0.number == number } }
            guard !holders.isEmpty else { continue }   // not in the source at all: the invented-number test's job
            // The kind the source gives it ("50,000" in an answer is an amount when the row says "RMB 50,000").
            // Bare counts ("6" of "6-month", "5 wrong passwords") name things more than they
            // measure them; they are left to the invented-number test.
            let kinds = Set(holders.flatMap { units[$0].values.filter { $0.number == number }.map(\.kind) }).subtracting([.count])
            if kinds.isEmpty { continue }
            let best = holders.map { about(units[$0]) }.max()!
            let rivals = units.indices.filter { j in
                !holders.contains(j) && holders.contains { units[$0].block == units[j].block }
                    && units[j].values.contains { kinds.contains($0.kind) && $0.number != number }
            }
            if let r = rivals.max(by: { about(units[$0]) < about(units[$1]) }), about(units[r]) > best {
                out.append(number)
            }
        }
        return out
    }
}
