import Foundation
import Prompts

/// A conversation over the knowledge base: remembers recent turns, makes follow-up questions
/// standalone for retrieval, and handles the slash commands of `strata chat`.
public final class ChatSession {
    public var qa: KnowledgeQA
    public let library: PackLibrary
    public let groups: [String]
    public var adapter: String?
    public var layers = RefusalLayers()
    /// Earlier turns (question as typed, final answer text), oldest first.
    public private(set) var turns: [(question: String, retrievalQuery: String, answer: String)] = []
    public private(set) var lastAnswer: Answer?
    /// Turns replayed to the model; small models lose the thread in long prompts.
    public var historyTurns = 2

    public init(qa: KnowledgeQA, library: PackLibrary, groups: [String], adapter: String? = nil) {
        self.qa = qa; self.library = library; self.groups = groups; self.adapter = adapter
    }

    /// What `handle` produced for one input line.
    public enum Reply {
        case answer(Answer)
        /// Output of a slash command.
        case info(String)
        /// `/quit` or `/exit`.
        case quit
    }

    public static let help = """
    Type a question, or:
      /sources        the sources of the last answer
      /pack NAME      switch prompt pack
      /adapter NAME   use an L2 adapter (/adapter none for the base model)
      /groups         the access groups you are asking as
      /reset          forget the conversation
      /help           this list
      /quit           leave (or Ctrl-D); Ctrl-C cancels an answer being generated
    """

    public func handle(_ line: String, onStage: (AskStage) -> Void = { _ in },
                       onPiece: (String) -> Bool = { _ in true }) throws -> Reply {
        let input = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if input.isEmpty { return .info("") }
        guard input.hasPrefix("/") else { return .answer(try ask(input, onStage: onStage, onPiece: onPiece)) }
        let parts = input.split(separator: " ", maxSplits: 1).map(String.init)
        let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch parts[0] {
        case "/help": return .info(Self.help)
        case "/quit", "/exit": return .quit
        case "/reset":
            turns = []; lastAnswer = nil
            return .info("conversation forgotten")
        case "/groups":
            return .info(groups.isEmpty ? "asking with no groups: only public passages are visible (restart with --as GROUPS)"
                                        : "asking as: \(groups.joined(separator: ", "))")
        case "/sources":
            guard let a = lastAnswer else { return .info("no answer yet") }
            if a.refused { return .info("the last answer was a refusal, so it cites nothing (\(a.explanation))") }
            return .info(Self.sourcesList(a))
        case "/pack":
            guard !arg.isEmpty else { return .info("current pack: \(qa.pack.name) — give a name: /pack NAME") }
            qa.pack = try library.pack(named: arg)
            return .info("pack: \(qa.pack.name)")
        case "/adapter":
            guard !arg.isEmpty else { return .info("current adapter: \(adapter ?? qa.pack.adapter ?? "none") — give a name: /adapter NAME") }
            adapter = arg
            return .info(arg == "none" ? "adapter: none (base model)" : "adapter: \(arg)")
        default:
            return .info("unknown command \(parts[0]) — /help lists the commands")
        }
    }

    /// Asks `question` in the context of the conversation.
    public func ask(_ question: String, onStage: (AskStage) -> Void = { _ in },
                    onPiece: (String) -> Bool = { _ in true }) throws -> Answer {
        var options = AskOptions()
        options.groups = groups
        options.layers = layers
        options.adapter = adapter
        let previous = turns.last?.retrievalQuery
        let query = Self.standaloneQuery(question, previous: previous)
        options.retrievalQuery = query
        options.history = turns.suffix(historyTurns).flatMap {
            [ChatMessage(.user, $0.question), ChatMessage(.assistant, $0.answer)]
        }
        let answer = try qa.ask(question, options: options, onStage: onStage, onPiece: onPiece)
        turns.append((question, query, answer.text))
        lastAnswer = answer
        return answer
    }

    static let followUpOpeners = ["and ", "what about", "how about", "also ", "but ", "same for", "那", "还有", "那么", "另外", "如果是"]
    static let pronouns: Set<String> = ["it", "that", "this", "they", "them", "those", "these", "its"]

    /// A follow-up ("and for credit cards?", "那信用卡呢？") gets the previous question's key terms
    /// appended, so retrieval sees the topic the user is still talking about.
    public static func standaloneQuery(_ question: String, previous: String?) -> String {
        guard let previous, !previous.isEmpty else { return question }
        let lower = question.lowercased().trimmingCharacters(in: .whitespaces)
        let words = lower.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        let terms = TextAnalysis.keyTerms(question)
        let isFollowUp = followUpOpeners.contains { lower.hasPrefix($0) }
            || lower.hasSuffix("呢？") || lower.hasSuffix("呢?") || lower.hasSuffix("呢")
            || words.contains { pronouns.contains($0) }
            || terms.count <= 2
        guard isFollowUp else { return question }
        let have = Set(TextAnalysis.keyTerms(question))
        let carried = TextAnalysis.contentWords(previous).filter { !TextAnalysis.keyTerms($0).isSubset(of: have) }
        return carried.isEmpty ? question : question + " " + carried.joined(separator: " ")
    }

    /// The Sources list printed under an answer.
    public static func sourcesList(_ a: Answer) -> String {
        a.citations.map { "[\($0.number)] \($0.label)" }.joined(separator: "\n")
    }
}
