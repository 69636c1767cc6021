import Foundation

/// The settings of one run, resolved once: command-line flags first, then the environment
/// (`STRATA_DB`, `STRATA_MODEL`, `STRATA_EMBEDDER`, `STRATA_ADAPTERS`, `STRATA_LLM_URL`,
/// `STRATA_LLM_MODEL`, `STRATA_EMBEDDER_URL`, `STRATA_EMBEDDER_MODEL`), then the optional config
/// file (`--config FILE` or `$STRATA_CONFIG`), then the built-in defaults. A model server's API
/// key is read from the environment only (see `ServerSettings`).
///
/// Paths: a path given as a flag or in the environment is taken as given (relative to the
/// current directory, as a shell user expects). A relative path in the config file, and every
/// built-in default (`models/…`, `adapters`, `strata.db`), is resolved against `base`: the config
/// file's folder when there is one, else the current directory.
public struct RuntimeConfiguration: Sendable {
    /// The values given on the command line (nil: not given).
    public struct Flags: Sendable {
        public var database: String?
        public var model: String?
        public var embedder: String?
        public var adapters: String?
        public var packs: [String]
        public var config: String?
        /// A model server's API base (`--llm-url`) and the model name to ask it for (`--llm-model`).
        public var llmURL: String?
        public var llmModel: String?
        /// An encoder server's API base (`--embedder-url`) and its encoder's name (`--embedder-model`).
        public var embedderURL: String?
        public var embedderModel: String?
        public init(database: String? = nil, model: String? = nil, embedder: String? = nil, adapters: String? = nil,
                    packs: [String] = [], config: String? = nil, llmURL: String? = nil, llmModel: String? = nil,
                    embedderURL: String? = nil, embedderModel: String? = nil) {
            self.database = database; self.model = model; self.embedder = embedder; self.adapters = adapters
            self.packs = packs; self.config = config
            self.llmURL = llmURL; self.llmModel = llmModel; self.embedderURL = embedderURL; self.embedderModel = embedderModel
        }
    }

    /// The config file: JSON, decoded strictly (an unknown key is an error naming it).
    public struct File: Codable, Sendable, Equatable {
        public var db: String?
        public var model: String?
        public var embedder: String?
        public var adapters: String?
        public var packs: [String]?
        public var llmURL: String?
        public var llmModel: String?
        public var embedderURL: String?
        public var embedderModel: String?
        // No key for an API key: a config file is copied and checked in; the key stays in the environment.
        static let keys: Set<String> = ["db", "model", "embedder", "adapters", "packs", "llm_url", "llm_model", "embedder_url", "embedder_model"]

        enum CodingKeys: String, CodingKey {
            case db, model, embedder, adapters, packs
            case llmURL = "llm_url", llmModel = "llm_model", embedderURL = "embedder_url", embedderModel = "embedder_model"
        }

