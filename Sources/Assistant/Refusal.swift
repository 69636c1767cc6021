import Foundation
import Knowledge

/// Why an answer became the refusal sentence.
public enum RefusalReason: String, Sendable, Codable {
    /// Layer 1: nothing the caller may see was retrieved.
    case noPassages = "no-passages"
    /// Layer 1: the best passage scored below the pack's min_evidence.
    case lowScore = "low-score"
    /// Layer 1: no passage holds enough of the question's key terms.
    case lowCoverage = "low-coverage"
    /// Before generation: the model file declares the languages it reads, and the question's
    /// is not one of them (SmolLM2-135M: English only).
    case modelLanguage = "model-language"
    /// Layer 2: the model answered with the refusal sentence.
    case modelDeclined = "model-declined"
    /// Layer 3: no sentence of the answer was supported by a cited passage.
    case unsupported = "unsupported"
    /// Layer 3, agreement check: the answer's values are not those of the
    /// sentence of the sources that best matches the question, or it states none.
    case disagrees = "disagrees"
    /// The model produced nothing (or generation was cancelled before any text).
    case empty = "empty"
}

/// Refusal layer 1: decides from retrieval alone whether there is evidence worth generating from.
public struct EvidenceGate: Sendable {
    public var minScore: Double
    public var minCoverage: Double
    /// A passage whose cosine to the question reaches this passes the gate whatever its term
    /// coverage (0: off). Customers paraphrase: "What documents do I need to open an account?"
    /// holds 25% of its terms in the passage that answers it, and meaning survives that.
    public var minDense: Double

    public init(minScore: Double, minCoverage: Double, minDense: Double = 0) {
        self.minScore = minScore; self.minCoverage = minCoverage; self.minDense = minDense
    }

    public struct Decision: Sendable, Equatable {
        public var pass: Bool
        public var reason: RefusalReason?
        public var detail: String
        /// What it measured: the best passage's share of the question's key terms (nil: no key
        /// terms or no passage), and the best dense cosine (nil without vectors).
        public var coverage: Double? = nil
        public var bestDense: Double? = nil
    }

    /// The share of the question's key terms found in its best passage (nil: no key terms, or
    /// no passage) — the statistic `minCoverage` is a threshold on, exposed for calibration.
    public static func coverage(query: String, passages: [RetrievedPassage]) -> Double? {
        let terms = TextAnalysis.keyTerms(query)
        guard !terms.isEmpty, !passages.isEmpty else { return nil }
        return passages.map { TextAnalysis.coverage(terms, in: TextAnalysis.keyTerms($0.headingPath + " " + $0.text)) }.max()
    }

    public func decide(query: String, passages: [RetrievedPassage]) -> Decision {
        guard let best = passages.map(\.score).max() else {
            return Decision(pass: false, reason: .noPassages, detail: "no passage visible to your groups matched the question")
        }
        let measured = Self.coverage(query: query, passages: passages)
        let bestDense = passages.compactMap(\.denseScore).max()
        func decision(_ pass: Bool, _ reason: RefusalReason?, _ detail: String) -> Decision {
            Decision(pass: pass, reason: reason, detail: detail, coverage: measured, bestDense: bestDense)
        }
        if minScore > 0, best < minScore {
            return decision(false, .lowScore, String(format: "best retrieval score %.3f is below the pack's min_evidence %.3f", best, minScore))
        }
        let cover = measured ?? 0
        // The cosine is evidence only where the encoder reads the language: MiniLM maps Chinese
        // to a few shared pieces, and on the answers benchmark any two Chinese texts score
        // 0.4–0.75 (covered and uncovered questions alike), so a Chinese question relies on its terms.
        let dense = ReciprocalRankFusion.hanShare(query) <= 0.5 ? bestDense ?? 0 : 0
        // nil coverage: the question has no key terms, so there is nothing to count.
        if minCoverage > 0, measured != nil, cover < minCoverage, !(minDense > 0 && dense >= minDense) {
            return decision(false, .lowCoverage,
                            String(format: "the best passage holds %.0f%% of the question's key terms; the pack needs %.0f%%", cover * 100, minCoverage * 100)
                                + (minDense > 0 ? String(format: " (or a cosine of %.2f to the question; the best is %.2f)", minDense, dense) : ""))
        }
        return decision(true, nil, String(format: "best score %.3f, key-term coverage %.0f%%", best, cover * 100))
    }
}

