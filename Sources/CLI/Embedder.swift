import Foundation
import Assistant
import Runtime

/// The `--embedder DIR` option shared by the commands that encode text.
enum EmbedderOption {
    static let spec = OptionSpec.value("embedder", "DIR",
        "sentence-transformers BERT folder (default: $STRATA_EMBEDDER or models/all-MiniLM-L6-v2)")

    /// The encoder (an encoder server's when one is configured), loaded once per run by the runtime.
    static func load(_ args: ParsedArguments) throws -> any TextEmbedder { try args.runtime.encoder() }
}
