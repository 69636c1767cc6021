import Foundation
import Knowledge
import Prompts

/// What the customer-service pipeline did for one utterance, all of it (for --explain/--json).
public struct ServiceAnswer: Sendable, Codable {
    /// How the reply was produced.
    public enum Path: String, Sendable, Codable {
        case model                 // the generator's reply passed the fact check
        case template              // deterministic reply (no generator, or the fact check failed)
        case noRows = "no-rows"    // the lookup found nothing: a deterministic "no such item"
        case clarify               // a required slot is missing, or the intent asks what the customer means
        case knowledge             // an `answer` intent, answered from its documents with sources
        case knowledgeRefused = "knowledge-refused"  // its documents hold no answer: the pack's refusal
        case handoff               // the intent hands off to a person
        case outOfScope = "out-of-scope"
    }
    public var language: String
    public var decision: IntentDecision
    /// The intent acted on (may be the previous turn's for a follow-up), nil when out of scope.
    public var intent: String?
    public var followUp: Bool
    public var slots: [String: SlotValue]
    public var missingSlot: String?
    public var lookup: String?
    public var sql: String?
    public var columns: [String]
    public var rows: [[String]]
    public var modelReply: String?
    public var factCheck: FactCheck.Outcome?
    public var handoffReason: String?
    /// For an `answer` intent: the knowledge-base answer, with its passages and citations.
    public var knowledge: Answer?
    public var reply: String
    public var path: Path
    public var seconds: Double = 0
}

/// What a conversation remembers between turns: the last intent and its slot values, so
/// "那储蓄卡呢？" after a card question means the same question about another card.
public struct ServiceSession: Sendable {
    public var lastIntent: String?
    public var slots: [String: SlotValue] = [:]
    public init() {}
}

/// The customer-service scenario: intent → slots → lookup → reply → fact check.
public final class ServiceAssistant {
    public let pack: ServicePack
    let router: IntentRouter
    let slots: SlotFiller
    public let generator: (any TextGenerator)?
    let db: Database
    let knowledge: KnowledgeQA?
    let audit: (any AuditLog)?

    /// - Parameters:
    ///   - databasePath: opened read-only: lookups can never write, whatever a slot holds, and
    ///     read business tables only, under their business names (`BusinessTables.lookupConnection`).
    ///   - generator: writes the reply; nil uses the deterministic templates only.
    ///   - today: the date used for "current" questions (ISO `YYYY-MM-DD`).
    ///   - knowledge: the kb-qa pipeline that `answer` intents use, scoped to their documents;
    ///     nil makes those intents refuse (and hand off) rather than guess.
    ///   - audit: where every turn is recorded (intent, slots, lookup, reply path in `detail`).
    public init(pack: ServicePack, embedder: any TextEmbedder, generator: (any TextGenerator)?, databasePath: String,
                today: String, knowledge: KnowledgeQA? = nil, audit: (any AuditLog)? = nil) throws {
        self.pack = pack
        self.generator = generator
        self.knowledge = knowledge
        self.audit = audit
        db = try BusinessTables.lookupConnection(path: databasePath)
        for (name, spec) in pack.lookups {
            do { _ = try BusinessQuery.check(db, sql: spec.sql) } catch {
                throw ServiceError.invalidLookup(name: name, detail: error.localizedDescription)
            }
        }
        slots = try SlotFiller(slots: pack.catalog.intents.flatMap(\.slots), db: db, today: today)
        router = try IntentRouter(catalog: pack.catalog, embedder: embedder)
    }

    /// The most characters one customer message may hold. A turn is one question: 2,000
    /// characters is a page of text, and the encoder reads only its first 256 tokens anyway,
    /// while slot matching grows with the length (100,000 characters took 28 s, 1,000,000 more
    /// than two minutes).
    public static let maxMessageCharacters = 2_000