/// What the support check (refusal layer 3) concluded about one sentence of an answer.
public struct SentenceVerdict: Sendable, Codable, Equatable {
    public var text: String
    /// Source numbers the sentence cites itself (only those that exist).
    public var cited: [Int]
    /// The source it is attributed to: its best cited source, or the best-supporting one when it cites none.
    public var source: Int?
    /// Share of the sentence's key terms found in that source.
    public var lexical: Double
    /// Cosine similarity with that source, when an embedder was given.
    public var semantic: Double?
    public var supported: Bool
    /// Why it was judged unsupported (or a note, e.g. a citation to a source that does not exist).
    public var note: String?
    /// Sentences with no content terms ("Yes.") are kept but do not count as support.
    public var neutral: Bool
    /// The sentence cited a source that does not support it, and another source does: its
    /// citation is rewritten to that source.
    public var reattributed: Bool = false
    /// Unsupported only because a value it states comes from a part of the source about another
    /// subject than the question's (SubjectTie): `eval kb` counts what this rule catches.
    public var untied: Bool = false
    /// Unsupported because it states a number or name that neither its source nor the question holds.
    public var invented: Bool = false
}

/// Refusal layer 3: every sentence must be backed by a passage — lexical overlap (bigrams for
/// Chinese, words for English), embedding similarity when an embedder is given, and every
/// number and proper name it states present in the passage it relies on.
public struct SupportChecker: Sendable {
    /// A sentence is supported when this share of its key terms appears in its source…
    public var minLexical: Double = 0.5
    /// …or when its embedding similarity reaches this and its overlap is at least `minLexicalWithSemantic`.
    public var minSemantic: Double = 0.7
    public var minLexicalWithSemantic: Double = 0.2
    public var embedder: (any TextEmbedder)?

    public init(embedder: (any TextEmbedder)? = nil) { self.embedder = embedder }

