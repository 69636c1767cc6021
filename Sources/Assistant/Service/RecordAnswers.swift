import Foundation
import Knowledge

/// A question `ask` answers from a business table's record instead of from documents.
public struct RecordAnswer: Sendable {
    /// The reply, in the question's language, from the pack's template over the record.
    public var text: String
    public var language: String
    /// The records it came from, cited by table file and key (`business/branches.csv › SH-003 · …`).
    public var citations: [Citation]
    /// What answered: intent, lookup and the names the question gave.
    public var detail: String
}

/// What `ask` and `chat` consult before retrieval: a question that names one record of the
/// business tables unmistakably is answered by that record, through the customer-service pack's
/// lookup and template, with no model in between. Dynamic data (a branch's Sunday hours, a case's
/// status) is then read at question time, as the seeds intend, and comes out right: measured on
/// the answers benchmark, Qwen2.5-1.5B declined or mis-read most branch-hours and case questions
/// whose row it was given, while the lookups answered them.
public protocol RecordLookup: Sendable {
    /// The record answer to `question`, or nil when it names no record unmistakably (the documents
    /// path then answers or refuses it).
    func answer(_ question: String) throws -> RecordAnswer?
}

extension ServiceAssistant {
    /// The answer a lookup gives when the question names its record unmistakably (`isNamed`).
    /// Only then: a misspelt name ("Diamond card" → the Gold card), a shared part of a name or a
    /// synonym under another currency or term ("7-day notice deposit" → a 90-day product, "美元
    /// 六个月定期" → the RMB one) sends the question to the documents, where the checks can refuse
    /// it, and so does a guessed intent whose record the question does not name. Every required slot must be a named table
    /// value or a reference found by its pattern (`HB-2026-00158`); optional slots may be a
    /// pattern (a weekday) or their default (today).
    public func recordAnswer(_ question: String) throws -> RecordAnswer? {
        let decision = try router.decide(question)
        // Out of scope by the classifier's doubt between its best guesses ("平衡配置那款理财最低买
        // 多少": branch hours 0.20, card fee 0.14, product rate 0.13), while the question names one
        // record unmistakably: the record settles which lookup, so the best-ranked guess whose
        // record slots the question names answers — held, like any intent here, to asking what
        // that intent answers.
        let guess = decision.intent != nil ? nil : decision.top.first { t in
            guard let i = pack.intent(named: t.intent), i.action.type == .lookup else { return false }
            let required = i.slots.filter(\.required)
            return !required.isEmpty && Self.named(required, by: slots, in: question).count == required.count
        }?.intent
        var session = ServiceSession()
        let a = try respond(question, session: &session, decision: decision, forcing: guess)
        guard a.path == .template, let name = a.intent, name == decision.intent ?? guess, !a.followUp,
              let intent = pack.intent(named: name), intent.action.type == .lookup else { return nil }
        let required = intent.slots.filter(\.required)
        func named(_ s: SlotSpec) -> Bool { a.slots[s.name].map { Self.isNamed(s, $0, by: slots, in: question) } ?? false }
        guard !required.isEmpty, required.allSatisfy(named),
              intent.slots.allSatisfy({ s in a.slots[s.name].map { $0.how == "default" || named(s) } ?? true })
        else { return nil }
        // Named exactly, the record is the right one; whether its lookup answers what was asked
        // is another matter: "Is there parking at the Hongqiao Hub Branch?" names a branch, and
        // the classifier, which knows only this pack's intents, calls it branch hours. A table
        // name carries no question, so what the question asks besides the record must be what
        // the intent's examples or the reply itself speak of (hours, phone, Sunday); a case
        // reference is a question about that case whatever else it says.
        if required.contains(where: { $0.kind != .text }), !Self.asksWhatItAnswers(question, answer: a, intent: intent) { return nil }
        let tables = try BusinessTables.list(db)
        let sql = a.sql ?? ""
        // The table the lookup reads: the slot's, else the one its SQL names after FROM.
        let table = required.compactMap(\.table).first ?? tables.map(\.name).first { t in
            sql.range(of: "FROM \(t)\\b", options: [.regularExpression, .caseInsensitive]) != nil
        }
        let file = tables.first { $0.name == table }.map { Self.shownPath($0.sourceFile) } ?? table.map { "table \($0)" } ?? "business tables"
        let keys = required.compactMap { a.slots[$0.name]?.value }
        let citations = a.rows.prefix(5).enumerated().map { i, row -> Citation in
            // The record's key and its names, as the searchable rows are titled.
            let names = zip(a.columns, row).filter { $0.0.hasPrefix("name") || $0.0 == "customer_ref" }.map(\.1).filter { !$0.isEmpty }
            let heading = (keys.count == 1 && a.rows.count == 1 ? keys : []) + names
            var seen = Set<String>()
            return Citation(number: i + 1, chunkID: 0, path: file, heading: heading.filter { seen.insert($0).inserted }.joined(separator: " · "),
                            startLine: 0, endLine: 0, charStart: 0, charEnd: 0)
        }
        let given = required.compactMap { s in a.slots[s.name].map { "\(s.name) “\($0.matched)” (\($0.how))" } }.joined(separator: ", ")
        return RecordAnswer(text: a.reply, language: a.language, citations: citations,
                            detail: "answered from the business tables: intent \(name), lookup \(a.lookup ?? "?"), named by \(given)")
    }

