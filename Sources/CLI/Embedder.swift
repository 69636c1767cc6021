import Foundation
import Assistant
import Embeddings

// The sentence encoder behind the `TextEmbedder` protocol the scenarios see.
extension SentenceEncoder: TextEmbedder {}

/// The `--embedder DIR` option shared by the commands that encode text.
enum EmbedderOption {
    static let spec = OptionSpec.value("embedder", "DIR",
        "sentence-transformers BERT folder (default: $STRATA_EMBEDDER or models/all-MiniLM-L6-v2)")

    static func directory(_ args: ParsedArguments) -> String {
        args.value("embedder") ?? ProcessInfo.processInfo.environment["STRATA_EMBEDDER"] ?? "models/all-MiniLM-L6-v2"
    }

    /// Loads the encoder, turning its error into one the user can act on.
    static func load(_ args: ParsedArguments) throws -> SentenceEncoder {
        let dir = directory(args)
        do { return try SentenceEncoder(directory: dir) } catch {
            throw CLIError.failed("cannot load the embedder at \(dir): \(error.localizedDescription)")
        }
    }
}
