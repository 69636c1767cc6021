import Foundation
import Prompts

/// Per-run options of `ReportWriter.write`.
public struct ReportOptions: Sendable {
    /// "zh" or "en"; nil: the topic's language.
    public var language: String?
    /// Sections to write; nil: the pack's default outline for the topic kind.
    public var outline: [OutlineSection]?
    /// Write at most this many sections of the outline.
    public var maxSections: Int?
    public var groups: [String] = []
    /// Overrides the pack's adapter ("none" for the base model).
    public var adapter: String?
    /// Passages retrieved per query and passages kept per section.
    public var queryK = 10
    public var passagesPerSection = 8
    /// Tokens the model may write per section; nil: the pack's max_tokens.
    public var maxTokens: Int?
    /// Key evidence sentences quoted per section, at most.
    public var evidenceSentences = 16
    /// Keep unsupported model sentences, marked, instead of dropping them.
    public var markUnsupported = false
    /// Have the model write the executive summary from the sections' key findings (when the
    /// pack has a `summary` template); false, or too little survives the support check: the
    /// best cited sentence of each section.
    public var modelSummary = true
    public var summaryMaxTokens = 240
    /// Extra evidence (a business table as Markdown), given to the section it fits best.
    public var extraEvidence: [RetrievedPassage] = []
    public var seed: UInt64 = 42
    public init() {}
}

/// Drafts a research report section by section: queries → retrieval → evidence selection →
/// generation with numbered sources → support check → key evidence quotes → repeat removal,
/// then an executive summary written from the sections' key findings and one references list.
public struct ReportWriter: Sendable {
    public var pack: PromptPack
    public var retriever: any Retriever
    public var generator: any TextGenerator
    public var outlines: ReportOutlines
    public var audit: (any AuditLog)?

    public init(pack: PromptPack, retriever: any Retriever, generator: any TextGenerator, audit: (any AuditLog)? = nil) throws {
        self.pack = pack; self.retriever = retriever; self.generator = generator; self.audit = audit
        self.outlines = try ReportOutlines(pack: pack)
    }

    /// Writes the report. `shouldContinue` is polled between sections and while the model writes;
    /// when it turns false the finished sections are returned with `complete == false`.
    public func write(topic rawTopic: String, options: ReportOptions = ReportOptions(),
                      progress: (ReportProgress) -> Void = { _ in },
                      shouldContinue: () -> Bool = { true }) throws -> Report {
        let topic = rawTopic.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !topic.isEmpty else { throw ReportError.emptyTopic }
        let start = Date()
        let language = options.language ?? TextAnalysis.detectLanguage(topic)
        let kind = outlines.classify(topic)
        var outline = options.outline ?? outlines.sections(for: kind, language: language)
        if let n = options.maxSections { outline = Array(outline.prefix(max(0, n))) }
        let adapter = options.adapter == "none" ? nil : (options.adapter ?? pack.adapter)

        var state = RunState(language: language, kind: kind)
        var report = Report(topic: topic, language: language, kind: kind, summary: "", sections: [], references: [],
                            quality: ReportQuality(), model: generator.modelID, adapter: adapter, complete: true, unwritten: [])
        var tableHome: Int? = nil
        if !options.extraEvidence.isEmpty {
            let tableTerms = TextAnalysis.keyTerms(options.extraEvidence.map { $0.headingPath + " " + $0.text }.joined(separator: " "))
            tableHome = outline.indices.max { a, b in
                TextAnalysis.coverage(TextAnalysis.keyTerms(outline[a].title + " " + outline[a].hints.joined(separator: " ")), in: tableTerms)
                    < TextAnalysis.coverage(TextAnalysis.keyTerms(outline[b].title + " " + outline[b].hints.joined(separator: " ")), in: tableTerms)
            }
        }
        for (i, section) in outline.enumerated() {
            guard shouldContinue() else { report.unwritten = outline[i...].map(\.title); break }
            progress(.sectionStarted(index: i + 1, of: outline.count, title: section.title))
            let extra = i == tableHome ? options.extraEvidence : []
            guard let written = try writeSection(section, topic: topic, options: options, adapter: adapter, extra: extra,
                                                 state: &state, progress: progress, shouldContinue: shouldContinue) else {
                report.unwritten = outline[i...].map(\.title); break
            }
            report.sections.append(written)
        }
        report.complete = report.unwritten.isEmpty
        progress(.summary)
        report.summary = try summary(report, options: options, adapter: adapter, state: &state, shouldContinue: shouldContinue)
        report.references = state.references
        report.quality = state.quality(report.sections)
        report.quality.seconds = Date().timeIntervalSince(start)
        let body = ([report.summary] + report.sections.map { $0.title + $0.text }).joined()
        report.quality.characters = body.unicodeScalars.filter { !$0.properties.isWhitespace }.count
        report.quality.hanCharacters = body.unicodeScalars.filter(TextAnalysis.isHan).count
        if let audit {
            try audit.record(AuditEntry(
                time: Date(), groups: options.groups, question: "report: \(topic)", chunkIDs: state.evidenceIDs,
                citedChunkIDs: report.references.map(\.chunkID).filter { $0 != 0 }, modelID: generator.modelID,
                adapter: adapter, pack: pack.name, answer: report.markdown,
                refused: report.quality.sectionsWritten == 0, refusalReason: report.quality.sectionsWritten == 0 ? RefusalReason.noPassages.rawValue : nil,
                retrievalSeconds: state.retrievalSeconds, generationSeconds: state.generationSeconds,
                totalSeconds: report.quality.seconds, accessNeeds: state.evidenceGroups, backend: generator.backend))
        }
        return report
    }

