import Foundation
import Assistant
import Knowledge
import Prompts
import Tensor

/// The scenarios' pipelines, assembled from the run's resources: what `ask`, `chat`, `eval kb`,
/// `report` and `support` answer with. The commands only turn their options into settings.
extension Runtime {
    /// How a question-answering command wants its pipeline.
    public struct AnswerSettings: Sendable {
        /// The prompt pack (default kb-qa).
        public var pack = "kb-qa"
        /// An adapter named on the command line; it overrides the pack's default.
        public var adapter: String?
        /// Answer from a BEIR corpus.jsonl instead of the knowledge database.
        public var corpus: String?
        /// False: keyword retrieval and the lexical support check only (no sentence encoder).
        public var useEncoder = true
        public var threads = 2
        public var arithmetic = PromptArithmetic.standard
        /// Answer a question naming one business record exactly from its lookup (the pack's
        /// `records`); false: documents only.
        public var records = true
        /// The date lookups read "current" as (YYYY-MM-DD; nil: today).
        public var today: String?
        public init() {}
    }

    /// A pack with its default adapter settled for this machine and model (`settlePackDefault`).
    public func answeringPack(_ name: String, adapter: String?) throws -> PromptPack {
        var pack = try pack(named: name)
        settlePackDefault(&pack, requested: adapter)
        return pack
    }

    /// The sentence encoder for hybrid retrieval and the support check's similarity test, or
    /// nil without one (`optionalEncoder`).
    public func answeringEncoder(_ s: AnswerSettings) throws -> (any TextEmbedder)? {
        s.useEncoder ? try optionalEncoder() : nil
    }

    /// The retriever of a Q&A pack: a BEIR corpus, or the knowledge store in the pack's mode.
    public func retriever(for pack: PromptPack, _ s: AnswerSettings) throws -> any Retriever {
        if let corpus = s.corpus { return try LexicalRetriever.beirCorpus(corpus).retriever }
        let path = configuration.databasePath
        let store = try store(.read, missing: "run 'strata ingest PATH' first, pass --db, or answer from a BEIR corpus with --corpus FILE.jsonl")
        do {
            // The pack's mode; hybrid and dense need the embedder the store was indexed with.
            return try StoreRetriever(store: store,
                                      mode: StoreRetriever.Mode(rawValue: pack.retrieval.mode.rawValue) ?? .hybrid,
                                      embedder: try answeringEncoder(s), displayRoot: FileManager.default.currentDirectoryPath)
        } catch let e as DatabaseError {
            throw RuntimeError.failed("cannot read the knowledge database '\(path)': \(e.message)")
        }
    }

    /// The answering model's generator; the word "extractive" picks `extractive`, the no-model
    /// baseline. The model file is looked for only when no model server answers.
    public func answeringGenerator(threads: Int = 2, arithmetic: PromptArithmetic = .standard,
                                   extractive: @autoclosure () -> any TextGenerator = ExtractiveGenerator()) throws -> any TextGenerator {
        try generator(model: try configuration.answeringModel(noModel: ("extractive", "the no-model baseline")),
                      threads: threads, arithmetic: arithmetic, extractive: extractive())
    }

    /// The grounded Q&A pipeline. `audit` is opened last, after everything that may fail for
    /// another reason, so an answer that could not be recorded is never given.
    public func knowledgeQA(_ s: AnswerSettings, audit: () throws -> (any AuditLog)?) throws -> KnowledgeQA {
        let pack = try answeringPack(s.pack, adapter: s.adapter)
        let retriever = try retriever(for: pack, s)
        let generator = try answeringGenerator(threads: s.threads, arithmetic: s.arithmetic)
        let encoder = try answeringEncoder(s)
        let records = try recordLookup(pack, s, encoder: encoder)
        return KnowledgeQA(pack: pack, retriever: retriever, generator: generator, embedder: encoder, audit: try audit(),
                           records: records)
    }

