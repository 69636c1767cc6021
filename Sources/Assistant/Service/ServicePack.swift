import Foundation
import Prompts

/// How a slot finds its value in an utterance.
public enum SlotKind: String, Sendable, Codable {
    /// A value of a business-table column (matched by name, synonyms, small typos).
    case table
    case number
    /// An ISO date `YYYY-MM-DD`; `default: "today"` fills it with the current date.
    case date
    /// Free text matched by `pattern` (e.g. a customer reference).
    case text
    /// A day of the week ("周六", "on Sunday", "tomorrow"), bound as mon…sun, or weekday for
    /// "工作日" / "on weekdays". "周末" / "weekend" names two days, so it fills nothing.
    case weekday
}

/// A slot of an intent, as written in intents.json.
public struct SlotSpec: Sendable, Codable, Equatable {
    public var name: String
    public var kind: SlotKind
    public var required: Bool
    /// For `table`: the table, the column bound as the parameter, and the columns matched.
    public var table: String?
    public var key: String?
    public var match: [String]?
    /// For `text`: a regular expression the value must match.
    public var pattern: String?
    /// For `date`: "today".
    public var `default`: String?
    /// Other words for a value → the key value they stand for ("金卡" → "CC-GOLD").
    public var synonyms: [String: String]
}

/// What an intent does once recognised.
public struct IntentAction: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case lookup, answer, clarify, handoff }
    public var type: Kind
    public var lookup: String?
    public var reason: String?
    public var documents: [String]?
}

public struct IntentSpec: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var examples: [String: [String]]
    public var slots: [SlotSpec]
    public var action: IntentAction
    /// Columns of which a generated reply must state a value (the answer itself, e.g. the fee).
    public var mustMention: [String]?
    enum CodingKeys: String, CodingKey { case name, description, examples, slots, action, mustMention = "must_mention" }
}

/// intents.json: the intents and the out-of-scope thresholds.
public struct IntentCatalog: Sendable, Codable {
    /// Below this confidence (margin between the two best intents) the utterance is out of scope.
    public var threshold: Double
    /// Below this cosine similarity to the nearest example the utterance is out of scope.
    public var minSimilarity: Double
    public var intents: [IntentSpec]
    enum CodingKeys: String, CodingKey { case threshold, minSimilarity = "min_similarity", intents }
}

public struct LookupSpec: Sendable, Codable, Equatable {
    public var description: String
    public var sql: String
}

struct LookupFile: Codable { var lookups: [String: LookupSpec] }

/// Localised texts: language → text.
public typealias Localised = [String: String]

/// replies.json: the deterministic replies.
public struct ReplyBook: Sendable, Codable {
    public struct IntentReplies: Sendable, Codable {
        public var en: String
        public var zh: String
        public var empty: Localised
    }
    public var outOfScope: Localised
    public var handoff: [String: Localised]
    public var clarify: [String: Localised]
    public var intents: [String: IntentReplies]
    /// How looked-up values are shown in each language (see `ReplyValues`).
    public var values: [String: [String: Localised]]?
    public var formats: [String: String]?
    enum CodingKeys: String, CodingKey { case outOfScope = "out_of_scope", handoff, clarify, intents, values, formats }
}

/// The customer-service pack's data: intents, lookups and replies, checked against each other.
public struct ServicePack: Sendable {
    public var pack: PromptPack
    public var catalog: IntentCatalog
    public var lookups: [String: LookupSpec]
    public var replies: ReplyBook
    /// Fallback templates compiled once: "intent.lang".
    var templates: [String: Template]
    /// Row values as replies show them.
    public var replyValues: ReplyValues { ReplyValues(values: replies.values ?? [:], formats: replies.formats ?? [:]) }

