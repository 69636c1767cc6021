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
        return KnowledgeQA(pack: pack, retriever: try retriever(for: pack, s),
                           generator: try answeringGenerator(threads: s.threads, arithmetic: s.arithmetic),
                           embedder: try answeringEncoder(s), audit: try audit())
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
        let today = today ?? String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        guard today.count == 10, today.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else {
            throw RuntimeError.usage("--today takes a date as YYYY-MM-DD, got '\(today)'")
        }
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