    /// The lookups of the pack's `records` pack over this database's business tables; nil when
    /// the pack names none, answers from a corpus, has no encoder (the intents are recognised by
    /// meaning) or the database holds no business tables (documents are then the only evidence).
    func recordLookup(_ pack: PromptPack, _ s: AnswerSettings, encoder: (any TextEmbedder)?) throws -> (any RecordLookup)? {
        guard s.records, s.corpus == nil, let name = pack.records, let encoder else { return nil }
        let service = try ServicePack(pack: try self.pack(named: name))
        guard service.pack.scenario == .customerService else {
            throw RuntimeError.failed("pack '\(pack.name)' names '\(name)' as its records pack, which is a \(service.pack.scenario.rawValue) pack — name a customer-service pack in its pack.json 'records'")
        }
        let path = configuration.databasePath
        let probe = try BusinessTables.lookupConnection(path: path)
        guard !(try BusinessTables.list(probe)).isEmpty else { return nil }
        let (usable, dropped) = try service.answerable(on: probe)
        guard usable.catalog.intents.contains(where: { $0.action.type == .lookup }) else { return nil }
        if !dropped.isEmpty {
            cached("records note") {
                note("note: questions for \(dropped.joined(separator: ", ")) are answered from documents only: their business tables are not in \(path) ('strata data import' adds them)\n")
            }
        }
        let today = try lookupDate(s.today)
        let failed = { (e: Error) in
            RuntimeError.failed("cannot use the lookups of pack '\(name)' for record questions: \(e.localizedDescription) — fix the pack, or set 'records' to null in \(pack.name)/pack.json")
        }
        do {
            return try ServiceRecordLookup(pack: usable, db: probe, today: today) {
                do { return try ServiceAssistant(pack: usable, embedder: encoder, generator: nil, databasePath: path, today: today) } catch { throw failed(error) }
            }
        } catch { throw failed(error) }
    }

    /// The date lookups read "current" as: `today` (YYYY-MM-DD) when given, else today's date.
    func lookupDate(_ today: String?) throws -> String {
        let date = today ?? String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        guard date.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#, options: .regularExpression) != nil else {
            throw RuntimeError.usage("--today takes a date as YYYY-MM-DD, got '\(date)'")
        }
        return date
    }

    /// The customer-service pipeline over the business tables, with the kb-qa pipeline behind its
    /// `answer` intents. `today` is YYYY-MM-DD (nil: today). The model writes the replies unless
    /// it is "none" (the pack's templates).
    public func serviceAssistant(pack name: String, adapter: String?, today: String?,
                                 audit: () throws -> AuditStore?) throws -> ServiceAssistant {
        var pack = try ServicePack(pack: try self.pack(named: name))
        settlePackDefault(&pack.pack, requested: adapter)
        guard pack.pack.scenario == .customerService else {
            throw RuntimeError.failed("pack '\(pack.pack.name)' is a \(pack.pack.scenario.rawValue) pack — use a customer-service pack")
        }
        let encoder = try encoder()
        let today = try lookupDate(today)
        // The L1 model writes the reply by default (a model server's, when one is configured);
        // `--model none` keeps to the templates.
        var generator: (any TextGenerator)? = try modelServer()
        if generator == nil {
            let model = try configuration.answeringModel(noModel: ("none", "template replies"))
            if model != "none" {
                do { generator = try self.generator(model: model, context: 2048) } catch {
                    throw RuntimeError.failed("cannot load \(model): \(error.localizedDescription) — pass another --model or --model none")
                }
            }
        }
        // Checked before the assistant opens its own read-only lookup connection.
        let store = try store(.read, missing: "import the business tables first ('strata data import Knowledge/business/*.csv')")
        let auditLog = try audit()
        do {
            return try ServiceAssistant(pack: pack, embedder: encoder, generator: generator,
                                        databasePath: configuration.databasePath, today: today,
                                        knowledge: try serviceKnowledge(store, encoder: encoder, generator: generator),
                                        audit: auditLog)
        } catch let e as RuntimeError {
            throw e
        } catch {
            throw RuntimeError.failed(error.localizedDescription)
        }
    }

    /// The kb-qa pipeline behind `answer` intents: the same database, read-only, the same model
    /// (the extractive baseline with --model none, so those intents still cite their documents).
    func serviceKnowledge(_ store: KnowledgeStore, encoder: any TextEmbedder, generator: (any TextGenerator)?) throws -> KnowledgeQA? {
        let pack = try pack(named: "kb-qa")
        let retriever = try StoreRetriever(store: store,
                                           mode: StoreRetriever.Mode(rawValue: pack.retrieval.mode.rawValue) ?? .hybrid,
                                           embedder: encoder, displayRoot: FileManager.default.currentDirectoryPath)
        return KnowledgeQA(pack: pack, retriever: retriever, generator: generator ?? ExtractiveGenerator(), embedder: encoder)
    }
}
