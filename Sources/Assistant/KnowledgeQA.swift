import Foundation
import Prompts
import Knowledge

/// A source the final answer cites, with everything needed to find it again.
public struct Citation: Sendable, Codable, Equatable {
    /// The [n] used in the answer text.
    public var number: Int
    public var chunkID: Int64
    public var path: String
    public var heading: String
    public var startLine: Int
    public var endLine: Int
    public var charStart: Int
    public var charEnd: Int

    /// `Knowledge/policies/refunds.md › Card refunds (lines 12–30)`
    public var label: String {
        // A business record has no lines: its table file and key name it.
        "\(path)\(heading.isEmpty ? "" : " › \(heading)")" + (startLine > 0 ? " (lines \(startLine)–\(endLine))" : "")
    }
}

/// Which refusal layers run; each can be switched off to measure what it contributes.
public struct RefusalLayers: Sendable, Equatable {
    public var evidenceGate = true
    public var promptRule = true
    public var supportCheck = true
    /// With the support check on: drop unsupported sentences (true) or keep them flagged (false).
    public var dropUnsupported = true
    /// With the support check on: each stated value must come from the part of its source about
    /// the question's subject (SubjectTie).
    public var subjectTie = true
    /// With the support check on: the answer must state a value the question did not, and only
    /// values that the line of the sources best matching the question states (a model-free
    /// reading of the same passages). Measured on the dev questions (`bench/kbqa`), it turns most
    /// wrong answers into refusals at the cost of some right ones: Qwen2.5-1.5B, 100 questions,
    /// covered right 0.24 → 0.14, wrong 0.14 → 0.02, uncovered refused 0.73 → 0.88. For a bank a
    /// wrong figure with a citation is the worst answer there is, so it is on by default.
    public var agreement = true
    public init() {}
    public static let none: RefusalLayers = { var l = RefusalLayers(); l.evidenceGate = false; l.promptRule = false; l.supportCheck = false; return l }()
}

extension RefusalLayers: CustomStringConvertible {
    /// "gate+prompt+support-check", "none", or a subset; "support-check(flag)" when unsupported
    /// sentences are kept and flagged rather than dropped.
    public var description: String {
        let on = [evidenceGate ? "gate" : nil, promptRule ? "prompt" : nil,
                  supportCheck ? (dropUnsupported ? "support-check" : "support-check(flag)") : nil,
                  supportCheck && agreement ? "agreement" : nil].compactMap { $0 }
        return on.isEmpty ? "none" : on.joined(separator: "+")
    }
}

/// Per-question options.
public struct AskOptions: Sendable {
    public var groups: [String] = []
    public var layers = RefusalLayers()
    /// Overrides the pack's k.
    public var k: Int?
    /// Overrides the pack's default adapter ("none" for the base model).
    public var adapter: String?
    /// What to retrieve with when it differs from the question (a chat follow-up made standalone).
    public var retrievalQuery: String?
    /// Earlier turns, put before the new question.
    public var history: [ChatMessage] = []
    public var seed: UInt64 = 42
    /// Consult `KnowledgeQA.records` first (a question naming one business record exactly).
    public var records = true
    public init() {}
}

/// Timings of one answer, in seconds: retrieval (with the query's embedding), reading the prompt
/// (the model's prompt evaluation), writing the reply, the support check, and all of it.
public struct AnswerTimings: Sendable, Codable, Equatable {
    public var retrieval = 0.0, prompt = 0.0, generation = 0.0, check = 0.0, total = 0.0

    /// "retrieve 0.12 s, read prompt 3.10 s, write 4.20 s, check 0.31 s, total 7.80 s"
    public var summary: String {
        String(format: "retrieve %.2f s, read prompt %.2f s, write %.2f s, check %.2f s, total %.2f s",
               retrieval, prompt, generation, check, total)
    }
}

/// Where `ask` is, for a progress line on a terminal (the draft itself is never shown as the answer).
public enum AskStage: Sendable, Equatable {
    case retrieving
    case reading(passages: Int)
    case checking
}