        public static func load(_ path: String) throws -> File {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RuntimeError.failed("cannot read the config file '\(path)' — check the path (--config FILE or $STRATA_CONFIG)")
            }
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw RuntimeError.failed("the config file '\(path)' is not a JSON object — write {\"model\": \"models/….gguf\", …}")
            }
            if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
                throw RuntimeError.failed("the config file '\(path)' has an unknown key '\(unknown)' — known: \(keys.sorted().joined(separator: ", "))")
            }
            do { return try JSONDecoder().decode(File.self, from: data) } catch {
                throw RuntimeError.failed("the config file '\(path)': \(error.localizedDescription) — packs is a list of strings, every other key a string")
            }
        }
    }

    /// Where a setting came from, for messages that tell the user what to change. Ordered: a
    /// setting from an earlier source overrides one from a later source.
    public enum Source: Sendable, Equatable, Comparable { case flag, environment, file, defaultValue }

    /// The small English model: the default of `generate`, `eval perplexity` and `adapt train`.
    public static let smallModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The model that answers (`ask`, `chat`, `support`, `report`, `eval kb`): SmolLM2-135M cannot
    /// read Chinese and copies the nearest number from its sources (README: which model when).
    public static let answeringModel = "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    /// The sentence encoder of hybrid retrieval, the support check and intent recognition.
    public static let defaultEncoder = "models/all-MiniLM-L6-v2"

    /// The folder relative defaults and config-file paths are resolved against.
    public let base: String
    public let file: File?
    public let databasePath: String
    public let databaseSource: Source
    /// --model, $STRATA_MODEL or the config file's model; nil: the command's default.
    public let model: String?
    public let modelSource: Source
    /// --embedder, $STRATA_EMBEDDER or the config file's; nil: the default encoder.
    public let embedder: String?
    public let embedderSource: Source
    /// --llm-url, $STRATA_LLM_URL or the config file's llm_url, with the model name to ask for
    /// (nil: the one the server serves); whether it answers instead of `model` is `llmServer()`'s call.
    public let llmURL: String?
    public let llmURLSource: Source
    public let llmModel: String?
    /// --embedder-url, $STRATA_EMBEDDER_URL or the config file's embedder_url, and the encoder's name.
    public let embedderURL: String?
    public let embedderURLSource: Source
    public let embedderModel: String?
    /// The `STRATA_LLM_*` and `STRATA_EMBEDDER_*` variables: API keys, time-out, retries, adapter
    /// names. Read when a server is used, so a bad value fails only the commands that use one.
    let serverEnvironment: [String: String]
    public let adaptersDirectory: String
    public let packDirectories: [String]

    public init(flags: Flags, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let configPath = flags.config ?? environment["STRATA_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let file = try configPath.map(File.load)
        self.file = file
        base = configPath.map { (($0 as NSString).deletingLastPathComponent as NSString).standardizingPath } ?? ""
        let base = self.base
        func inBase(_ path: String) -> String {
            base.isEmpty || base == "." || path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        }
        func pick(_ flag: String?, _ env: String?, _ fromFile: String?) -> (String?, Source) {
            if let flag { return (flag, .flag) }
            if let env = env.flatMap({ environment[$0] }) { return (env, .environment) }
            if let fromFile { return (inBase(fromFile), .file) }
            return (nil, .defaultValue)
        }
        let db = pick(flags.database, "STRATA_DB", file?.db)
        databasePath = db.0 ?? inBase("strata.db"); databaseSource = db.1
        (model, modelSource) = pick(flags.model, "STRATA_MODEL", file?.model)
        (embedder, embedderSource) = pick(flags.embedder, "STRATA_EMBEDDER", file?.embedder)
        // URLs and model names are not paths: taken as written, wherever they come from.
        func value(_ flag: String?, _ env: String, _ fromFile: String?) -> (String?, Source) {
            if let flag { return (flag, .flag) }
            if let v = environment[env] { return (v, .environment) }
            if let fromFile { return (fromFile, .file) }
            return (nil, .defaultValue)
        }
        (llmURL, llmURLSource) = value(flags.llmURL, "STRATA_LLM_URL", file?.llmURL)
        llmModel = value(flags.llmModel, "STRATA_LLM_MODEL", file?.llmModel).0.flatMap { $0.isEmpty ? nil : $0 }
        (embedderURL, embedderURLSource) = value(flags.embedderURL, "STRATA_EMBEDDER_URL", file?.embedderURL)
        embedderModel = value(flags.embedderModel, "STRATA_EMBEDDER_MODEL", file?.embedderModel).0.flatMap { $0.isEmpty ? nil : $0 }
        serverEnvironment = environment.filter { $0.key.hasPrefix("STRATA_LLM_") || $0.key.hasPrefix("STRATA_EMBEDDER_") }
        // Two answers to "which model" on one command line: no precedence can be right.
        if flags.llmURL != nil, flags.model != nil {
            throw RuntimeError.usage("--llm-url and --model both name the model: pass one (--model is a local GGUF file, --llm-url a model server)")
        }
        if flags.embedderURL != nil, flags.embedder != nil {
            throw RuntimeError.usage("--embedder-url and --embedder both name the encoder: pass one (--embedder is a local folder, --embedder-url an encoder server)")
        }
        adaptersDirectory = pick(flags.adapters, "STRATA_ADAPTERS", file?.adapters).0 ?? inBase("adapters")
        packDirectories = flags.packs + (file?.packs ?? []).map(inBase)
    }

    /// A built-in default path, resolved against `base`.
    public func resolved(_ defaultPath: String) -> String {
        base.isEmpty || base == "." ? defaultPath : (base as NSString).appendingPathComponent(defaultPath)
    }

    /// The model an answering command uses: the configured one, else `answeringModel`; `noModel`
    /// is the command's word for answering without one ("extractive", "none"), returned as is.
    /// Any other choice must be a file: one check for every answering command. A set but empty
    /// $STRATA_MODEL is an error, not the default.
    public func answeringModel(noModel: (word: String, meaning: String)) throws -> String {
        let fallback = resolved(Self.answeringModel)
        var chosen = fallback
        if let m = model {
            guard !(m.isEmpty && modelSource == .environment) else {
                throw RuntimeError.failed("$STRATA_MODEL is set but empty — unset it for the default model (\(fallback)) or set it to a .gguf file")
            }
            chosen = m
        } else if !FileManager.default.fileExists(atPath: fallback) {
            throw RuntimeError.failed("the default answering model \(fallback) is not here — run 'make setup' (it fetches it), or pass --model PATH.gguf")
        }
        guard chosen == noModel.word || FileManager.default.fileExists(atPath: chosen) else {
            throw RuntimeError.failed("no model file at '\(chosen)' (not found) — pass --model PATH.gguf (or set $STRATA_MODEL), or --model \(noModel.word) for \(noModel.meaning)")
        }
        return chosen
    }

    /// The model `generate`, `eval perplexity` and `adapt train` run: the configured one, else the
    /// small model. `missingHint` ends the message when the file is absent.
    public func engineModel(missingHint: String = "pass --model PATH to a .gguf file") throws -> String {
        let fallback = resolved(Self.smallModel)
        let chosen = model == "" && modelSource != .flag ? fallback : model ?? fallback
        guard FileManager.default.fileExists(atPath: chosen) else {
            throw RuntimeError.failed("model file \(chosen) not found — \(missingHint)")
        }
        return chosen
    }

    /// The model named for display and adapter checks before anything is loaded (no file check).
    public var answeringModelName: String { model ?? resolved(Self.answeringModel) }

    /// The encoder folder: the configured one, else the default. With the default, a folder
    /// beside the configured model is tried too (`make setup` fetches both into models/), so
    /// `STRATA_MODEL=/srv/strata/models/x.gguf` finds its encoder from any current directory.
    public var encoderDirectory: String {
        if let embedder { return embedder }
        let standard = resolved(Self.defaultEncoder)
        if Self.isEncoder(standard) { return standard }
        if let model, model.hasSuffix(".gguf") {
            let beside = ((model as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent((Self.defaultEncoder as NSString).lastPathComponent)
            if Self.isEncoder(beside) { return beside }
        }
        return standard
    }

    /// Whether the encoder is the default one (not named by a flag, the environment or the file).
    public var encoderIsDefault: Bool { embedder == nil }

    static func isEncoder(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json"))
    }
}
