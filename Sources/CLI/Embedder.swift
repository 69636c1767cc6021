import Foundation
import Embeddings
import Runtime

/// The `--embedder DIR` option shared by the commands that encode text.
enum EmbedderOption {
    static let spec = OptionSpec.value("embedder", "DIR",
        "sentence-transformers BERT folder (default: $STRATA_EMBEDDER or models/all-MiniLM-L6-v2)")

    /// The encoder, loaded once per run by the runtime.
    static func load(_ args: ParsedArguments) throws -> SentenceEncoder { try args.runtime.encoder() }
}