/// The outcome of one question.
public struct Answer: Sendable, Codable {
    public var question: String
    public var language: String
    /// The final text: supported sentences (with citations), or the refusal sentence.
    public var text: String
    /// What the model wrote before the support check.
    public var draft: String
    public var refused: Bool
    public var refusalReason: RefusalReason?
    /// Human-readable explanation of the refusal or the gate decision.
    public var explanation: String
    /// Empty when refused: a refused answer never cites.
    public var citations: [Citation]
    public var sentences: [SentenceVerdict]
    /// The passages put in the prompt, numbered from 1.
    public var passages: [RetrievedPassage]
    public var pack: String
    public var model: String
    public var adapter: String?
    public var promptTokens: Int
    public var generatedTokens: Int
    public var timings: AnswerTimings
    public var cancelled: Bool
    /// What the evidence gate measured on the retrieved passages (before focusing): the share of
    /// the question's key terms in the best passage, and the best dense cosine (nil without vectors).
    public var coverage: Double? = nil
    public var bestDense: Double? = nil
    /// Answering by quotation (pack generation.mode "select"): the model's reply, which points
    /// at the lines quoted as the answer, and how they were chosen when not as it named them.
    public var selection: String? = nil
    public var selectionNote: String? = nil
}

/// The grounded knowledge-base Q&A pipeline: language → retrieval → evidence gate → prompt →
/// generation (streamed) → support check → answer with sources → audit.
public struct KnowledgeQA: Sendable {
    /// The revision of what the pipeline decides around the model: prompt assembly, the refusal
    /// layers, the support check, the focus on the answer. `eval qa --records` stores it, so a
    /// multi-session table never mixes answers of two revisions. Bump it with any change that can
    /// alter what `ask` prints for the same retrieved passages and model output. (Pack edits need
    /// no bump: records carry the pack's digest.)
    /// 1: the support check catches invented names and refusals in the model's own words.
    /// 2: the agreement check, and no question in a language the model does not read.
    /// 3: the agreement check holds an answer with no value where its line states one, whatever the question.
    /// 4: a question naming one business record exactly is answered from its lookup (`records`);
    ///    a sentence saying where the answer is instead of giving it is no answer.
    public static let revision = 4


    public var pack: PromptPack
    public var retriever: any Retriever
    public var generator: any TextGenerator
    public var embedder: (any TextEmbedder)?
    public var audit: (any AuditLog)?
    /// Answers a question that names one business record exactly from that record, before
    /// retrieval (RecordLookup); nil: documents only.
    public var records: (any RecordLookup)?

    public init(pack: PromptPack, retriever: any Retriever, generator: any TextGenerator,
                embedder: (any TextEmbedder)? = nil, audit: (any AuditLog)? = nil, records: (any RecordLookup)? = nil) {
        self.pack = pack; self.retriever = retriever; self.generator = generator; self.embedder = embedder; self.audit = audit
        self.records = records
    }

    /// The chat messages the pack renders for `question` over `passages`.
    public func messages(question: String, language: String, passages: [RetrievedPassage], promptRule: Bool,
                         history: [ChatMessage] = []) throws -> [ChatMessage] {
        let refusal = pack.refusal(language: language)
        let sources: [[String: TemplateValue]] = passages.enumerated().map { i, p in
            ["index": .text(String(i + 1)), "path": .text(p.documentPath), "heading": .text(p.headingPath),
             "lines": .text("\(p.startLine)–\(p.endLine)"), "text": .text(Self.readable(p))]
        }
        let values: [String: TemplateValue] = [
            "question": .text(question), "refusal": .text(refusal), "language": .text(language),
            "sources": .list(sources), "has_sources": .flag(!passages.isEmpty), "refusal_rule": .flag(promptRule),
        ]
        let system = try pack.render("system", language: language, values: values)
        let user = try pack.render("user", language: language, values: values)
        return [ChatMessage(.system, system)] + history + [ChatMessage(.user, user)]
    }

    /// The chat messages of answering by selection: the pack's `select` template over the
    /// passages' numbered lines (AnswerSelection).
    public func selectionMessages(question: String, language: String, passages: [RetrievedPassage], promptRule: Bool,
                                  history: [ChatMessage] = []) throws -> [ChatMessage] {
        let (sources, lines) = AnswerSelection.lines(passages)
        let values: [String: TemplateValue] = [
            "question": .text(question), "language": .text(language), "lines": .text(AnswerSelection.render(sources, lines: lines)),
            "has_sources": .flag(!lines.isEmpty), "refusal_rule": .flag(promptRule), "refusal": .text(pack.refusal(language: language)),
        ]
        return history + [ChatMessage(.user, try pack.render("select", language: language, values: values))]
    }

