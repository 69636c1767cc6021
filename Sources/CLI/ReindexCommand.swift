import Foundation
import Knowledge
import Embeddings

/// `strata reindex --embeddings`: embeds every chunk that has no vector for the current encoder.
struct ReindexCommand: CLICommand {
    static let name = "reindex"
    static let summary = "compute missing vectors for the knowledge index"
    static let usage = """
        Usage: strata reindex --embeddings [--embedder DIR | --embedder-url URL] [--batch 64] [--replace]

        Encodes, in batches, every chunk that has no vector for the encoder (identified by its
        folder name and weight hash, or remote: and its name on the server), committing each
        batch, so an interrupted run resumes where it stopped. One index holds one encoder's
        vectors: an index with another encoder's is refused unless --replace, which first deletes
        them and then re-encodes every chunk with this one. Progress goes to stderr.
        """
    static let options: [OptionSpec] = [
        .flag("embeddings", "compute missing chunk vectors (the only reindex target for now)"),
        EmbedderOption.spec,
        .value("batch", "N", "chunks per batch (default 64)"),
        .flag("replace", "delete vectors made by other encoders first"),
    ] + ServerOptions.embedder

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.has("embeddings") else {
            throw CLIError.usage("say what to rebuild: strata reindex --embeddings", command: name)
        }
        let batch = try args.int("batch", default: 64)
        guard (1...4096).contains(batch) else { throw CLIError.usage("--batch must be between 1 and 4096, got \(batch)", command: name) }
        let encoder = try EmbedderOption.load(args)
        let store = try args.openStore(.write)
        if args.has("replace") {
            for m in try store.embeddingModels() where m != encoder.modelID { try store.deleteEmbeddings(modelID: m) }
        } else {
            try args.runtime.refuseMixing(store, encoder)
        }
        let total = try store.chunksMissingEmbeddings(modelID: encoder.modelID).count
        var done = 0
        let start = Date()
        while true {
            let todo = try store.chunksMissingEmbeddings(modelID: encoder.modelID, limit: batch)
            if todo.isEmpty { break }
            let vectors = try encoder.embed(todo.map(\.text))
            try store.putEmbeddings(modelID: encoder.modelID, Array(zip(todo.map(\.id), vectors)).map { (chunkID: $0.0, vector: $0.1) })
            done += todo.count
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-3)
            FileHandle.standardError.write(Data(String(format: "\rembedding: %d/%d chunks, %.1f chunks/s\u{1B}[K", done, total, rate).utf8))
        }
        if done > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        print("embedded \(done) chunks with \(encoder.modelID) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
        return 0
    }
}