    /// Answers one utterance, updating `session` for the next turn, and records it in the audit log.
    public func answer(_ utterance: String, session: inout ServiceSession) throws -> ServiceAnswer {
        let n = utterance.count
        guard n <= Self.maxMessageCharacters else { throw ServiceError.messageTooLong(characters: n, limit: Self.maxMessageCharacters) }
        let clock = ContinuousClock()
        let start = clock.now
        var answer = try respond(utterance, session: &session)
        let d = clock.now - start
        answer.seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        if let audit { try audit.record(auditEntry(utterance, answer)) }
        return answer
    }

    /// `decision`: the classifier's, when the caller already has it. `forcing` answers with that
    /// intent whatever the classifier decided (the record route's choice among the classifier's
    /// best guesses, `recordAnswer`).
    func respond(_ utterance: String, session: inout ServiceSession, decision decided: IntentDecision? = nil,
                 forcing: String? = nil) throws -> ServiceAnswer {
        let language = pack.pack.language(for: TextAnalysis.detectLanguage(utterance))
        let decision = try decided ?? router.decide(utterance)
        var intentName = forcing ?? decision.intent
        var followUp = false
        var found: [String: SlotValue] = [:]
        // A follow-up names a new value for the previous intent's slot and little else. When the
        // classifier picked another intent and the message fills a slot only that intent has
        // ("杭州的网点周日营业吗？" after a branch's hours: the city), it is a new question.
        if let last = session.lastIntent, let prev = pack.intent(named: last),
           intentName == nil || intentName == last || utterance.count <= 12 {
            let f = slots.fill(prev.slots, from: utterance).filter { $0.value.how != "default" }
            let prevNames = Set(prev.slots.map(\.name))
            let ownSlots = intentName.flatMap { pack.intent(named: $0) }.map { own in
                slots.fill(own.slots.filter { !prevNames.contains($0.name) }, from: utterance).filter { $0.value.how != "default" }
            } ?? [:]
            if !f.isEmpty && (intentName == nil || intentName == last || ownSlots.isEmpty) { intentName = last; followUp = true; found = f }
        }
        var answer = ServiceAnswer(language: language, decision: decision, intent: intentName, followUp: followUp, slots: [:],
                                   missingSlot: nil, lookup: nil, sql: nil, columns: [], rows: [], modelReply: nil,
                                   factCheck: nil, handoffReason: nil, knowledge: nil, reply: "", path: .outOfScope)
        guard let name = intentName, let intent = pack.intent(named: name) else {
            answer.reply = pack.localised(pack.replies.outOfScope, language)
            return answer
        }
        if found.isEmpty { found = slots.fill(intent.slots, from: utterance) }
        // Carry values the customer gave earlier for slots of the same name.
        for s in intent.slots where found[s.name] == nil {
            if var carried = session.slots[s.name] { carried.how = "carried"; found[s.name] = carried }
        }
        answer.slots = found
        session.lastIntent = name
        session.slots.merge(found.filter { $0.value.how != "default" }) { _, new in new }

        switch intent.action.type {
        case .handoff:
            let reason = intent.action.reason ?? "asked_for_agent"
            answer.handoffReason = reason
            answer.reply = pack.localised(pack.replies.handoff[reason] ?? pack.replies.outOfScope, language)
            answer.path = .handoff
            return answer
        case .clarify:
            // A vague opening ("我想咨询一下"): ask what it is about rather than guess an intent.
            answer.reply = pack.localised(pack.replies.clarify[name] ?? pack.replies.outOfScope, language)
            answer.path = .clarify
            return answer
        case .answer:
            try answerFromDocuments(utterance, intent: intent, language: language, recognised: decision.intent == name, into: &answer)
            return answer
        case .lookup:
            break
        }
        if let missing = intent.slots.first(where: { $0.required && found[$0.name] == nil }) {
            answer.missingSlot = missing.name
            answer.reply = pack.localised(pack.replies.clarify[missing.name] ?? pack.replies.outOfScope, language)
            answer.path = .clarify
            return answer
        }
        let lookupName = intent.action.lookup!
        let sql = pack.lookups[lookupName]!.sql
        answer.lookup = lookupName; answer.sql = sql
        let rows = try lookup(lookupName, slots: found)
        answer.columns = rows.columns
        answer.rows = rows.rows.map { $0.map(BusinessRows.text) }
        let replies = pack.replies.intents[name]!
        if rows.rows.isEmpty {
            answer.reply = pack.localised(replies.empty, language)
            answer.path = .noRows
            return answer
        }
        let fallback = try templateReply(intent: name, language: language, rows: rows)
        answer.reply = fallback
        answer.path = .template
        if let generator {
            let text = try generate(generator, question: utterance, language: language, lookup: lookupName, rows: rows)
            answer.modelReply = text
            let check = FactCheck.check(reply: text, rows: rows, question: utterance, knownNames: slots.knownNames,
                                        mustMention: intent.mustMention ?? [], shown: display(rows, language), language: language)
            answer.factCheck = check
            if check.passed && !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                answer.reply = text.trimmingCharacters(in: .whitespacesAndNewlines)
                answer.path = .model
            }
        }
        return answer
    }

    /// An `answer` intent: the kb-qa pipeline (evidence gate, cited answer, support check) over the
    /// intent's documents only, as a customer sees them (no access groups: public documents).
    /// Its refusal becomes this pack's refusal, which offers a colleague.
    ///
    /// - Parameter recognised: the classifier put the message in this intent itself (not a
    ///   follow-up guess). The question is then known to be about these documents, so the
    ///   evidence gate, which counts the question's words in the best passage, is not asked again:
    ///   customers' wording ("What documents do I need to open an account?") shares few words with
    ///   the policy ("What to bring") and the gate refused it at 25% < 30%. The support check
    ///   still drops every sentence the documents do not back.
    func answerFromDocuments(_ utterance: String, intent: IntentSpec, language: String, recognised: Bool,
                             into answer: inout ServiceAnswer) throws {
        answer.path = .knowledgeRefused
        answer.reply = pack.pack.refusal(language: language)
        guard var qa = knowledge else { return }
        qa.retriever = DocumentScopedRetriever(base: qa.retriever, documents: intent.action.documents ?? [])
        qa.audit = nil   // the turn is recorded once, below, with the service detail
        var options = AskOptions()
        options.adapter = pack.pack.adapter ?? "none"   // this pack's adapter, not kb-qa's
        if recognised { options.layers.evidenceGate = false }
        let result = try qa.ask(utterance, options: options)
        answer.knowledge = result
        if !result.refused {
            answer.reply = result.text
            answer.path = .knowledge
        }
    }

    /// The audit row of one turn: the knowledge-base fields where they apply, and the service
    /// decision (intent, confidence, slots, lookup, rows, reply path) as JSON in `detail`.
    func auditEntry(_ utterance: String, _ a: ServiceAnswer) throws -> AuditEntry {
        struct Detail: Encodable {
            var intent: String?, confidence: Double, followUp: Bool, slots: [String: String]
            var lookup: String?, rows: Int, path: String, handoff: String?, factCheck: [String]?
        }
        let detail = Detail(intent: a.intent, confidence: a.decision.confidence, followUp: a.followUp,
                            slots: a.slots.mapValues(\.value), lookup: a.lookup, rows: a.rows.count, path: a.path.rawValue,
                            handoff: a.handoffReason, factCheck: a.factCheck.map { $0.unsupported })
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let refused = a.path == .outOfScope || a.path == .knowledgeRefused
        return AuditEntry(time: Date(), groups: [], question: utterance, chunkIDs: a.knowledge?.passages.map(\.chunkID) ?? [],
                          citedChunkIDs: a.knowledge?.citations.map(\.chunkID) ?? [],
                          modelID: a.knowledge?.model ?? (a.modelReply != nil ? generator?.modelID : nil) ?? "template",
                          adapter: a.knowledge?.adapter, pack: pack.pack.name, answer: a.reply, refused: refused,
                          refusalReason: refused ? a.path.rawValue : nil,
                          retrievalSeconds: a.knowledge?.timings.retrieval ?? 0,
                          generationSeconds: a.knowledge?.timings.generation ?? 0, totalSeconds: a.seconds,
                          detail: String(decoding: try enc.encode(detail), as: UTF8.self),
                          accessNeeds: a.knowledge?.passages.map(\.groups) ?? [],
                          backend: (a.knowledge != nil || a.modelReply != nil) ? generator?.backend : nil)
    }

    /// Runs a named lookup on the read-only connection; slot values are only ever bound.
    func lookup(_ name: String, slots: [String: SlotValue]) throws -> BusinessRows {
        guard let spec = pack.lookups[name] else { throw ServiceError.invalidLookup(name: name, detail: "not defined in lookups.json") }
        do { return try BusinessQuery.run(db, sql: spec.sql, named: slots.mapValues { .text($0.value) }) } catch {
            throw ServiceError.lookupFailed(name: name, detail: error.localizedDescription)
        }
    }

    /// Answers one utterance with no conversation history.
    public func answer(_ utterance: String) throws -> ServiceAnswer {
        var session = ServiceSession()
        return try answer(utterance, session: &session)
    }

    func templateReply(intent: String, language: String, rows: BusinessRows) throws -> String {
        guard let t = pack.templates["\(intent).\(language)"] ?? pack.templates["\(intent).en"] else {
            throw ServiceError.template(detail: "no fallback reply for intent '\(intent)'")
        }
        let items: [[String: TemplateValue]] = display(rows, language).map { $0.mapValues { .text($0) } }
        do { return try t.render(["rows": .list(items)]).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw ServiceError.template(detail: "intent '\(intent)': \(error.localizedDescription)")
        }
    }

    func generate(_ generator: any TextGenerator, question: String, language: String, lookup: String, rows: BusinessRows) throws -> String {
        let p = pack.pack
        let source: [String: TemplateValue] = ["index": "1", "path": "", "heading": .text(lookup), "lines": "",
                                               "text": .text(Self.table(rows, display(rows, language), language: language))]
        let values: [String: TemplateValue] = [
            "question": .text(question), "refusal": .text(p.refusal(language: language)), "language": .text(language),
            "sources": .list([source]), "has_sources": .flag(true), "refusal_rule": .flag(true),
        ]
        let system = try p.render("system", language: language, values: values)
        let user = try p.render("user", language: language, values: values)
        let request = GenerationRequest(messages: [ChatMessage(.system, system), ChatMessage(.user, user)],
                                        maxTokens: p.generation.maxTokens, temperature: p.generation.temperature,
                                        stop: p.generation.stop,
                                        adapters: p.adapter.map { [(name: $0, scale: Float(1))] } ?? [])
        return try generator.generate(request) { _ in true }.text
    }

    /// Every row's values as the reply shows them in `language`.
    func display(_ rows: BusinessRows, _ language: String) -> [[String: String]] {
        let values = pack.replyValues
        return rows.rows.indices.map { values.display(rows, row: $0, language: language) }
    }

    /// Rows as a small pipe table for the prompt, with the values shown in the reply's language
    /// (the other language's columns left out), so a model that copies them copies them right.
    static func table(_ rows: BusinessRows, _ shown: [[String: String]], language: String) -> String {
        let other = language == "zh" ? "_en" : "_zh"
        let columns = rows.columns.filter { !$0.hasSuffix(other) }
        var lines = [columns.joined(separator: " | ")]
        for r in shown { lines.append(columns.map { r[$0] ?? "" }.joined(separator: " | ")) }
        return lines.joined(separator: "\n")
    }
}
