import Foundation
import Knowledge

/// The knowledge database as a `Retriever` (keyword BM25 over FTS5 for now; hybrid search slots
/// in here when the embed branch provides it). Access groups are applied by the store inside the
/// SQL, before ranking.
public final class StoreRetriever: Retriever, @unchecked Sendable {
    private let store: KnowledgeStore
    // A SQLite connection is not safe to share between threads; the lock makes this one safe.
    private let lock = NSLock()
    /// Document paths are shown relative to this folder (`Knowledge/policies/refunds.md`).
    private let displayRoot: String?

    public init(store: KnowledgeStore, displayRoot: String? = nil) {
        self.store = store
        self.displayRoot = displayRoot.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
    }

    public func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] {
        let hits = try lock.withLock { try store.keywordSearch(query, groups: groups, k: k) }
        return hits.map { h in
            var path = h.documentPath
            if let root = displayRoot, path.hasPrefix(root) { path.removeFirst(root.count) }
            return RetrievedPassage(chunkID: h.chunkID, documentPath: path, headingPath: h.headingPath, text: h.text,
                                    startLine: h.startLine, endLine: h.endLine, charStart: h.charStart, charEnd: h.charEnd,
                                    score: h.score, keywordRank: h.rank, keywordScore: h.score)
        }
    }
}
