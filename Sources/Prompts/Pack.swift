import Foundation

/// Which scenario a pack drives; decides which variables its templates receive.
public enum ScenarioKind: String, Sendable, CaseIterable, Codable {
    case kbQA = "kb-qa"
    case customerService = "customer-service"
    case researchReport = "research-report"
}

/// How passages are found for a question.
public enum RetrievalMode: String, Sendable, CaseIterable, Codable {
    case keyword, dense, hybrid
}

/// Retrieval settings of a pack, including the evidence gate (refusal layer 1).
public struct RetrievalSettings: Sendable, Equatable {
    /// Passages put in the prompt.
    public var k: Int
    public var mode: RetrievalMode
    /// The gate refuses when the best passage's score is below this (0 disables the score test).
    public var minEvidence: Double
    /// The gate refuses when the best passage contains less than this share of the question's
    /// key terms (0 disables the coverage test). Scores differ between retrievers; coverage does not.
    public var minCoverage: Double
    /// Each passage longer than this many estimated tokens is cut to the sentences, list items
    /// and table rows that bear on the question before the model reads it (0: whole passages).
    public var focusTokens: Int = 0
    /// The gate also passes when a passage's cosine to the question reaches this (0: off).
    public var minDense: Double = 0

    public init(k: Int, mode: RetrievalMode, minEvidence: Double, minCoverage: Double, focusTokens: Int = 0, minDense: Double = 0) {
        self.k = k; self.mode = mode; self.minEvidence = minEvidence; self.minCoverage = minCoverage
        self.focusTokens = focusTokens; self.minDense = minDense
    }
}

/// How a kb-qa answer is produced from the sources.
public enum AnswerMode: String, Sendable, CaseIterable, Codable {
    /// The model writes the answer, citing [n].
    case write
    /// The model names the numbered source lines that answer; the answer quotes them
    /// (template `select`).
    case select
}

/// Sampling settings of a pack.
public struct GenerationSettings: Sendable, Equatable {
    public var temperature: Double
    public var maxTokens: Int
    public var stop: [String]
    public var mode: AnswerMode = .write
}

/// A prompt pack: settings from pack.json plus its templates, decoded strictly.
public struct PromptPack: Sendable {
    public var name: String
    public var description: String
    public var scenario: ScenarioKind
    /// Language codes the pack is written for ("en", "zh"); the first is the fallback.
    public var languages: [String]
    /// The L2 adapter applied by default, nil for the base model.
    public var adapter: String?
    public var retrieval: RetrievalSettings
    public var generation: GenerationSettings
    /// The exact sentence the model must answer with when the sources do not hold the answer.
    public var refusal: [String: String]
    /// Named data files for the scenario (few-shot examples, intents, lookups), resolved paths.
    public var data: [String: URL]
    public var directory: URL
    /// Templates keyed by file stem: "system", "user", "system.zh", …
    public var templates: [String: Template]
    /// kb-qa: the customer-service pack whose lookups answer a question that names one business
    /// record exactly (a branch, a case reference), before the documents are searched.
    public var records: String? = nil

    /// The template roles every scenario needs.
    public static let requiredRoles = ["system", "user"]
    /// Templates a scenario uses when the pack has them (research-report: `summary`, the system
    /// prompt of the executive summary). Same variables as `system`.
    /// `select`: the kb-qa prompt of answering by selection (generation.mode "select").
    public static let optionalRoles = ["summary", "select"]

    /// The language to use for a question detected as `language`: itself if the pack has it.
    public func language(for language: String) -> String {
        languages.contains(language) ? language : languages[0]
    }

    public func refusal(language: String) -> String {
        refusal[self.language(for: language)] ?? refusal[languages[0]]!
    }

    /// The template for `role` in `language`: `role.lang.md` when present, else `role.md`.
    public func template(_ role: String, language: String) -> Template? {
        templates["\(role).\(self.language(for: language))"] ?? templates[role]
    }

    /// Renders `role` for `language`; a missing template or variable is an error naming the file.
    public func render(_ role: String, language: String, values: [String: TemplateValue]) throws -> String {
        guard let t = template(role, language: language) else {
            throw PackError.missingFile(pack: name, file: "\(role).md", detail: "every pack needs a \(role) template")
        }
        return try t.render(values)
    }
}