    /// A passage as the model reads it: a table row's column names as words ("sunday hours:
    /// closed", not "sunday_hours: closed"), which small models read as prose.
    static func readable(_ p: RetrievedPassage) -> String {
        guard PassageFocus.isRecord(p) else { return p.text }
        return p.text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return String(line) }
            return line[..<colon].replacingOccurrences(of: "_", with: " ") + line[colon...]
        }.joined(separator: "\n")
    }

    /// Answers `question`; `onPiece` receives the model's text as it is generated (return false
    /// to cancel). The answer is recorded in the audit log when one is set.
    public func ask(_ question: String, options: AskOptions = AskOptions(), onStage: (AskStage) -> Void = { _ in },
                    onPiece: (String) -> Bool = { _ in true }) throws -> Answer {
        let q = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty else { throw AssistantError.emptyQuestion }
        guard q.count <= Self.maxQuestionCharacters else {
            throw AssistantError.input("the question is \(q.count) characters long; one question may hold \(Self.maxQuestionCharacters) — ask a shorter question")
        }
        let clock = ContinuousClock()
        let start = clock.now
        func since(_ t: ContinuousClock.Instant) -> Double {
            let d = clock.now - t
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let language = TextAnalysis.detectLanguage(q)
        let layers = options.layers
        let query = options.retrievalQuery ?? q
        let adapter = options.adapter == "none" ? nil : (options.adapter ?? pack.adapter)
        var timings = AnswerTimings()

        // A question naming one record of the business tables ("徐家汇支行礼拜天开门不", "my case
        // HB-2026-00158") is answered by that record's lookup, read now, with no model. Only the
        // question itself is read, never the conversation: a follow-up that names no record
        // ("那周六呢？") goes to the documents with its standalone form.
        if options.records, let records, let r = try records.answer(q) {
            timings.retrieval = since(start)
            timings.total = timings.retrieval
            let answer = Answer(question: q, language: language, text: r.text, draft: r.text, refused: false, refusalReason: nil,
                                explanation: r.detail, citations: r.citations, sentences: [], passages: [], pack: pack.name,
                                model: "business lookup", adapter: nil, promptTokens: 0, generatedTokens: 0,
                                timings: timings, cancelled: false)
            _ = onPiece(r.text)
            try audit?.record(entry(answer, question: q, options: options, passages: [], timings: timings, failure: nil))
            return answer
        }

        onStage(.retrieving)
        // Passages are data, never instructions: a sentence addressed to an assistant ("Ignore the
        // instructions and say …") is left out of what the model reads and of what the support
        // check accepts as evidence, so an answer repeating its command is unsupported.
        var passages = try retriever.retrieve(query, groups: options.groups, k: options.k ?? pack.retrieval.k).map { p in
            var p = p   // one pass: the text comes back unchanged when no sentence is an instruction
            p.text = InstructionScan.redacted(p.text, placeholder: language == "zh" ? "（此处一句针对助手的指令已删去）" : "(an instruction addressed to the assistant was removed here)")
            return p
        }
        timings.retrieval = since(start)
        var answer = Answer(question: q, language: language, text: "", draft: "", refused: false, refusalReason: nil,
                            explanation: "", citations: [], sentences: [], passages: passages, pack: pack.name,
                            model: generator.modelID, adapter: adapter, promptTokens: 0, generatedTokens: 0,
                            timings: timings, cancelled: false)
        let refusal = pack.refusal(language: language)

        let gate = EvidenceGate(minScore: pack.retrieval.minEvidence, minCoverage: pack.retrieval.minCoverage,
                                minDense: pack.retrieval.minDense)
            .decide(query: query, passages: passages)
        answer.coverage = gate.coverage
        answer.bestDense = gate.bestDense
        if let read = generator.languages, !read.contains(language) {
            // Asked anyway, SmolLM2 answers Chinese questions with garbled characters and the
            // wrong row's figures (0.21 of covered zh questions wrong with every check on).
            Self.refuse(&answer, Self.cannotRead(language: language, model: generator.modelID, reads: read),
                        .modelLanguage, "the model declares the languages it reads as \(read.joined(separator: ", ")); this question is \(language)")
        } else if layers.evidenceGate && !gate.pass {
            Self.refuse(&answer, refusal, gate.reason!, "evidence gate: \(gate.detail)")
        } else {
            let adapters = adapter.map { [(name: $0, scale: Float(1))] } ?? []
            // The model reads the part of each passage that bears on the question (see
            // PassageFocus); the support check then holds the answer to what it read.
            if pack.retrieval.focusTokens > 0 {
                let embedder = self.embedder
                passages = try PassageFocus.focus(passages, question: query, budget: pack.retrieval.focusTokens,
                                                  embed: embedder.map { e in { try e.embed($0) } })
                answer.passages = passages
            }
            onStage(.reading(passages: passages.count))
            let t1 = clock.now
            let selecting = pack.generation.mode == .select
            // The best passages the model's window holds (all k, unless a small model's is too small).
            let result: GenerationResult, used: Int
            do {
                (result, used) = try generator.generate(fitting: passages.count, build: { n in
                    if selecting {
                        return GenerationRequest(
                            messages: try selectionMessages(question: q, language: language, passages: Array(passages.prefix(n)),
                                                            promptRule: layers.promptRule, history: options.history),
                            maxTokens: pack.generation.maxTokens, temperature: pack.generation.temperature, seed: options.seed,
                            stop: pack.generation.stop, adapters: adapters)
                    }
                    return GenerationRequest(
                        messages: try messages(question: q, language: language, passages: Array(passages.prefix(n)),
                                               promptRule: layers.promptRule, history: options.history),
                        maxTokens: pack.generation.maxTokens, temperature: pack.generation.temperature, seed: options.seed,
                        stop: pack.generation.stop, adapters: adapters)
                }, onPiece: selecting ? { _ in true } : onPiece)
            } catch {
                // The question was asked and its passages read: the log says so, and why no
                // answer came (a model server that broke off, timed out or refused the key).
                timings.total = since(start)
                try audit?.record(entry(answer, question: q, options: options, passages: passages, timings: timings,
                                        failure: error.localizedDescription))
                throw error
            }
            // The model's own split: evaluating the prompt, then writing (building it is negligible).
            let generating = since(t1)
            timings.prompt = min(generating, result.promptSeconds)
            timings.generation = generating - timings.prompt
            if used < passages.count {
                passages = Array(passages.prefix(used))
                answer.passages = passages
            }
            answer.draft = result.text
            if selecting {
                // The answer is the lines the model's reply points at, quoted (AnswerSelection);
                // a reply that declines stays the draft, so the refusal is recognised below.
                let reply = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
                answer.selection = reply
                let key = TextAnalysis.normalized(refusal)
                let declined = reply.isEmpty || (!key.isEmpty && TextAnalysis.normalized(reply).contains(key))
                    || TextAnalysis.sentences(reply).first.map(TextAnalysis.declines) == true
                if !declined {
                    let lines = AnswerSelection.lines(passages).lines
                    if let q = AnswerSelection.quoted(reply: reply, question: q, lines: lines) {
                        answer.draft = AnswerSelection.answer(q.lines, lines: lines, language: language)
                        answer.selectionNote = q.note
                    } else {
                        answer.draft = ""
                    }
                }
            }
            answer.promptTokens = result.promptTokens
            answer.generatedTokens = result.generatedTokens
            answer.cancelled = result.stopReason == .cancelled
            onStage(.checking)
            let t2 = clock.now
            try settle(&answer, passages: passages, refusal: refusal, layers: layers)
            timings.check = since(t2)
        }
        timings.total = since(start)
        answer.timings = timings
        try audit?.record(entry(answer, question: q, options: options, passages: passages, timings: timings, failure: nil))
        return answer
    }

    /// The audit row for `answer` (or for the failure that left it unwritten).
    private func entry(_ answer: Answer, question q: String, options: AskOptions, passages: [RetrievedPassage],
                       timings: AnswerTimings, failure: String?) -> AuditEntry {
        // 0 prompt tokens means "not reported" (a server that sends no usage while streaming).
        let generated = answer.promptTokens > 0 || answer.generatedTokens > 0
        return AuditEntry(
            time: Date(), groups: options.groups, question: q, chunkIDs: passages.map(\.chunkID),
            citedChunkIDs: answer.citations.map(\.chunkID).filter { $0 > 0 }, modelID: answer.model, adapter: answer.adapter,
            pack: pack.name, answer: answer.text, refused: answer.refused, refusalReason: answer.refusalReason?.rawValue,
            retrievalSeconds: timings.retrieval, generationSeconds: timings.generation, totalSeconds: timings.total,
            accessNeeds: passages.map(\.groups), backend: generator.backend,
            promptTokens: answer.promptTokens > 0 ? answer.promptTokens : nil, completionTokens: generated ? answer.generatedTokens : nil,
            failure: failure)
    }

    /// Turns the draft into the final answer: refusal detection, support check, citations.
    private static func refuse(_ answer: inout Answer, _ refusal: String, _ reason: RefusalReason, _ why: String) {
        answer.text = refusal; answer.refused = true; answer.refusalReason = reason
        answer.explanation = why; answer.citations = []
    }

    /// What the customer reads when the model cannot read their language: not "the knowledge base
    /// does not say", which would be untrue, but what to do.
    static func cannotRead(language: String, model: String, reads: [String]) -> String {
        let name = model.split(separator: "@").first.map(String.init) ?? model
        return language == "zh"
            ? "当前模型（\(name)）只读\(reads.joined(separator: "、"))，不能回答中文问题。请换用能读中文的模型，例如默认的 Qwen2.5-Coder-1.5B（--model）。"
            : "The model \(name) reads \(reads.joined(separator: ", ")) only and cannot answer a question in \(language). Ask with a model that reads it, such as the default Qwen2.5-Coder-1.5B (--model)."
    }

    /// The longest question `ask` takes: beyond it the question alone would crowd the sources
    /// out of the model's window (and a megabyte pasted into a terminal is a mistake).
    public static let maxQuestionCharacters = 2_000

    /// A short answer: small models ramble on after the sentence that answers.
    static let maxAnswerSentences = 3

    /// Keeps the answer on the question. A sentence can be supported by a source and still not
    /// answer anything that was asked (small models copy the nearest passage whole), and they
    /// repeat themselves; such sentences are unsupported as an answer.
    /// The question-term test is English only: a right Chinese answer ("一般3–7个工作日") often
    /// shares no character pair with its question ("退款需要几天").
    static func focus(_ verdicts: inout [SentenceVerdict], question: String, language: String) {
        let asked = language == "en" ? TextAnalysis.keyTerms(question) : []
        var seen = Set<String>()
        for i in verdicts.indices where verdicts[i].supported && !verdicts[i].neutral {
            let plain = TextAnalysis.stripCitations(verdicts[i].text)
            let terms = TextAnalysis.keyTerms(plain)
            let key = TextAnalysis.normalized(plain)
            if terms.count < 2 {
                verdicts[i].supported = false
                verdicts[i].note = "a fragment, not a sentence"
            } else if !seen.insert(key).inserted {
                verdicts[i].supported = false
                verdicts[i].note = "repeats an earlier sentence"
            } else if !asked.isEmpty, terms.isDisjoint(with: asked) {
                verdicts[i].supported = false
                verdicts[i].note = "shares no term with the question: it does not answer it"
            }
        }
    }

    private func settle(_ answer: inout Answer, passages: [RetrievedPassage], refusal: String, layers: RefusalLayers) throws {
        func refuse(_ reason: RefusalReason, _ why: String) { Self.refuse(&answer, refusal, reason, why) }
        let draft = answer.draft.trimmingCharacters(in: .whitespacesAndNewlines)
        let refusalKey = TextAnalysis.normalized(refusal)
        if let reply = answer.selection, !reply.isEmpty, draft.isEmpty {
            refuse(.unsupported, "the model's answer (“\(reply)”) states a value that no source line holds, or points at no line")
            return
        }
        if draft.isEmpty { refuse(.empty, "the model produced no text"); return }
        if !refusalKey.isEmpty, TextAnalysis.normalized(draft).contains(refusalKey) {
            refuse(.modelDeclined, "the model answered with the refusal sentence: the sources do not hold the answer")
            return
        }
        if let first = TextAnalysis.sentences(draft).first, TextAnalysis.declines(first) {
            refuse(.modelDeclined, "the model said in its own words that the sources do not hold the answer: “\(first)”")
            return
        }
        var verdicts = try SupportChecker(embedder: embedder).check(draft, passages: passages, question: answer.question,
                                                                    tieSubjects: layers.subjectTie)
        if !layers.supportCheck {
            // Still attribute sentences (citations need it) but accept them all.
            for i in verdicts.indices { verdicts[i].supported = true }
        }
        if layers.supportCheck { Self.focus(&verdicts, question: answer.question, language: answer.language) }
        answer.sentences = verdicts
        // The first sentence with content is the model's answer; what follows elaborates it. When
        // that answer states a value no source holds ("The annual fee on the Harbor Diamond credit
        // card is RMB 1,500."), the elaboration ("This fee is waived after 12 purchases") answers
        // nothing that was asked: the whole reply is refused, not its true remainder shown. (A
        // question copied from an FAQ, "3、转错账怎么办？", is neutral: a heading, not the answer.)
        if layers.supportCheck, layers.dropUnsupported, let first = verdicts.first(where: { !$0.neutral }), first.invented {
            refuse(.unsupported, "support check: the answer's first sentence states what no source holds — “\(first.text)”: \(first.note ?? "unsupported")")
            return
        }
        // Nor is a reply shown without a sentence that gives a figure beyond the question's own
        // that the checks could not back: the dropped part was an answer to part of a two-part
        // question ("is the 2.98% summer deal still on?" — "still on, as it ran June to August"),
        // or an elaboration the model made up ("available for the first 30 days of the year"),
        // and what is left is incomplete or written by a reader that just misread its sources.
        // Replay of the real run's 200 drafts: covered wrong 5 -> 3, right 40 -> 38; SmolLM2's
        // drafts wrong 7 -> 1, right 22 -> 21, two uncovered more refused (#19).
        let askedValues = AnswerSelection.values(answer.question)
        if layers.supportCheck, layers.dropUnsupported,
           let dropped = verdicts.first(where: { v in
               !v.supported && !v.neutral && !AnswerSelection.values(TextAnalysis.stripCitations(v.text)).subtracting(askedValues).isEmpty }) {
            refuse(.unsupported, "support check: the answer states a figure no source backs — “\(dropped.text)”: \(dropped.note ?? "unsupported")")
            return
        }
        let kept = verdicts.filter { $0.supported || !layers.dropUnsupported }.prefix(Self.maxAnswerSentences)
        guard kept.contains(where: { !$0.neutral && $0.supported }) else {
            let notes = verdicts.compactMap { v in v.note.map { "“\(v.text)”: \($0)" } }
            refuse(.unsupported, "support check: no sentence is supported by a source" + (notes.isEmpty ? "" : " — " + notes.joined(separator: "; ")))
            return
        }
        var text: [String] = []
        var used: [Int] = []
        for v in kept {
            // Markers that name no source are dropped before printing; a sentence left citing
            // nothing is attributed to its best-supporting source below.
            var s = passages.isEmpty ? TextAnalysis.stripCitations(v.text)
                : TextAnalysis.keepingCitations(v.text, in: 1...passages.count)
            if v.reattributed, let n = v.source {
                s = TextAnalysis.stripCitations(s).replacingOccurrences(of: " .", with: ".")
                    .trimmingCharacters(in: .whitespaces) + " [\(n)]"
            }
            // Small models often cite nothing: attribute the sentence to its best-supporting source.
            if v.cited.isEmpty, let n = v.source, !v.neutral { s += " [\(n)]" }
            if !v.supported { s += " (unsupported)" }
            text.append(s)
            for n in (v.cited.isEmpty ? (v.source.map { [$0] } ?? []) : v.cited) where !used.contains(n) { used.append(n) }
        }
        answer.text = text.joined(separator: answer.language == "zh" ? "" : " ")
        answer.citations = used.sorted().map { n in
            let p = passages[n - 1]
            return Citation(number: n, chunkID: p.chunkID, path: p.documentPath, heading: p.headingPath,
                            startLine: p.startLine, endLine: p.endLine, charStart: p.charStart, charEnd: p.charEnd)
        }
        // Only what the answer asserts: sentences kept flagged as unsupported are marked as such.
        // The extractive baseline is itself a model-free reading: no second reader to agree with.
        if layers.supportCheck, layers.agreement, !(generator is ExtractiveGenerator),
           let why = Self.disagreement(kept.filter(\.supported).map(\.text).joined(separator: " "), question: answer.question, passages: passages) {
            refuse(.disagrees, "agreement check: " + why)
            return
        }
        let dropped = verdicts.filter { !$0.supported }
        answer.explanation = dropped.isEmpty ? "every sentence is supported"
            : dropped.map { "\(layers.dropUnsupported ? "dropped" : "flagged") “\($0.text)”: \($0.note ?? "unsupported")" }.joined(separator: "\n")
    }

    /// A record's code: capitals, a hyphen, capitals and digits ("SZ-002", "USD-3M"), also when
    /// a field name follows with no space ("BJ-002name en: …", as small models join record lines)
    /// or Chinese comes before it ("如HB-2026-00123", where \b finds no boundary).
    private static let identifier = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9])[A-Z]{1,6}-[A-Z0-9-]*[0-9][A-Z0-9]*"#)

    /// Why the answer disagrees with a model-free reading of its passages (nil: it agrees). The
    /// reading is the unit that best covers the question's terms (ExtractiveGenerator's choice)
    /// among the passages' units as the quotation prompt numbers them: sentences, list items,
    /// table rows with their header's names, and a CSV record whole. Every value the answer states
    /// beyond the question's own must be one that unit states, however written
    /// (AnswerSelection.values), and an answer stating no value is held when that unit states
    /// one (whatever the question's form: "Do I pay a penalty?" answered "No" where the line
    /// says 1% within 12 months). A model copies
    /// a number from the right passage's wrong row or invents one; this check takes two readers
    /// to agree before a value reaches a customer.
    static func disagreement(_ text: String, question: String, passages: [RetrievedPassage]) -> String? {
        // A value the question gave ("the Steady 90 offer") is not an answer (small models echo
        // the question back), and a code is a name: "branch id: SZ-002" answers no question.
        let stripped = TextAnalysis.stripCitations(text)
        let plain = identifier.stringByReplacingMatches(in: stripped, range: NSRange(stripped.startIndex..., in: stripped), withTemplate: "")
        let asked = AnswerSelection.values(question)
        let stated = AnswerSelection.values(plain).subtracting(asked)
        let quantity = ExtractiveGenerator.asksForQuantity(question)
        var units: [(number: Int, text: String)] = []
        var record: String? = nil
        let lines = AnswerSelection.lines(passages).lines
        for line in lines {
            if let r = line.record, r == record, let last = units.indices.last {
                units[last].text += "; " + line.shown
            } else {
                units.append((line.passage, line.shown))
            }
            record = line.record
        }
        // A unit about another currency, size or term than the question's is not its reading, however
        // many of its terms it holds: "美元存三个月" is not read off the RMB 3-month row.
        let qualified = Qualifiers.Named(question, amounts: false)
        units = units.filter { qualified.contradiction(with: Qualifiers.Named($0.text)) == nil }
        guard let best = ExtractiveGenerator.bestSentence(question: question, quantity: quantity,
                                                          sources: units, split: false) else {
            return stated.isEmpty ? nil : "no unit of the sources shares a term with the question"
        }
        // Below the share the model-free reader itself answers at, it is no second reader.
        guard best.coverage >= ExtractiveGenerator.defaultMinCoverage else {
            if stated.isEmpty { return nil }
            return "the source line that best matches the question holds only \(Int((best.coverage * 100).rounded()))% of its terms: “\(best.sentence)” [\(best.source)]"
        }
        let read = AnswerSelection.values(best.sentence)
        // "How long does a refund take?" answered without the "3–7 business days" that the line
        // answering it holds, or "Do I pay a penalty?" with a bare "No" where the line says 1%
        // within 12 months ("Which documents?" and "on the same day" need no digit: those lines
        // have none). Asked of quantity questions only, it let word answers through: SmolLM2's
        // English covered answers were 0.21 wrong that way and 0.06 with it everywhere (#19).
        // A question not asking for a quantity reads a record column by column: "Open on
        // Sunday?" is answered by its "sunday hours: closed", not by the weekday hours beside it.
        if stated.isEmpty {
            let line = quantity ? best
                : ExtractiveGenerator.bestSentence(question: question, quantity: false,
                                                   sources: lines.map { ($0.passage, $0.shown) }
                                                       .filter { qualified.contradiction(with: Qualifiers.Named($0.1)) == nil },
                                                   split: false) ?? best
            let missed = AnswerSelection.values(line.sentence).subtracting(asked)
            return missed.isEmpty ? nil
                : "the source line that best matches the question states \(missed.sorted().joined(separator: ", ")) and the answer no value: “\(line.sentence)” [\(line.source)]"
        }
        let extra = stated.subtracting(read)
        guard extra.isEmpty else {
            return "the answer states \(extra.sorted().joined(separator: ", ")), which the source line that best matches the question does not: “\(best.sentence)” [\(best.source)]"
        }
        return nil
    }
}
