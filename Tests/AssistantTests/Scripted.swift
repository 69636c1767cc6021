import Foundation
@testable import Assistant
import Prompts

/// A generator that replies with scripted texts in order and remembers every request it got,
/// so tests can assert on the exact prompt the model would have seen.
final class ScriptedGenerator: TextGenerator, @unchecked Sendable {
    let modelID = "scripted-model"
    private let lock = NSLock()
    private var replies: [String]
    private(set) var requests: [GenerationRequest] = []

    init(_ replies: [String]) { self.replies = replies }

    func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        let text = lock.withLock { () -> String in
            requests.append(request)
            return replies.isEmpty ? "" : replies.removeFirst()
        }
        // Stream word by word, honouring cancellation like the real engine.
        var produced = ""
        for piece in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init).enumerated().map({ $0.offset == 0 ? $0.element : " " + $0.element }) {
            produced += piece
            if !onPiece(piece) {
                return GenerationResult(text: produced, promptTokens: 10, generatedTokens: produced.count, promptSeconds: 0, generationSeconds: 0, stopReason: .cancelled)
            }
        }
        return GenerationResult(text: text, promptTokens: request.messages.map(\.content.count).reduce(0, +),
                                generatedTokens: text.count, promptSeconds: 0, generationSeconds: 0, stopReason: .endOfSequence)
    }

    var lastPrompt: String { requests.last?.messages.map(\.content).joined(separator: "\n") ?? "" }
}

/// A small retriever over fixed passages: keyword overlap ranking, with access groups applied
/// before ranking (a passage with groups is visible only to callers sharing one of them).
struct FixtureRetriever: Retriever {
    struct Entry { var passage: RetrievedPassage; var groups: [String] }
    let entries: [Entry]
    /// Queries seen, for follow-up tests.
    let log = QueryLog()
    final class QueryLog: @unchecked Sendable { var queries: [String] = [] }

    func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] {
        log.queries.append(query)
        let q = TextAnalysis.keyTerms(query)
        return entries
            .filter { $0.groups.isEmpty || !Set($0.groups).isDisjoint(with: groups) }
            .map { e -> RetrievedPassage in
                var p = e.passage
                p.score = TextAnalysis.coverage(q, in: TextAnalysis.keyTerms(p.headingPath + " " + p.text))
                return p
            }
            .filter { $0.score > 0 }
            .sorted { $0.score > $1.score }
            .prefix(k).map { $0 }
    }
}

enum Fixtures {
    /// The mobile-banking transfer limits table: three rows whose values compete for one question
    /// (the face-verification case).
    static let transferLimits = """
        ## What are the transfer limits?

        | Verification | Per transaction | Per day |
        |---|---|---|
        | SMS code | RMB 50,000 | RMB 50,000 |
        | Face verification | RMB 200,000 | RMB 200,000 |
        | Harbor Shield (Bluetooth token) | RMB 500,000 | RMB 500,000 |
        """

    static func passage(_ id: Int64, _ path: String, _ heading: String, _ text: String, lines: (Int, Int) = (1, 5)) -> RetrievedPassage {
        RetrievedPassage(chunkID: id, documentPath: path, headingPath: heading, text: text, startLine: lines.0,
                         endLine: lines.1, charStart: Int(id) * 100, charEnd: Int(id) * 100 + text.count, score: 0)
    }

    static let retriever = FixtureRetriever(entries: [
        .init(passage: passage(11, "Knowledge/policies/refunds.md", "Refunds › Card refunds",
                               "Card refunds are returned to the original card within 5 working days. Refunds above 500 EUR need a manager's approval.",
                               lines: (12, 30)), groups: []),
        .init(passage: passage(12, "Knowledge/policies/refunds.md", "Refunds › Cash refunds",
                               "Cash refunds are paid at the counter on the same day.", lines: (31, 40)), groups: []),
        .init(passage: passage(21, "Knowledge/hr/salaries.md", "Salaries › Bands",
                               "The salary band for senior engineers is 90000 to 120000 EUR. Salary reviews happen in March.",
                               lines: (3, 9)), groups: ["hr"]),
        .init(passage: passage(31, "Knowledge/policies/退款.md", "退款 › 信用卡退款",
                               "信用卡退款在5个工作日内退回原卡。超过500元的退款需要经理批准。", lines: (2, 6)), groups: []),
    ])

    static var pack: PromptPack {
        get throws { try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "kb-qa") }
    }
}