    /// One section; nil when cancelled before it was finished (a half section is not kept).
    private func writeSection(_ section: OutlineSection, topic: String, options: ReportOptions, adapter: String?,
                              extra: [RetrievedPassage], state: inout RunState, progress: (ReportProgress) -> Void,
                              shouldContinue: () -> Bool) throws -> ReportSection? {
        let zh = state.language == "zh"
        let queries = ReportOutline.queries(topic: topic, section: section)
        let t0 = Date()
        let sectionTerms = TextAnalysis.keyTerms(section.title + " " + section.hints.joined(separator: " "))
        let selected = try selectEvidence(queries: queries, topic: topic, sectionTerms: sectionTerms, options: options, state: state)
        var passages = selected + extra
        state.retrievalSeconds += Date().timeIntervalSince(t0)
        progress(.evidence(count: passages.count, queries: queries))
        var out = ReportSection(title: section.title, queries: queries, evidenceChunkIDs: passages.map(\.chunkID), text: "",
                                empty: false, modelSentences: 0, evidenceSentences: 0, unsupportedSentences: 0,
                                generatedTokens: 0, generationSeconds: 0)
        guard !passages.isEmpty else {
            out.empty = true
            out.text = zh ? "知识库中没有找到与“\(section.title)”相关的资料，本节从略。"
                          : "The knowledge base holds no material on “\(section.title)” for this topic; the section is left out."
            progress(.sectionFinished(tokens: 0, seconds: 0))
            return out
        }
        // The business table is always in the prompt; passages that do not fit the model's window
        // go after it, so the model's [n] and the full list agree and they still give quotes.
        var stopped = false
        let (result, used) = try generator.generate(fitting: selected.count, minimum: min(1, selected.count), build: { n in
            let shown = Array(selected.prefix(n)) + extra
            return request(try sectionMessages(shown, topic: topic, section: section, language: state.language),
                           maxTokens: options.maxTokens ?? pack.generation.maxTokens, options: options, adapter: adapter)
        }, onPiece: { _ in
            if !shouldContinue() { stopped = true }
            return !stopped
        })
        if used < selected.count {
            passages = Array(selected.prefix(used)) + extra + selected.dropFirst(used)
            out.evidenceChunkIDs = passages.map(\.chunkID)
        }
        for p in passages where !state.evidenceIDs.contains(p.chunkID) { state.evidenceIDs.append(p.chunkID); state.evidenceGroups.append(p.groups) }
        if stopped || result.stopReason == .cancelled { return nil }
        out.generatedTokens = result.generatedTokens
        out.generationSeconds = result.generationSeconds
        state.tokens += result.generatedTokens
        state.generationSeconds += result.generationSeconds
        progress(.sectionFinished(tokens: result.generatedTokens, seconds: result.generationSeconds))

        // Findings for the executive summary: about the topic first, then the section, figures preferred.
        let terms = TextAnalysis.keyTerms(topic + " " + section.title + " " + section.hints.joined(separator: " "))
        let topicTerms = TextAnalysis.keyTerms(topic)
        func findingScore(_ sentence: String) -> Double {
            let own = TextAnalysis.keyTerms(sentence)
            return 3 * TextAnalysis.coverage(topicTerms, in: own) + 0.5 * Double(min(3, own.intersection(terms).count))
                + (TextAnalysis.numbers(sentence).isEmpty ? 0 : 1)
        }

        // The model's prose, cut where it loops, each sentence checked against the passages.
        let (draft, looped) = ReportText.draft(result)
        if looped { state.repeats += 1 }
        let checker = SupportChecker()
        var prose: [String] = []
        for v in try checker.check(draft, passages: passages) where !v.neutral {
            let body = ReportText.plainLine(TextAnalysis.stripCitations(v.text)).trimmingCharacters(in: .whitespaces)
            guard !ReportText.isFragment(body, echo: "\(topic) — ") else { continue }
            if !v.supported {
                out.unsupportedSentences += 1
                if !options.markUnsupported { continue }
            }
            guard state.filter.admit(body) else { continue }
            let local = v.cited.isEmpty ? (v.source.map { [$0] } ?? []) : v.cited
            let marks = local.map { "[\(state.number(for: passages[$0 - 1]))]" }.joined()
            let note = v.supported ? "" : (zh ? "（未经资料证实）" : " (not supported by the sources)")
            prose.append(ReportText.attach(marks + note, to: body))
            state.sentences.append(.init(cited: !marks.isEmpty, supported: v.supported))
            if v.supported && !marks.isEmpty { state.candidates.append((prose.last!, findingScore(body), section.title)) }
            out.modelSentences += 1
        }

        // Key evidence quoted from the passages: the section stays useful and cited when the model is weak.
        var quotes: [String] = []
        for (sentence, source) in ReportText.keyEvidence(passages, terms: terms, limit: options.evidenceSentences) {
            guard state.filter.admit(sentence) else { continue }
            let verdict = try checker.check("\(sentence) [\(source)]", passages: passages).first
            quotes.append("- " + ReportText.attach("[\(state.number(for: passages[source - 1]))]", to: sentence))
            state.sentences.append(.init(cited: true, supported: verdict?.supported ?? false))
            state.candidates.append((String(quotes.last!.dropFirst(2)), findingScore(sentence), section.title))
            out.evidenceSentences += 1
        }
        for p in extra {  // the business table itself, under the section it belongs to
            quotes.append("\n\(p.text.trimmingCharacters(in: .whitespacesAndNewlines))\n\n\(zh ? "来源" : "Source"): [\(state.number(for: p))]")
        }
        var text = prose.joined(separator: zh ? "" : " ")
        if !quotes.isEmpty { text += (text.isEmpty ? "" : "\n\n") + (zh ? "要点：\n\n" : "Key evidence:\n\n") + quotes.joined(separator: "\n") }
        if text.isEmpty {
            text = zh ? "检索到的资料与本节关系不大，本节从略。" : "The passages found say nothing usable on this section; it is left out."
            out.empty = true
        }
        out.text = text
        return out
    }