    /// `question`, when given, is what the answer answers: a value or name it gave is not one the
    /// answer made up (`SentenceVerdict.invented`), and with `tieSubjects` each stated value is
    /// tied to the part of its source about the question's subject (SubjectTie).
    public func check(_ answer: String, passages: [RetrievedPassage], question: String? = nil,
                      tieSubjects: Bool = true) throws -> [SentenceVerdict] {
        let askedFolded = question?.lowercased() ?? ""
        let askedNumbers = Set(question.map(TextAnalysis.numbers) ?? [])
        let tieQuestion = tieSubjects ? question : nil
        let passageTerms = passages.map { TextAnalysis.keyTerms($0.headingPath + " " + $0.text) }
        let passageNumbers = passages.map { Set(TextAnalysis.numbers($0.text)) }
        let passageFolded = passages.map { ($0.headingPath + " " + $0.text).lowercased() }
        // Split once per passage (not per sentence and source) for the subject tie.
        let tieSources = tieQuestion == nil ? [] : passages.map(SubjectTie.Source.init)
        let sentences = TextAnalysis.sentences(answer)
        var sims: [[Double]]? = nil
        if let embedder, !sentences.isEmpty, !passages.isEmpty {
            let vecs = try embedder.embed(sentences.map(TextAnalysis.stripCitations) + passages.map(\.text))
            sims = sentences.indices.map { i in
                passages.indices.map { j in zip(vecs[i], vecs[sentences.count + j]).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
            }
        }
        let all = Array(passages.indices.map { $0 + 1 })
        return sentences.enumerated().map { i, sentence in
            let allCited = TextAnalysis.citations(sentence)
            let cited = allCited.filter { all.contains($0) }
            var note: String? = allCited.first(where: { !all.contains($0) })
                .map { "cites [\($0)], which is not one of the \(passages.count) sources" }
            let plain = TextAnalysis.stripCitations(sentence)
            // Small models often copy a source's header line ("[1] Refunds > Card refunds"):
            // it is not an answer, even though every word of it is in the source.
            let key = TextAnalysis.normalized(plain)
            if !key.isEmpty, let echoed = passages.firstIndex(where: {
                let heading = TextAnalysis.normalized($0.headingPath)
                return key == heading || key == TextAnalysis.normalized($0.headingPath + $0.documentPath)
                    || ($0.documentPath.count >= 8 && key.contains(TextAnalysis.normalized($0.documentPath)))
            }) {
                return SentenceVerdict(text: sentence, cited: cited, source: echoed + 1, lexical: 0, semantic: nil,
                                       supported: false, note: "repeats the header of source [\(echoed + 1)], not an answer", neutral: true)
            }
            // A sentence that states nothing, however well its words are supported: a decline in
            // the model's own words, a question copied back, a pointer to a source, a remark on one.
            if let why = TextAnalysis.notAnAnswer(plain) {
                return SentenceVerdict(text: sentence, cited: cited, source: cited.first, lexical: 0, semantic: nil,
                                       supported: false, note: why, neutral: true)
            }
            let terms = TextAnalysis.keyTerms(plain)
            let numbers = TextAnalysis.numbers(plain)
            let names = TextAnalysis.names(plain)
            if terms.isEmpty && numbers.isEmpty {
                return SentenceVerdict(text: sentence, cited: cited, source: cited.first, lexical: 0, semantic: nil,
                                       supported: true, note: note, neutral: true)
            }
            func judge(_ n: Int) -> (lex: Double, sem: Double?, ok: Bool, invented: String?, untied: [String], madeUp: Bool) {
                let lex = TextAnalysis.coverage(terms, in: passageTerms[n - 1])
                let sem = sims.map { $0[i][n - 1] }
                // A stated number or name the source does not hold was made up, however much of
                // the rest of the sentence is copied ("… was from the English city of London").
                let unheldNumbers = numbers.filter { !passageNumbers[n - 1].contains($0) }
                let unheldNames = names.filter { !TextAnalysis.mentions(folded: passageFolded[n - 1], name: $0) }
                let invented = unheldNumbers.first ?? unheldNames.first
                let termsOK = lex >= minLexical || ((sem ?? 0) >= minSemantic && lex >= minLexicalWithSemantic)
                // A number the source holds, but in the row or sentence about something else.
                let untied = termsOK && invented == nil && !numbers.isEmpty
                    ? tieQuestion.map { SubjectTie.untied(sentence: sentence, question: $0, source: tieSources[n - 1]) } ?? [] : []
                // Made up by the reply: in neither the source nor the question ("5,000 USD" asked about).
                let madeUp = termsOK && (unheldNumbers.contains { !askedNumbers.contains($0) }
                    || unheldNames.contains { !TextAnalysis.mentions(folded: askedFolded, name: $0) })
                return (lex, sem, termsOK && invented == nil && untied.isEmpty, termsOK ? invented : nil, untied, madeUp)
            }
            let judged = all.map(judge)   // once per source: ranking compares them many times
            func rank(_ ns: [Int]) -> Int? {
                ns.max { a, b in
                    let x = judged[a - 1], y = judged[b - 1]
                    return (x.ok ? 1 : 0, x.lex + (x.sem ?? 0)) < (y.ok ? 1 : 0, y.lex + (y.sem ?? 0))
                }
            }
            guard let anyBest = rank(all) else {
                return SentenceVerdict(text: sentence, cited: [], source: nil, lexical: 0, semantic: nil,
                                       supported: false, note: note ?? "there are no sources to support it", neutral: false)
            }
            // Cited sources first; small models cite the wrong number often enough that a
            // sentence another source fully supports is re-attributed rather than dropped.
            var source = cited.isEmpty ? anyBest : rank(cited)!
            var keptCitations = cited
            if !cited.isEmpty, !judged[source - 1].ok, judged[anyBest - 1].ok {
                note = "cites \(cited.map { "[\($0)]" }.joined()) but [\(anyBest)] supports it; re-attributed"
                source = anyBest
                keptCitations = [anyBest]
            }
            let v = judged[source - 1]
            if !v.ok {
                let why = v.invented.map { "\($0.first!.isNumber ? "the number" : "the name") \($0) does not appear in [\(source)]" }
                    ?? (v.untied.isEmpty ? nil : "\(v.untied.joined(separator: ", ")) is in [\(source)], but in a row or sentence about something else than the question; another one there is about it")
                    ?? String(format: "only %.0f%% of its key terms appear in [%d]", v.lex * 100, source)
                note = note.map { "\($0); \(why)" } ?? why
            }
            return SentenceVerdict(text: sentence, cited: keptCitations, source: source, lexical: v.lex, semantic: v.sem,
                                   supported: v.ok, note: note, neutral: false, reattributed: keptCitations != cited,
                                   untied: !v.untied.isEmpty, invented: v.madeUp)
        }
    }
}
