import Foundation
import Assistant
import Embeddings
import Knowledge

// The sentence encoder behind the `TextEmbedder` protocol the scenarios see.
extension SentenceEncoder: TextEmbedder {}

/// The `--embedder DIR` option shared by the commands that encode text.
enum EmbedderOption {
    static let spec = OptionSpec.value("embedder", "DIR",
        "sentence-transformers BERT folder (default: $STRATA_EMBEDDER or models/all-MiniLM-L6-v2)")

    static func directory(_ args: ParsedArguments) -> String {
        args.value("embedder") ?? ProcessInfo.processInfo.environment["STRATA_EMBEDDER"] ?? "models/all-MiniLM-L6-v2"
    }

    /// Refuses to add `encoder`'s vectors to an index holding another encoder's: one index, one
    /// vector space (a cosine between two models' vectors means nothing). The fix is reindex.
    static func refuseMixing(_ store: KnowledgeStore, _ encoder: any TextEmbedder) throws {
        let others = try store.embeddingModels().filter { $0 != encoder.modelID }
        guard !others.isEmpty else { return }
        throw CLIError.failed("the index holds vectors made by \(others.joined(separator: ", ")), and this encoder is \(encoder.modelID): one index takes one encoder's vectors — run 'strata reindex --embeddings --replace' with this encoder to re-encode every chunk, or pass the encoder that made them")
    }

    /// Loads the encoder (a server's when --embedder-url or $STRATA_EMBEDDER_URL names one),
    /// turning its error into one the user can act on.
    static func load(_ args: ParsedArguments) throws -> any TextEmbedder {
        if let remote = try RemoteWiring.embedder(args) { return remote }
        let dir = directory(args)
        do { return try SentenceEncoder(directory: dir) } catch {
            throw CLIError.failed("cannot load the embedder at \(dir): \(error.localizedDescription)")
        }
    }
}
