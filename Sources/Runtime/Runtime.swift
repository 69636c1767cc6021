import Foundation
import Assistant
import Embeddings
import Knowledge
import LLM
import Prompts
import Tensor

// The sentence encoder behind the `TextEmbedder` protocol the scenarios see.
extension SentenceEncoder: TextEmbedder {}

/// The application layer between the scenarios and the command line: one run's configuration,
/// and the resources built from it, each loaded on first use and then shared (a command that
/// asks for the pack, the encoder or the store twice gets the same one).
///
/// `generator(model:…)` is the one place a `TextGenerator` is made from the configuration, and
/// `encoder()` the one place a `TextEmbedder` is: each returns the model server's
/// (`ModelServers.swift`) when the configuration names one, the in-process one otherwise.
public final class Runtime: @unchecked Sendable {
    public let configuration: RuntimeConfiguration
    /// Where notes for the user go (a pack's adapter that is absent, an encoder not found).
    public let note: @Sendable (String) -> Void
    private let lock = NSRecursiveLock()
    private var resources: [String: Any] = [:]

    public init(configuration: RuntimeConfiguration,
                note: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.configuration = configuration
        self.note = note
    }

    /// The resource under `key`, made by `make` the first time.
    func cached<T>(_ key: String, _ make: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        // Unwrapped before the cast: an absent entry cast to an optional T would succeed, as nil.
        if let stored = resources[key], let r = stored as? T { return r }
        let r = try make()
        resources[key] = r
        return r
    }

    /// Drops every resource (the command has finished), read-only database connections first:
    /// the last connection to close checkpoints the WAL and removes the -wal and -shm files, which
    /// only a connection that may write can do (as when each command closed its own).
    public func close() {
        lock.lock(); defer { lock.unlock() }
        for key in resources.keys where key == "store \(StoreAccess.read)" { resources[key] = nil }
        for key in resources.keys where !key.hasPrefix("store ") && key != "audit" { resources[key] = nil }
        resources.removeAll()
    }

    // MARK: Prompt packs

    /// The pack search path: --packs folders first, then the config file's, then the standard ones.
    public var packLibrary: PackLibrary { cached("packs") { PackLibrary.standard(extra: configuration.packDirectories) } }

    /// A pack by name, decoded once per run.
    public func pack(named name: String) throws -> PromptPack {
        try cached("pack \(name)") { try packLibrary.pack(named: name) }
    }

    // MARK: Sentence encoder

    /// The sentence encoder: the encoder server's when one is configured, else the local folder's,
    /// loaded once; its error becomes one the user can act on.
    public func encoder() throws -> any TextEmbedder {
        if let server = try encoderServer() { return server }
        let dir = configuration.encoderDirectory
        return try cached("encoder") {
            do { return try SentenceEncoder(directory: dir) } catch {
                throw RuntimeError.failed("cannot load the embedder at \(dir): \(error.localizedDescription)")
            }
        }
    }

    /// The encoder when one is there: nil (keyword retrieval, lexical support only) when the
    /// default encoder's folder is absent — said in a note, since answers are weaker without
    /// it. A folder named with --embedder, $STRATA_EMBEDDER or the config file must exist, and a
    /// configured encoder server must answer.
    public func optionalEncoder() throws -> (any TextEmbedder)? {
        if let server = try encoderServer() { return server }
        let dir = configuration.encoderDirectory
        guard RuntimeConfiguration.isEncoder(dir) else {
            if !configuration.encoderIsDefault {
                throw RuntimeError.failed("no sentence encoder at \(dir) — pass --embedder DIR (a sentence-transformers folder)")
            }
            cached("encoder note") { note("note: no sentence encoder at \(dir) — keyword retrieval and the lexical support check only (set STRATA_EMBEDDER or pass --embedder DIR; --no-embedder silences this)\n") }
            return nil
        }
        return try encoder()
    }

    // MARK: Models

    /// The adapter folder (--adapters, $STRATA_ADAPTERS, the config file, ./adapters).
    public var adapterLibrary: AdapterLibrary { cached("adapters") { AdapterLibrary(directory: configuration.adaptersDirectory) } }

    /// The engine for `model`, loaded once per model, context and thread count.
    public func engine(model: String, context: Int = 4096, threads: Int = 2, batchSize: Int = 512,
                       arithmetic: PromptArithmetic = .standard) throws -> Engine {
        try cached("engine \(model) \(context) \(threads) \(batchSize) \(arithmetic.rawValue)") {
            try Engine(path: model, context: context, threads: threads, batchSize: batchSize, arithmetic: arithmetic)
        }
    }

    /// The text generator: the model server when the configuration names one (`modelServer()`),
    /// else the engine for `model`. Every command that generates gets its `TextGenerator` here, so
    /// the backend is chosen in this one place. `model` is only evaluated for the engine: with a
    /// server, no model file need exist on this machine (and `context`, `threads` and
    /// `arithmetic` are the server's business).
    /// - Parameter extractive: the no-model baseline used when `model` is the word "extractive".
    public func generator(model: @autoclosure () throws -> String, context: Int = 4096, threads: Int = 2,
                          arithmetic: PromptArithmetic = .standard,
                          extractive: @autoclosure () -> any TextGenerator = ExtractiveGenerator()) throws -> any TextGenerator {
        if let server = try modelServer() { return server }
        let model = try model()
        if model == "extractive" { return extractive() }
        return try cached("generator \(model) \(context) \(threads) \(arithmetic.rawValue)") {
            LLMGenerator(engine: try engine(model: model, context: context, threads: threads, arithmetic: arithmetic),
                         adapters: adapterLibrary)
        }
    }
}
