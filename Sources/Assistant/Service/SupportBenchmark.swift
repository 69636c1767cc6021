import Foundation

/// One customer message of a support benchmark (`bench/support/dev.jsonl`), with what a right
/// reply must hold.
public struct SupportCase: Sendable, Codable, Equatable {
    /// What the pipeline should do with the message.
    public enum Expectation: String, Sendable, Codable {
        /// Answer it (a lookup or the documents) with every fact.
        case answer
        /// Ask what the customer means (a required detail is missing, or a vague opening).
        case clarify
        /// Hand the customer to a colleague.
        case handoff
        /// Out of scope: must not be answered.
        case refuse
    }
    public var id: String
    /// "zh" or "en": the language the reply must be in.
    public var lang: String
    public var question: String
    public var expect: Expectation
    /// The intent that should handle it (documentation; the verdict does not need it).
    public var intent: String?
    /// Each fact is a list of acceptable surface forms; one of them must be in the reply.
    public var facts: [[String]]
    /// Values that make a reply wrong when present (an ended promotion's rate, another row's fee).
    public var wrong: [[String]]
    public var note: String?

    /// Parses one JSONL line, naming what is wrong.
    public static func parse(_ line: String, number: Int) throws -> SupportCase {
        let c: SupportCase
        do { c = try JSONDecoder().decode(SupportCase.self, from: Data(line.utf8)) } catch {
            throw ServiceError.badBenchmark(line: number, detail: Self.describe(error))
        }
        guard c.lang == "zh" || c.lang == "en" else { throw ServiceError.badBenchmark(line: number, detail: "lang must be \"zh\" or \"en\", got \"\(c.lang)\"") }
        guard !c.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ServiceError.badBenchmark(line: number, detail: "the question is empty") }
        if c.expect == .answer && c.facts.isEmpty { throw ServiceError.badBenchmark(line: number, detail: "an \"answer\" case needs at least one fact") }
        if let bad = (c.facts + c.wrong).first(where: { $0.isEmpty || $0.contains { $0.isEmpty } }) {
            throw ServiceError.badBenchmark(line: number, detail: "a fact or wrong value has an empty surface form: \(bad)")
        }
        return c
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, _): "missing key '\(k.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c):
            c.codingPath.isEmpty ? "not a JSON object" : "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        default: error.localizedDescription
        }
    }
}

/// How one reply scored.
public struct SupportVerdict: Sendable, Codable, Equatable {
    public enum Grade: String, Sendable, Codable, CaseIterable {
        /// Every fact, no wrong value, only the customer's language (or the expected clarify / handoff / refusal).
        case right
        /// Some facts, or every fact in a reply that mixes in another language.
        case partly
        /// A wrong value, no fact, the other language, or an answer where none was due.
        case wrong
        /// Not answered: out of scope, the documents' refusal, a handoff or a question back.
        case refused
    }
    public var grade: Grade
    /// Why, for the list of misses ("missing 20万 | 200,000", "mixes in 'closed'").
    public var detail: String
}

/// Scores replies of the customer-service pipeline against `SupportCase`s.
public enum SupportScorer {
    /// Case-insensitive, without spaces and without thousands separators, so "RMB 200,000",
    /// "200000" and "20 万" compare as written in the facts.
    public static func normalise(_ s: String) -> String {
        var out = ""
        let chars = Array(s.lowercased())
        for (i, ch) in chars.enumerated() {
            if ch.isWhitespace { continue }
            if ch == ",", i > 0, chars[i - 1].isNumber, i + 3 < chars.count, chars[(i + 1)...(i + 3)].allSatisfy(\.isNumber),
               i + 4 == chars.count || !chars[i + 4].isNumber { continue }
            out.append(ch)
        }
        return out
    }

    static func contains(_ reply: String, any forms: [String]) -> Bool {
        let r = normalise(reply)
        return forms.contains { r.contains(normalise($0)) }
    }

    public static func score(_ c: SupportCase, path: ServiceAnswer.Path, reply: String) -> SupportVerdict {
        let answered: Set<ServiceAnswer.Path> = [.model, .template, .noRows, .knowledge]
        switch c.expect {
        case .refuse:
            return answered.contains(path) ? .init(grade: .wrong, detail: "answered an out-of-scope message (\(path.rawValue))")
                                           : .init(grade: .right, detail: path.rawValue)
        case .clarify, .handoff:
            let want: ServiceAnswer.Path = c.expect == .clarify ? .clarify : .handoff
            if path == want {
                return ReplyLanguage.matches(reply, language: c.lang) ? .init(grade: .right, detail: path.rawValue)
                                                                      : .init(grade: .wrong, detail: "\(path.rawValue) in the other language")
            }
            return answered.contains(path) ? .init(grade: .wrong, detail: "answered instead of \(want.rawValue) (\(path.rawValue))")
                                           : .init(grade: .refused, detail: path.rawValue)
        case .answer:
            guard answered.contains(path) else { return .init(grade: .refused, detail: path.rawValue) }
            if let w = c.wrong.first(where: { contains(reply, any: $0) }) {
                return .init(grade: .wrong, detail: "states a wrong value: \(w.joined(separator: " | "))")
            }
            if !ReplyLanguage.matches(reply, language: c.lang) {
                return .init(grade: .wrong, detail: "the reply is not in \(c.lang)")
            }
            let missing = c.facts.filter { !contains(reply, any: $0) }
            if missing.count == c.facts.count {
                return .init(grade: .wrong, detail: "none of the facts: " + missing.map { $0.joined(separator: " | ") }.joined(separator: "; "))
            }
            let foreign = ReplyLanguage.foreignText(in: reply, language: c.lang)
            if missing.isEmpty && foreign == nil { return .init(grade: .right, detail: "") }
            var why: [String] = missing.map { "missing " + $0.joined(separator: " | ") }
            if let f = foreign { why.append("mixes in '\(f)'") }
            return .init(grade: .partly, detail: why.joined(separator: "; "))
        }
    }
}
