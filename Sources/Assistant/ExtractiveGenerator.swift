import Foundation

/// A baseline "model" that copies the source sentence best covering the question, cited as [n].
/// It needs no weights, so `strata ask --model extractive` works on any machine, and `eval qa`
/// can measure retrieval, gate and support check apart from the language model.
///
/// It reads the numbered sources from the last user message, as the packs render them: a line
/// starting with `[n]` opens source n, and its rest and the following lines up to a blank line,
/// the next source or the question are its text; the question is the line labelled
/// `Question:` / `问题：` (else the last non-empty line).
public struct ExtractiveGenerator: TextGenerator {
    public let modelID = "extractive-baseline"
    /// Below this share of the question's key terms, it answers nothing (the pipeline then refuses).
    public var minCoverage: Double

    /// The share of the question's key terms below which it answers nothing by default.
    public static let defaultMinCoverage = 0.3

    public init(minCoverage: Double = defaultMinCoverage) { self.minCoverage = minCoverage }

    public func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        let user = request.messages.last { $0.role == .user }?.content ?? ""
        let lines = user.components(separatedBy: "\n")
        let labelled = lines.first { $0.hasPrefix("Question:") || $0.hasPrefix("问题：") || $0.hasPrefix("Customer:") || $0.hasPrefix("客户：") }
        let question = labelled ?? lines.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        var sources: [(number: Int, text: String)] = []
        var current: Int? = nil
        for line in lines {
            var trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || line == labelled { current = nil; continue }
            if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]"),
               let n = Int(trimmed[trimmed.index(after: trimmed.startIndex)..<close]) {
                current = n
                trimmed = trimmed[trimmed.index(after: close)...].trimmingCharacters(in: .whitespaces)
            }
            guard let n = current, !trimmed.isEmpty else { continue }
            sources.append((n, trimmed))
        }
        let asked = question.split(maxSplits: 1, whereSeparator: { $0 == ":" || $0 == "：" }).last.map(String.init) ?? question
        let best = Self.bestSentence(question: asked, quantity: Self.asksForQuantity(question), sources: sources)
        var text = ""
        // The bonus ranks; only the question's own terms decide whether anything answers at all.
        if let best, best.coverage >= minCoverage { text = "\(best.sentence) [\(best.source)]" }
        var cancelled = false
        if !text.isEmpty { cancelled = !onPiece(text) }
        return GenerationResult(text: text, promptTokens: user.count, generatedTokens: text.count, promptSeconds: 0,
                                generationSeconds: 0, stopReason: cancelled ? .cancelled : .endOfSequence)
    }

    /// The sentence of `sources` that best covers the question's key terms, a number counting
    /// `numberBonus` more when the question asks for a quantity; nil when no sentence shares a
    /// term with it. Also the agreement check's reading of the passages (KnowledgeQA).
    /// `split: false` takes each source text as one unit (a table row, a record).
    static func bestSentence(question: String, quantity: Bool, sources: [(number: Int, text: String)], split: Bool = true)
        -> (sentence: String, source: Int, coverage: Double)? {
        let qTerms = TextAnalysis.keyTerms(question)
        var best: (sentence: String, source: Int, score: Double, coverage: Double)? = nil
        for (n, text) in sources {
            for s in split ? TextAnalysis.sentences(text) : [text] {
                let coverage = TextAnalysis.coverage(qTerms, in: TextAnalysis.keyTerms(s))
                let score = coverage + (quantity && s.contains(where: \.isNumber) ? numberBonus : 0)
                if coverage > 0, score > (best?.score ?? 0) { best = (s, n, score, coverage) }
            }
        }
        return best.map { ($0.sentence, $0.source, $0.coverage) }
    }

    /// How much a number in a sentence counts when the question asks for a quantity or a time.
    static let numberBonus = 0.25

    /// "How long does a refund take?", "退款需要几天？": the answer holds a number, and a sentence
    /// that merely echoes the question's words ("this policy explains how long refunds take")
    /// does not answer it.
    static func asksForQuantity(_ question: String) -> Bool {
        let q = question.lowercased()
        let en = ["how long", "how much", "how many", "how soon", "how often", "what time", "when ", "what is the fee",
                  "what is the rate", "what percentage", "what year", "how old", "deadline"]
        let zh = ["几", "多少", "多久", "多长", "多高", "多大", "什么时候", "何时", "哪一年", "期限", "利率", "费用"]
        return en.contains { q.contains($0) } || zh.contains { q.contains($0) }
    }
}