    /// The prompt of one section: the passages as numbered sources.
    private func sectionMessages(_ passages: [RetrievedPassage], topic: String, section: OutlineSection,
                                 language: String) throws -> [ChatMessage] {
        let sources: [[String: TemplateValue]] = passages.enumerated().map { i, p in
            ["index": .text(String(i + 1)), "path": .text(p.documentPath), "heading": .text(p.headingPath),
             "lines": .text("\(p.startLine)–\(p.endLine)"), "text": .text(p.text)]
        }
        let values: [String: TemplateValue] = [
            "question": .text("\(topic) — \(section.title)"), "refusal": .text(pack.refusal(language: language)),
            "language": .text(language), "sources": .list(sources), "has_sources": .flag(true), "refusal_rule": .flag(true),
        ]
        return [ChatMessage(.system, try pack.render("system", language: language, values: values)),
                ChatMessage(.user, try pack.render("user", language: language, values: values))]
    }

    /// A report request: the pack's sampling settings, the run's seed and adapter.
    private func request(_ messages: [ChatMessage], maxTokens: Int, options: ReportOptions, adapter: String?) -> GenerationRequest {
        GenerationRequest(messages: messages, maxTokens: maxTokens, temperature: pack.generation.temperature,
                          seed: options.seed, stop: pack.generation.stop,
                          repeatPenalty: 1.1,  // small models loop in long sections; a mild penalty keeps them moving
                          adapters: adapter.map { [(name: $0, scale: Float(1))] } ?? [])
    }