    /// Whether `value` names its record unmistakably: the table value word for word, a
    /// reference or weekday found by its pattern, a part of a name no other record shares, or
    /// one of the pack's synonyms for it ("car loan", "标准卡") — and, however it was named,
    /// the question names no currency or term the record does not (`Qualifiers`):
    /// "美元六个月定期" is not the RMB deposit its synonym "六个月定期" names. A name found
    /// within a small edit distance never counts: "Harbor Diamond credit card" came out as the
    /// Gold card that way.
    /// The names of `slots` that `question` fills with a value naming its record unmistakably.
    static func named(_ slots: [SlotSpec], by filler: SlotFiller, in question: String) -> Set<String> {
        let found = filler.fill(slots, from: question)
        return Set(slots.filter { s in found[s.name].map { isNamed(s, $0, by: filler, in: question) } ?? false }.map(\.name))
    }

    static func isNamed(_ slot: SlotSpec, _ value: SlotValue, by filler: SlotFiller, in question: String) -> Bool {
        switch value.how {
        case "exact", "pattern", "synonym": break
        case "partial": guard filler.namesUniquely(slot, value, in: question) else { return false }
        default: return false
        }
        return filler.contradiction(slot, value, in: question) == nil
    }

    /// The share of the question's terms, besides the record's own words (its name, address)
    /// and the slots' matched words ("礼拜天"), that the intent's examples or the reply hold.
    static let minAskedCovered = 0.5

    /// Whether what `question` asks besides naming its record is what this intent answers. A
    /// weekday the question names ("Saturday morning?") is what the lookup's day reading answers.
    static func asksWhatItAnswers(_ question: String, answer a: ServiceAnswer, intent: IntentSpec) -> Bool {
        if intent.slots.contains(where: { !$0.required && $0.kind != .date && a.slots[$0.name]?.how == "pattern" }) { return true }
        // The record's words and the slots' matches are cut from the text first, so no Chinese
        // pair straddles a name ("支行礼拜天开门" leaves "开门", not "行礼").
        var rest = question
        let own = a.rows.flatMap { $0 } + a.slots.values.map(\.matched)
        for w in own.filter({ $0.count >= 2 }).sorted(by: { $0.count > $1.count }) {
            rest = rest.replacingOccurrences(of: w, with: " ", options: .caseInsensitive)
        }
        var ownTerms = Set<String>()
        for w in own { ownTerms.formUnion(TextAnalysis.keyTerms(w)) }
        let asked = TextAnalysis.keyTerms(rest).subtracting(ownTerms)
        guard !asked.isEmpty else { return true }
        var spoken = TextAnalysis.keyTerms(a.reply)
        for examples in intent.examples.values { for e in examples { spoken.formUnion(TextAnalysis.keyTerms(e)) } }
        return TextAnalysis.coverage(asked, in: spoken) >= minAskedCovered
    }

    /// A table's source file as the user gave it, relative to the working folder when under it.
    static func shownPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}

/// A `ServiceAssistant` as `ask` consults it: one question at a time (its lookup connection and
/// classifier are not shared across threads), no model, no audit of its own (`ask` records the
/// answer). Most questions name no record, and the assistant's intent classifier encodes every
/// example of the pack when it is made (0.7 s of each `ask` process): so the names are looked for
/// first, with the table names alone, and the assistant is made on the first question that names
/// a record.
public final class ServiceRecordLookup: RecordLookup, @unchecked Sendable {
    private var service: ServiceAssistant?
    private let make: () throws -> ServiceAssistant
    /// The slots that name a record (the required slots of lookup intents) and their filler;
    /// nil when the assistant was given made.
    private let naming: (slots: [SlotSpec], filler: SlotFiller)?
    private let lock = NSLock()

    public init(_ service: ServiceAssistant) {
        self.service = service; make = { service }; naming = nil
    }

    /// `db` is a lookup connection (`BusinessTables.lookupConnection`) to the tables `pack`'s
    /// lookups read; `make` builds the assistant when a question first names a record.
    public init(pack: ServicePack, db: Database, today: String, make: @escaping () throws -> ServiceAssistant) throws {
        var seen = Set<String>()
        let slots = pack.catalog.intents.filter { $0.action.type == .lookup }
            .flatMap { $0.slots.filter(\.required) }.filter { seen.insert($0.name).inserted }
        naming = (slots, try SlotFiller(slots: slots, db: db, today: today))
        self.make = make
    }

    public func answer(_ question: String) throws -> RecordAnswer? {
        try lock.withLock {
            if let (slots, filler) = naming, ServiceAssistant.named(slots, by: filler, in: question).isEmpty { return nil }
            let s = try service ?? make()
            service = s
            return try s.recordAnswer(question)
        }
    }
}

extension ServicePack {
    /// This pack cut to the lookup intents the database can answer: a lookup whose table was
    /// never imported (a bank that keeps only branches and products here) drops its intent
    /// instead of failing every question. Returns the pack and the dropped intents' names.
    public func answerable(on db: Database) throws -> (pack: ServicePack, dropped: [String]) {
        let tables = Set(try BusinessTables.list(db).map(\.name))
        let usable = Set(lookups.filter { (try? BusinessQuery.check(db, sql: $0.value.sql)) != nil }.keys)
        var cut = self
        var dropped: [String] = []
        cut.catalog.intents = catalog.intents.filter { i in
            guard i.action.type == .lookup else { return true }
            let ok = i.action.lookup.map(usable.contains) == true && i.slots.allSatisfy { $0.table.map(tables.contains) ?? true }
            if !ok { dropped.append(i.name) }
            return ok
        }
        cut.lookups = lookups.filter { usable.contains($0.key) }
        return (cut, dropped)
    }
}
