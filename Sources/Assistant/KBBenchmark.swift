import Foundation

/// One question of the knowledge-base answers benchmark (`bench/kbqa/dev.jsonl`): a fact is a
/// list of acceptable surface forms ("200000", "20万"); a wrong form present makes the answer wrong.
public struct KBQuestion: Sendable, Codable, Equatable {
    public var id: String
    public var lang: String
    public var question: String
    public var covered: Bool
    public var restricted: Bool
    public var facts: [[String]]
    public var wrong: [[String]]
    public var source: String
    public var note: String

    /// Reads one JSON object per line; every error names the file and line.
    public static func load(_ path: String) throws -> [KBQuestion] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AssistantError.input("cannot read \(path) — check the path (e.g. bench/kbqa/dev.jsonl)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var out: [KBQuestion] = [], ids = Set<String>()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            let q: KBQuestion
            do { q = try JSONDecoder().decode(KBQuestion.self, from: Data(t.utf8)) } catch {
                throw AssistantError.input("\(path) line \(n + 1): not a benchmark question — each line needs id, lang, question, covered, restricted, facts, wrong, source, note (\(error.localizedDescription))")
            }
            guard ids.insert(q.id).inserted else { throw AssistantError.input("\(path) line \(n + 1): duplicate id '\(q.id)'") }
            guard !q.covered || !q.facts.isEmpty else {
                throw AssistantError.input("\(path) line \(n + 1): covered question '\(q.id)' has no facts to check")
            }
            out.append(q)
        }
        if out.isEmpty { throw AssistantError.input("\(path) holds no questions") }
        return out
    }
}

/// How an answer is scored against a `KBQuestion`.
public enum KBScore: String, Sendable, Codable {
    case correct, wrong, refused
}

public enum KBScoring {
    /// Lower-cased, spaces removed, and thousands separators between digits removed
    /// ("RMB 200,000" → "rmb200000"), so surface forms compare as the benchmark's rule says.
    public static func normalize(_ s: String) -> String {
        let chars = Array(s.lowercased())
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isWhitespace { continue }
            if c == "," || c == "，", i > 0, i + 1 < chars.count, chars[i - 1].isNumber, chars[i + 1].isNumber { continue }
            out.append(c)
        }
        return out
    }

    /// The forms of `facts` that `answer` holds none of (each fact is a list of alternatives).
    public static func missing(_ facts: [[String]], in answer: String) -> [[String]] {
        let a = normalize(answer)
        return facts.filter { forms in !forms.contains { !normalize($0).isEmpty && a.contains(normalize($0)) } }
    }

    /// The wrong forms `answer` states.
    public static func wrongForms(_ wrong: [[String]], in answer: String) -> [String] {
        let a = normalize(answer)
        return wrong.flatMap { $0 }.filter { !normalize($0).isEmpty && a.contains(normalize($0)) }
    }

    /// correct: every fact present and no wrong form; refused: the refusal; wrong: anything else.
    public static func score(_ q: KBQuestion, answer: String, refused: Bool) -> KBScore {
        if refused { return .refused }
        return missing(q.facts, in: answer).isEmpty && wrongForms(q.wrong, in: answer).isEmpty && q.covered ? .correct : .wrong
    }
}
