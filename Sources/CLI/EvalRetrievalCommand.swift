import Foundation
import Knowledge
import Embeddings
import Evaluation

/// `strata eval retrieval --beir DIR`: nDCG@10, Recall@1/5/10/100 and MRR@10 of keyword, dense
/// and hybrid retrieval on a BEIR-layout dataset (corpus.jsonl, queries.jsonl, qrels/test.tsv).
struct EvalRetrievalCommand: CLICommand {
    static let name = "eval retrieval"
    static let summary = "measure retrieval quality on a BEIR dataset"
    static let usage = """
        Usage: strata eval retrieval --beir DIR [--embedder DIR] [--max-queries N] [--index PATH] [--json]

        Indexes the corpus (one chunk per document: title + text), embeds it, then ranks 100
        documents per judged query by keyword (BM25), dense (cosine) and hybrid (RRF, k = 60)
        retrieval. --index keeps the built index in a file so later runs skip indexing and
        embedding (default: in memory). Embedding 5,000 abstracts takes minutes on 2 cores.
        """
    static let options: [OptionSpec] = [
        .value("beir", "DIR", "BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)"),
        EmbedderOption.spec,
        .value("max-queries", "N", "evaluate only the first N judged queries"),
        .value("index", "PATH", "keep the built index in this SQLite file and reuse it"),
        .flag("json", "print the metrics as JSON"),
    ] + ServerOptions.embedder

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard let dir = args.value("beir") else {
            throw CLIError.usage("give the dataset: strata eval retrieval --beir ../shared/datasets/scifact", command: name)
        }
        let data = try BEIRData.load(dir)
        var queries = data.qrels.keys.sorted().compactMap { id in data.queries[id].map { (id: id, text: $0) } }
        if let n = try args.optionalInt("max-queries") {
            guard n > 0 else { throw CLIError.usage("--max-queries must be positive", command: name) }
            queries = Array(queries.prefix(n))
        }
        guard !queries.isEmpty else { throw CLIError.failed("\(dir): no judged query has text in queries.jsonl — check the dataset") }
        let encoder = try EmbedderOption.load(args)
        let store = try KnowledgeStore(path: args.value("index") ?? ":memory:")

        // Index the corpus once (documents keyed by their BEIR id), then embed what is missing.
        if store.documentCount != data.corpus.count {
            for (i, doc) in data.corpus.enumerated() {
                let text = doc.title.isEmpty ? doc.text : doc.title + "\n" + doc.text
                try store.replaceDocument(NewDocument(path: doc.id, title: doc.title, sourceType: "beir", sha256: doc.id,
                                                      byteSize: text.utf8.count, modifiedAt: 0, groups: []),
                                          chunks: [NewChunk(text: text, headingPath: "", charStart: 0, charEnd: text.unicodeScalars.count,
                                                            startLine: 1, endLine: 1, tokenEstimate: text.count / 4)])
                if i % 500 == 0 { progress("indexing: \(i)/\(data.corpus.count) documents") }
            }
        }
        var done = 0
        let start = Date()
        while true {
            let todo = try store.chunksMissingEmbeddings(modelID: encoder.modelID, limit: 256)
            if todo.isEmpty { break }
            let vectors = try encoder.embed(todo.map(\.text))
            try store.putEmbeddings(modelID: encoder.modelID, zip(todo.map(\.id), vectors).map { (chunkID: $0.0, vector: $0.1) })
            done += todo.count
            progress(String(format: "embedding: %d chunks, %.1f/s", done, Double(done) / max(1e-3, Date().timeIntervalSince(start))))
        }
        progress("")
        let dense = try DenseIndex(store: store, modelID: encoder.modelID)
        let docOf = Dictionary(uniqueKeysWithValues: try store.chunks(ids: dense.index.ids).map { ($0.id, $0.documentPath) })

        var acc = ["keyword": RetrievalMetrics.Accumulator(), "dense": .init(), "hybrid": .init()]
        let qvecs = try encoder.embed(queries.map(\.text))
        for (qi, q) in queries.enumerated() {
            let rel = data.qrels[q.id] ?? [:]
            let kw = try store.keywordSearch(q.text, groups: [], k: 100).map { (chunkID: $0.chunkID, score: $0.score) }
            let dn = try dense.search(qvecs[qi], store: store, groups: [], k: 100)
            let hy = ReciprocalRankFusion.fuse(keyword: kw, dense: dn, denseWeight: ReciprocalRankFusion.denseWeight(for: q.text), limit: 100)
            acc["keyword"]!.add(.of(ranking: kw.compactMap { docOf[$0.chunkID] }, relevance: rel))
            acc["dense"]!.add(.of(ranking: dn.compactMap { docOf[$0.chunkID] }, relevance: rel))
            acc["hybrid"]!.add(.of(ranking: hy.compactMap { docOf[$0.chunkID] }, relevance: rel))
        }
        let modes = ["keyword", "dense", "hybrid"]
        if args.has("json") {
            struct Out: Encodable { let dataset: String, embedder: String, queries: Int, metrics: [String: RetrievalMetrics] }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let out = Out(dataset: dir, embedder: encoder.modelID, queries: queries.count,
                          metrics: Dictionary(uniqueKeysWithValues: modes.map { ($0, acc[$0]!.mean) }))
            print(String(decoding: try enc.encode(out), as: UTF8.self))
        } else {
            print("\(dir): \(queries.count) queries, \(data.corpus.count) documents, embedder \(encoder.modelID)")
            print("mode      nDCG@10  R@1     R@5     R@10    R@100   MRR@10")
            for m in modes {
                let v = acc[m]!.mean
                print(m.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%.4f   %.4f  %.4f  %.4f  %.4f  %.4f", v.ndcgAt10, v.recallAt1, v.recallAt5,
                             v.recallAt10, v.recallAt100, v.mrrAt10))
            }
        }
        return 0
    }

    private static func progress(_ s: String) {
        FileHandle.standardError.write(Data(("\r" + s + "\u{1B}[K").utf8))
    }
}