    public init(pack: PromptPack) throws {
        self.pack = pack
        func load<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let url = pack.data[key] else {
                throw ServiceError.invalidPack(file: "\(pack.name)/pack.json", detail: "data.\(key) is missing")
            }
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ServiceError.invalidPack(file: url.lastPathComponent, detail: "cannot read the file")
            }
            do { return try JSONDecoder().decode(T.self, from: data) } catch {
                throw ServiceError.invalidPack(file: url.lastPathComponent, detail: Self.describe(error))
            }
        }
        catalog = try load("intents", IntentCatalog.self)
        lookups = try load("lookups", LookupFile.self).lookups
        replies = try load("replies", ReplyBook.self)
        templates = [:]
        try validate()
    }

    /// Cross-file checks that JSON decoding cannot make.
    private mutating func validate() throws {
        var names = Set<String>()
        for intent in catalog.intents {
            let file = "intents.json"
            guard names.insert(intent.name).inserted else {
                throw ServiceError.invalidPack(file: file, detail: "intent '\(intent.name)' is defined twice")
            }
            for lang in pack.languages where (intent.examples[lang] ?? []).isEmpty {
                throw ServiceError.invalidPack(file: file, detail: "intent '\(intent.name)' has no \(lang) examples")
            }
            for slot in intent.slots {
                switch slot.kind {
                case .table where slot.table == nil || slot.key == nil || (slot.match ?? []).isEmpty:
                    throw ServiceError.invalidPack(file: file, detail: "slot '\(slot.name)' of '\(intent.name)' is a table slot without table, key and match")
                case .text where slot.pattern == nil:
                    throw ServiceError.invalidPack(file: file, detail: "slot '\(slot.name)' of '\(intent.name)' is a text slot without a pattern")
                case .text:
                    if (try? NSRegularExpression(pattern: slot.pattern!)) == nil {
                        throw ServiceError.invalidPack(file: file, detail: "slot '\(slot.name)': pattern '\(slot.pattern!)' is not a regular expression")
                    }
                default: break
                }
                if slot.required && replies.clarify[slot.name] == nil {
                    throw ServiceError.invalidPack(file: "replies.json", detail: "required slot '\(slot.name)' has no clarify question")
                }
            }
            switch intent.action.type {
            case .lookup:
                guard let l = intent.action.lookup, lookups[l] != nil else {
                    throw ServiceError.invalidPack(file: file, detail: "intent '\(intent.name)' names lookup '\(intent.action.lookup ?? "")', which lookups.json does not define")
                }
                guard let r = replies.intents[intent.name] else {
                    throw ServiceError.invalidPack(file: "replies.json", detail: "intent '\(intent.name)' has no fallback reply")
                }
                templates["\(intent.name).en"] = try Template(r.en, pack: pack.name, file: "replies.json")
                templates["\(intent.name).zh"] = try Template(r.zh, pack: pack.name, file: "replies.json")
            case .handoff:
                guard let reason = intent.action.reason, replies.handoff[reason] != nil else {
                    throw ServiceError.invalidPack(file: file, detail: "intent '\(intent.name)' hands off for reason '\(intent.action.reason ?? "")', which replies.json has no text for")
                }
            case .answer:
                guard !(intent.action.documents ?? []).isEmpty else {
                    throw ServiceError.invalidPack(file: file, detail: "intent '\(intent.name)' answers from the knowledge base but names no documents — add \"documents\": [\"policies/refunds\"] to its action")
                }
            case .clarify:
                guard replies.clarify[intent.name] != nil else {
                    throw ServiceError.invalidPack(file: "replies.json", detail: "intent '\(intent.name)' clarifies but replies.json has no clarify text under its name")
                }
            }
        }
    }

    public func intent(named name: String) -> IntentSpec? { catalog.intents.first { $0.name == name } }

    /// The text in `language`, falling back to the pack's first language.
    func localised(_ texts: Localised, _ language: String) -> String {
        texts[language] ?? texts[pack.languages[0]] ?? texts.values.sorted().first ?? ""
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, let c): "missing key '\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let c): "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        case DecodingError.valueNotFound(_, let c): "null at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c): "invalid JSON: \((c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription)"
        default: String(describing: error)
        }
    }
}
