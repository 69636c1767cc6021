import Foundation
import Knowledge

/// The knowledge database as a `Retriever`: keyword BM25 over FTS5, dense cosine, or both fused
/// by reciprocal rank (hybrid) when an embedder is given and the store holds its vectors.
/// Access groups are applied by the store before ranking.
public final class StoreRetriever: Retriever, @unchecked Sendable {
    public enum Mode: String, Sendable { case keyword, dense, hybrid }

    private let store: KnowledgeStore
    private let embedder: (any TextEmbedder)?
    private let dense: DenseIndex?
    /// The mode actually used (hybrid/dense fall back to keyword when the store has no vectors).
    public let mode: Mode
    // A SQLite connection is not safe to share between threads; the lock makes this one safe.
    private let lock = NSLock()
    /// Document paths are shown relative to this folder (`Knowledge/policies/refunds.md`).
    private let displayRoot: String?

    /// `mode` is the pack's wish; without an embedder or stored vectors it becomes keyword.
    /// Vectors of another encoder only are refused (`DenseSearchError.modelMismatch`, naming
    /// reindex): falling back to keyword there would hide that the encoder changed, e.g. when a
    /// server's encoder (--embedder-url) meets an index built with MiniLM.
    public init(store: KnowledgeStore, mode: Mode = .hybrid, embedder: (any TextEmbedder)? = nil,
                displayRoot: String? = nil) throws {
        self.store = store
        self.displayRoot = displayRoot.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        let indexed = mode == .keyword || embedder == nil ? [] : try store.embeddingModels()
        if let embedder, !indexed.isEmpty, !indexed.contains(embedder.modelID) {
            throw DenseSearchError.modelMismatch(query: embedder.modelID, indexed: indexed)
        }
        if mode != .keyword, let embedder, indexed.contains(embedder.modelID) {
            self.embedder = embedder
            dense = try DenseIndex(store: store, modelID: embedder.modelID)
            self.mode = mode
        } else {
            self.embedder = nil; dense = nil; self.mode = .keyword
        }
    }

    public func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] {
        try lock.withLock {
            guard let embedder, let dense else {
                return try store.keywordSearch(query, groups: groups, k: k).map {
                    passage($0, HybridHit(chunkID: $0.chunkID, score: $0.score, keywordRank: $0.rank, keywordScore: $0.score))
                }
            }
            let vector = try embedder.embed([query])[0]
            let fused = mode == .hybrid
                ? try store.hybridSearch(query, vector: vector, dense: dense, groups: groups, k: k)
                : try dense.search(vector, store: store, groups: groups, k: k).enumerated().map {
                    HybridHit(chunkID: $0.element.chunkID, score: $0.element.score, denseRank: $0.offset + 1, denseScore: $0.element.score)
                }
            let byID = Dictionary(fused.map { ($0.chunkID, $0) }, uniquingKeysWith: { a, _ in a })
            return try store.searchHits(for: fused, query: query).map { passage($0, byID[$0.chunkID]!) }
        }
    }

    private func passage(_ h: SearchHit, _ f: HybridHit) -> RetrievedPassage {
        var path = h.documentPath
        if let root = displayRoot, path.hasPrefix(root) { path.removeFirst(root.count) }
        return RetrievedPassage(chunkID: h.chunkID, documentPath: path, headingPath: h.headingPath, text: h.text,
                                startLine: h.startLine, endLine: h.endLine, charStart: h.charStart, charEnd: h.charEnd,
                                score: f.score, keywordRank: f.keywordRank, keywordScore: f.keywordScore,
                                denseRank: f.denseRank, denseScore: f.denseScore, groups: h.groups)
    }
}
