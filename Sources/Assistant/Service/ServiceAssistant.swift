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
        case clarify               // a required slot is missing
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
    public var reply: String
    public var path: Path
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
    let generator: (any TextGenerator)?
    let db: Database

    /// - Parameters:
    ///   - databasePath: opened read-only: lookups can never write, whatever a slot holds.
    ///   - generator: writes the reply; nil uses the deterministic templates only.
    ///   - today: the date used for "current" questions (ISO `YYYY-MM-DD`).
    public init(pack: ServicePack, embedder: any TextEmbedder, generator: (any TextGenerator)?, databasePath: String,
                today: String) throws {
        self.pack = pack
        self.generator = generator
        db = try Database(path: databasePath, mode: .readOnly)
        for (name, spec) in pack.lookups {
            do { _ = try BusinessQuery.check(db, sql: spec.sql) } catch {
                throw ServiceError.invalidLookup(name: name, detail: error.localizedDescription)
            }
        }
        slots = try SlotFiller(slots: pack.catalog.intents.flatMap(\.slots), db: db, today: today)
        router = try IntentRouter(catalog: pack.catalog, embedder: embedder)
    }

    /// Answers one utterance, updating `session` for the next turn.
    public func answer(_ utterance: String, session: inout ServiceSession) throws -> ServiceAnswer {
        let language = pack.pack.language(for: TextAnalysis.detectLanguage(utterance))
        let decision = try router.decide(utterance)
        var intentName = decision.intent
        var followUp = false
        var found: [String: SlotValue] = [:]
        // A follow-up names a new value for the previous intent's slot and little else.
        if let last = session.lastIntent, let prev = pack.intent(named: last),
           intentName == nil || intentName == last || utterance.count <= 12 {
            let f = slots.fill(prev.slots, from: utterance).filter { $0.value.how != "default" }
            if !f.isEmpty { intentName = last; followUp = true; found = f }
        }
        var answer = ServiceAnswer(language: language, decision: decision, intent: intentName, followUp: followUp, slots: [:],
                                   missingSlot: nil, lookup: nil, sql: nil, columns: [], rows: [], modelReply: nil,
                                   factCheck: nil, handoffReason: nil, reply: "", path: .outOfScope)
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
        case .clarify, .answer:
            // Knowledge-base answers are served by the kb-qa pipeline; this scenario asks the
            // customer to rephrase rather than guess.
            answer.reply = pack.localised(pack.replies.outOfScope, language)
            answer.path = .clarify
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
                                        mustMention: intent.mustMention ?? [])
            answer.factCheck = check
            if check.passed && !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                answer.reply = text.trimmingCharacters(in: .whitespacesAndNewlines)
                answer.path = .model
            }
        }
        return answer
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
        let items: [[String: TemplateValue]] = rows.rows.indices.map { i in rows.record(i).mapValues { .text($0) } }
        do { return try t.render(["rows": .list(items)]).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw ServiceError.template(detail: "intent '\(intent)': \(error.localizedDescription)")
        }
    }

    func generate(_ generator: any TextGenerator, question: String, language: String, lookup: String, rows: BusinessRows) throws -> String {
        let p = pack.pack
        let source: [String: TemplateValue] = ["index": "1", "path": "", "heading": .text(lookup), "lines": "",
                                               "text": .text(Self.table(rows))]
        let values: [String: TemplateValue] = [
            "question": .text(question), "refusal": .text(p.refusal(language: language)), "language": .text(language),
            "sources": .list([source]), "has_sources": .flag(true), "refusal_rule": .flag(true),
        ]
        let system = try p.render("system", language: language, values: values)
        let user = try p.render("user", language: language, values: values)
        let request = GenerationRequest(messages: [ChatMessage(.system, system), ChatMessage(.user, user)],
                                        maxTokens: p.generation.maxTokens, temperature: p.generation.temperature,
                                        stop: p.generation.stop)
        return try generator.generate(request) { _ in true }.text
    }

    /// Rows as a small pipe table for the prompt.
    static func table(_ rows: BusinessRows) -> String {
        var lines = [rows.columns.joined(separator: " | ")]
        for r in rows.rows { lines.append(r.map(BusinessRows.text).joined(separator: " | ")) }
        return lines.joined(separator: "\n")
    }
}