    /// Merges the hits of every query (reciprocal-rank fusion), keeps passages about the topic,
    /// prefers the report's language, and lowers passages an earlier section already used.
    private func selectEvidence(queries: [String], topic: String, sectionTerms: Set<String>, options: ReportOptions,
                                state: RunState) throws -> [RetrievedPassage] {
        var fused: [Int64: (passage: RetrievedPassage, score: Double)] = [:]
        for q in queries {
            for (rank, p) in try retriever.retrieve(q, groups: options.groups, k: options.queryK).enumerated() {
                fused[p.chunkID, default: (p, 0)].score += 1 / Double(60 + rank + 1)
            }
        }
        let topicTerms = TextAnalysis.keyTerms(topic)
        // About the topic, and touching the section at all: a passage on the topic that shares no
        // word with the section would only fill it with generic text.
        var candidates = fused.values.filter { c in
            let terms = TextAnalysis.keyTerms(c.passage.documentPath + " " + c.passage.headingPath + " " + c.passage.text)
            return (topicTerms.isEmpty || TextAnalysis.coverage(topicTerms, in: terms) >= 0.4)
                && (sectionTerms.isEmpty || !sectionTerms.isDisjoint(with: terms))
        }.map { c -> (passage: RetrievedPassage, score: Double) in
            // Fresh passages first, so the sections spread over the sources instead of re-quoting one.
            (c.passage, state.evidenceIDs.contains(c.passage.chunkID) ? c.score * 0.3 : c.score)
        }
        // A company is named: passages that name it win over ones that only share its generic words
        // ("… Commercial Bank" in a note on another bank), when enough of them do.
        if state.kind == .company {
            let name = topic.lowercased()
            let naming = candidates.filter { ($0.passage.documentPath + " " + $0.passage.headingPath + " " + $0.passage.text).lowercased().contains(name) }
            if naming.count >= 3 { candidates = naming }
        }
        let same = candidates.filter { TextAnalysis.detectLanguage($0.passage.text) == state.language }
        if same.count >= 3 { candidates = same }
        // Two chunks with the same text (a document ingested twice) are one piece of evidence.
        var seenText = Set<String>()
        return candidates.sorted { $0.score != $1.score ? $0.score > $1.score : $0.passage.chunkID < $1.passage.chunkID }
            .filter { seenText.insert(TextAnalysis.normalized($0.passage.text)).inserted }
            .prefix(options.passagesPerSection).map(\.passage)
    }

    /// The executive summary, from the sections only (never the model's memory): the model
    /// writes a paragraph from each section's best cited findings, every sentence is checked
    /// against the findings it cites, and their report-wide citations carry over. When the run
    /// was cancelled, the pack has no summary template, or fewer than two sentences survive,
    /// the summary is the best finding of each section as bullets.
    private func summary(_ report: Report, options: ReportOptions, adapter: String?, state: inout RunState,
                         shouldContinue: () -> Bool) throws -> String {
        let zh = state.language == "zh"
        let written = report.sections.filter { !$0.empty }
        // Each section's findings, best first: the first feeds the bullets, two go to the model.
        let findings = written.map { s in
            state.candidates.filter { $0.section == s.title }.sorted { $0.score > $1.score }
        }
        let bullets = zip(written, findings).compactMap { s, f in
            f.first.map { "- **\(s.title)**\(zh ? "：" : ": ")\($0.sentence)" }
        }
        func extractive(_ state: inout RunState) -> String {
            // Repeats a section sentence on purpose, so it is counted as a sentence but not checked again.
            for _ in bullets { state.sentences.append(.init(cited: true, supported: true)) }
            return bullets.joined(separator: "\n")
        }
        let picked = zip(written, findings).flatMap { s, f in f.prefix(2).map { (section: s.title, sentence: $0.sentence) } }
        guard options.modelSummary, report.complete, picked.count >= 2, shouldContinue(),
              pack.template("summary", language: state.language) != nil else { return extractive(&state) }

        // The findings as numbered sources; each keeps the report-wide numbers it already cites.
        let sources = picked.enumerated().map { i, p in
            RetrievedPassage(chunkID: Int64(-(i + 1)), documentPath: "", headingPath: p.section,
                             text: TextAnalysis.stripCitations(p.sentence).trimmingCharacters(in: .whitespaces),
                             startLine: 0, endLine: 0, charStart: 0, charEnd: 0, score: 1)
        }
        let marks = picked.map { TextAnalysis.citations($0.sentence) }
        var stopped = false
        let (result, used) = try generator.generate(fitting: sources.count, minimum: 2, build: { n in
            let values: [String: TemplateValue] = [
                "question": .text(report.topic), "refusal": .text(pack.refusal(language: state.language)),
                "language": .text(state.language), "has_sources": .flag(true), "refusal_rule": .flag(false),
                "sources": .list(sources.prefix(n).enumerated().map { i, p in
                    ["index": .text(String(i + 1)), "path": .text(""), "heading": .text(p.headingPath), "lines": .text(""), "text": .text(p.text)]
                }),
            ]
            let user = values.merging(["question": .text("\(report.topic) — \(zh ? "摘要" : "Executive summary")")]) { $1 }
            return request([ChatMessage(.system, try pack.render("summary", language: state.language, values: values)),
                            ChatMessage(.user, try pack.render("user", language: state.language, values: user))],
                           maxTokens: options.summaryMaxTokens, options: options, adapter: adapter)
        }, onPiece: { _ in
            if !shouldContinue() { stopped = true }
            return !stopped
        })
        if stopped || result.stopReason == .cancelled { return extractive(&state) }
        state.tokens += result.generatedTokens
        state.generationSeconds += result.generationSeconds

        var filter = RepetitionFilter()
        var lines: [String] = []
        var verdicts: [RunState.Sentence] = []
        for v in try SupportChecker().check(ReportText.draft(result).text, passages: Array(sources.prefix(used)))
        where !v.neutral && v.supported {
            let body = ReportText.plainLine(TextAnalysis.stripCitations(v.text)).trimmingCharacters(in: .whitespaces)
            guard !ReportText.isFragment(body, echo: "\(report.topic) — "), filter.admit(body) else { continue }
            let local = v.cited.isEmpty ? (v.source.map { [$0] } ?? []) : v.cited
            var global: [Int] = []
            for l in local { for n in marks[l - 1] where !global.contains(n) { global.append(n) } }
            lines.append(ReportText.attach(global.map { "[\($0)]" }.joined(), to: body))
            verdicts.append(.init(cited: !global.isEmpty, supported: true))
        }
        guard lines.count >= 2 else { return extractive(&state) }
        state.sentences += verdicts
        state.summaryModelSentences = lines.count
        return lines.joined(separator: zh ? "" : " ")
    }
}