extension PromptPack {
    /// Loads and validates the pack in `directory` (its folder name is its name).
    public static func load(from directory: URL) throws -> PromptPack {
        let folder = directory.lastPathComponent
        let file = "pack.json"
        let url = directory.appendingPathComponent(file)
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw PackError.missingFile(pack: folder, file: file, detail: "a pack folder needs a pack.json")
        }
        let json: JSONValue
        do { json = try JSONDecoder().decode(JSONValue.self, from: bytes) } catch {
            throw PackError.invalidJSON(pack: folder, file: file, detail: describe(error))
        }
        var o = try StrictObject(json, pack: folder, file: file, path: "")
        let name = try o.string("name")
        guard name == folder else {
            throw PackError.invalidValue(pack: folder, file: file, key: "name",
                                         detail: "'\(name)' differs from the folder name '\(folder)' — rename one so `--pack \(folder)` finds it")
        }
        let description = try o.string("description")
        let kindRaw = try o.string("scenario")
        guard let scenario = ScenarioKind(rawValue: kindRaw) else {
            throw PackError.invalidValue(pack: name, file: file, key: "scenario", detail:
                "'\(kindRaw)' is not a scenario — use one of \(ScenarioKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let languages = try o.stringList("languages", required: true)!
        guard !languages.isEmpty else {
            throw PackError.invalidValue(pack: name, file: file, key: "languages", detail: "list at least one language, e.g. [\"en\", \"zh\"]")
        }
        let adapter = try o.optionalString("adapter")
        let records = try o.optionalString("records")
        let retrieval = try decodeRetrieval(&o, pack: name, file: file)
        let generation = try decodeGeneration(&o, pack: name, file: file)
        let refusal = try o.stringMap("refusal", required: true)!
        for lang in languages where (refusal[lang] ?? "").isEmpty {
            throw PackError.missingKey(pack: name, file: file, key: "refusal.\(lang)")
        }
        if let extra = refusal.keys.sorted().first(where: { !languages.contains($0) }) {
            throw PackError.unknownKey(pack: name, file: file, key: "refusal.\(extra)", known: languages)
        }
        var data: [String: URL] = [:]
        for (key, rel) in try o.stringMap("data") ?? [:] {
            let u = directory.appendingPathComponent(rel)
            guard FileManager.default.fileExists(atPath: u.path) else {
                throw PackError.missingFile(pack: name, file: rel, detail: "pack.json key 'data.\(key)' names it")
            }
            data[key] = u
        }
        try o.finish()
        let templates = try loadTemplates(directory, pack: name, languages: languages)
        if generation.mode == .select, let lang = languages.first(where: { templates["select"] == nil && templates["select.\($0)"] == nil }) {
            throw PackError.missingFile(pack: name, file: "select.md",
                                        detail: "generation.mode is select, which needs a select template for '\(lang)' — add select.md or select.\(lang).md, or use mode write")
        }
        var pack = PromptPack(name: name, description: description, scenario: scenario, languages: languages,
                              adapter: adapter, retrieval: retrieval, generation: generation, refusal: refusal,
                              data: data, directory: directory, templates: templates)
        pack.records = records
        return pack
    }

    private static func decodeRetrieval(_ o: inout StrictObject, pack: String, file: String) throws -> RetrievalSettings {
        var r = try o.object("retrieval", required: true)!
        let k = try r.optionalInt("k") ?? 5
        guard (1...50).contains(k) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "retrieval.k", detail: "\(k) is outside 1…50")
        }
        let modeRaw = try r.optionalString("mode") ?? "hybrid"
        guard let mode = RetrievalMode(rawValue: modeRaw) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "retrieval.mode", detail:
                "'\(modeRaw)' is not a mode — use keyword, dense or hybrid")
        }
        let minEvidence = try r.optionalDouble("min_evidence") ?? 0
        let minCoverage = try r.optionalDouble("min_coverage") ?? 0
        guard (0...1).contains(minCoverage) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "retrieval.min_coverage", detail: "\(minCoverage) is outside 0…1")
        }
        let focus = try r.optionalInt("focus_tokens") ?? 0
        guard focus == 0 || (32...4096).contains(focus) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "retrieval.focus_tokens", detail: "\(focus) is outside 32…4096 (0 keeps passages whole)")
        }
        let minDense = try r.optionalDouble("min_dense") ?? 0
        guard (0...1).contains(minDense) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "retrieval.min_dense", detail: "\(minDense) is outside 0…1")
        }
        try r.finish()
        return RetrievalSettings(k: k, mode: mode, minEvidence: minEvidence, minCoverage: minCoverage, focusTokens: focus, minDense: minDense)
    }

    private static func decodeGeneration(_ o: inout StrictObject, pack: String, file: String) throws -> GenerationSettings {
        var g = try o.object("generation", required: true)!
        let temperature = try g.optionalDouble("temperature") ?? 0
        guard (0...2).contains(temperature) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "generation.temperature", detail: "\(temperature) is outside 0…2")
        }
        let maxTokens = try g.optionalInt("max_tokens") ?? 256
        guard (1...8192).contains(maxTokens) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "generation.max_tokens", detail: "\(maxTokens) is outside 1…8192")
        }
        let stop = try g.stringList("stop") ?? []
        let modeRaw = try g.optionalString("mode") ?? "write"
        guard let mode = AnswerMode(rawValue: modeRaw) else {
            throw PackError.invalidValue(pack: pack, file: file, key: "generation.mode", detail:
                "'\(modeRaw)' is not an answer mode — use write or select")
        }
        try g.finish()
        return GenerationSettings(temperature: temperature, maxTokens: maxTokens, stop: stop, mode: mode)
    }

    /// Reads `role.md` and `role.LANG.md` for every required and optional role; a required role
    /// with neither is an error.
    private static func loadTemplates(_ dir: URL, pack: String, languages: [String]) throws -> [String: Template] {
        var out: [String: Template] = [:]
        for role in requiredRoles + optionalRoles {
            for stem in [role] + languages.map({ "\(role).\($0)" }) {
                let file = "\(stem).md"
                guard let bytes = FileManager.default.contents(atPath: dir.appendingPathComponent(file).path) else { continue }
                out[stem] = try Template(String(decoding: bytes, as: UTF8.self), pack: pack, file: file)
            }
            guard requiredRoles.contains(role) else { continue }
            let missing = languages.filter { out[role] == nil && out["\(role).\($0)"] == nil }
            if let lang = missing.first {
                throw PackError.missingFile(pack: pack, file: "\(role).md",
                                            detail: "no \(role) template for language '\(lang)' — add \(role).md (all languages) or \(role).\(lang).md")
            }
        }
        return out
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error {
            return (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription
        }
        return String(describing: error)
    }
}