/// What accumulates across the sections of one run.
struct RunState {
    struct Sentence { var cited: Bool; var supported: Bool }
    let language: String
    /// Company, sector or comparison: a company report keeps to passages naming the company.
    let kind: TopicKind
    var references: [ReportReference] = []
    var keys: [String: Int] = [:]
    var filter = RepetitionFilter()
    var sentences: [Sentence] = []
    var candidates: [(sentence: String, score: Double, section: String)] = []
    var evidenceIDs: [Int64] = []
    /// The access groups of each evidence passage, for the audit entry's needs.
    var evidenceGroups: [[String]] = []
    var repeats = 0
    var summaryModelSentences = 0
    var tokens = 0
    var retrievalSeconds = 0.0, generationSeconds = 0.0

    init(language: String, kind: TopicKind) { self.language = language; self.kind = kind }

    /// The report-wide number of a passage: assigned when first cited, reused afterwards.
    mutating func number(for p: RetrievedPassage) -> Int {
        let key = "\(p.chunkID)|\(p.documentPath)|\(p.startLine)"
        if let n = keys[key] { return n }
        let n = references.count + 1
        keys[key] = n
        references.append(ReportReference(number: n, chunkID: p.chunkID, path: p.documentPath, heading: p.headingPath,
                                          startLine: p.startLine, endLine: p.endLine))
        return n
    }

    func quality(_ sections: [ReportSection]) -> ReportQuality {
        var q = ReportQuality()
        q.sectionsWritten = sections.filter { !$0.empty }.count
        q.sectionsEmpty = sections.count - q.sectionsWritten
        q.sentences = sentences.count
        q.citedShare = sentences.isEmpty ? 0 : Double(sentences.filter(\.cited).count) / Double(sentences.count)
        q.supportedShare = sentences.isEmpty ? 0 : Double(sentences.filter(\.supported).count) / Double(sentences.count)
        q.distinctSources = Set(references.map(\.path)).count
        q.repeatedSentencesRemoved = filter.rejected + repeats
        q.modelSentences = sections.map(\.modelSentences).reduce(0, +)
        q.evidenceSentences = sections.map(\.evidenceSentences).reduce(0, +)
        q.modelSentencesUnsupported = sections.map(\.unsupportedSentences).reduce(0, +)
        q.summaryModelSentences = summaryModelSentences
        q.tokensGenerated = tokens
        return q
    }
}
