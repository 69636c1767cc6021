import Foundation
import Tensor

/// A result of dense or hybrid retrieval, with each retriever's rank and score kept so a caller
/// can show why a passage was chosen.
public struct HybridHit: Sendable, Equatable {
    public var chunkID: Int64
    /// The fused score (RRF for hybrid, the cosine for dense); higher is better.
    public var score: Double
    /// 1-based rank and BM25 score in the keyword list, nil when keyword search missed it.
    public var keywordRank: Int?, keywordScore: Double?
    /// 1-based rank and cosine in the dense list, nil when dense search missed it.
    public var denseRank: Int?, denseScore: Double?

    public init(chunkID: Int64, score: Double, keywordRank: Int? = nil, keywordScore: Double? = nil,
                denseRank: Int? = nil, denseScore: Double? = nil) {
        self.chunkID = chunkID; self.score = score; self.keywordRank = keywordRank
        self.keywordScore = keywordScore; self.denseRank = denseRank; self.denseScore = denseScore
    }
}

/// Reciprocal rank fusion (Cormack et al. 2009): score(d) = Σ 1 / (k + rank_r(d)) over the
/// retrievers that returned d. It needs no score calibration between BM25 and cosine, which
/// live on unrelated scales.
public enum ReciprocalRankFusion {
    public static let defaultK = 60.0

    /// How much the dense list counts for a query with Chinese in it. The default encoder
    /// (all-MiniLM-L6-v2) was trained on English: on CMRC 2018 its dense nDCG@10 is 0.24 against
    /// BM25's 0.99, and every weight above 0 loses to the keyword list alone (0.59 at equal weight,
    /// 0.84 at 0.2, 0.94 at 0.05, 0.984 at 0 when only the Han share of a mixed query went to 0,
    /// against keyword's 0.986): the dense list is worth nothing there, so it gets nothing and the
    /// hybrid ranking of a Chinese query is the keyword one. On the answers benchmark's Chinese
    /// questions the source passage came first for 30 of 61 instead of 25 (top four: 45 / 43).
    /// A Chinese or multilingual encoder should set STRATA_CJK_DENSE_WEIGHT=1.
    public static let cjkDenseWeight: Double = {
        if let v = ProcessInfo.processInfo.environment["STRATA_CJK_DENSE_WEIGHT"].flatMap(Double.init), v >= 0 { return v }
        return 0
    }()

    /// The share of Han characters among `query`'s letters.
    public static func hanShare(_ query: String) -> Double {
        var han = 0, letters = 0
        for u in query.unicodeScalars where u.properties.isAlphabetic {
            letters += 1
            if TextScan.isCJK(u.value) { han += 1 }
        }
        return letters == 0 ? 0 : Double(han) / Double(letters)
    }

    /// The dense list's weight for `query`: 1 for a query without Chinese, `cjkDenseWeight` for
    /// one with any. A share between would still let an encoder that cannot read the Chinese part
    /// reorder the keyword list ("NBA总决赛MVP是谁" is two-thirds Latin letters by count).
    public static func denseWeight(for query: String) -> Double {
        hanShare(query) > 0 ? cjkDenseWeight : 1
    }

    /// Fuses two ranked lists (best first) into the top `limit`; ties broken by smaller chunk id.
    public static func fuse(keyword: [(chunkID: Int64, score: Double)], dense: [(chunkID: Int64, score: Double)],
                            k: Double = defaultK, denseWeight: Double = 1, limit: Int) -> [HybridHit] {
        var hits: [Int64: HybridHit] = [:]
        for (i, r) in keyword.enumerated() where hits[r.chunkID]?.keywordRank == nil {
            var h = hits[r.chunkID] ?? HybridHit(chunkID: r.chunkID, score: 0)
            h.keywordRank = i + 1; h.keywordScore = r.score; h.score += 1 / (k + Double(i + 1))
            hits[r.chunkID] = h
        }
        for (i, r) in dense.enumerated() where hits[r.chunkID]?.denseRank == nil {
            var h = hits[r.chunkID] ?? HybridHit(chunkID: r.chunkID, score: 0)
            h.denseRank = i + 1; h.denseScore = r.score; h.score += denseWeight / (k + Double(i + 1))
            hits[r.chunkID] = h
        }
        return hits.values.sorted { $0.score > $1.score || ($0.score == $1.score && $0.chunkID < $1.chunkID) }
            .prefix(max(0, limit)).map { $0 }
    }
}

/// Errors of dense retrieval.
public enum DenseSearchError: Error, LocalizedError, Equatable {
    /// The index holds vectors of other models only: comparing vectors across models is meaningless.
    case modelMismatch(query: String, indexed: [String])
    /// No chunk has a vector yet.
    case noVectors(modelID: String)

    public var errorDescription: String? {
        switch self {
        case .modelMismatch(let q, let ix):
            "the index was embedded with \(ix.joined(separator: ", ")) but the query encoder is \(q) — pass --embedder (or --embedder-url) for that model, or run 'strata reindex --embeddings --replace' to re-embed with this one"
        case .noVectors(let m):
            "no chunk has a vector for \(m) yet — run 'strata reindex --embeddings' (or ingest with an embedder) first"
        }
    }
}

/// All vectors of one model in a `VectorIndex`, loaded once and searched many times.
public final class DenseIndex {
    public let modelID: String
    public let index: VectorIndex

    /// Loads the vectors of `modelID`; refuses when the store was embedded with another model.
    public init(store: KnowledgeStore, modelID: String) throws {
        let models = try store.embeddingModels()
        if !models.isEmpty && !models.contains(modelID) { throw DenseSearchError.modelMismatch(query: modelID, indexed: models) }
        let m = try store.loadEmbeddings(modelID: modelID)
        guard m.count > 0 else { throw DenseSearchError.noVectors(modelID: modelID) }
        let ix = VectorIndex(dimension: m.dimension, reserve: m.count)
        try m.vectors.withUnsafeBufferPointer { try ix.add(ids: m.chunkIDs, vectors: $0.baseAddress!) }
        // A large index keeps an int8 copy (+25% memory): a query then scans a quarter of the
        // bytes and is still exact (VectorIndex.searchInt8) — 3.4x faster at 1M vectors here.
        if ix.count >= VectorIndex.prefilterMinRows { ix.enableQuantizedCopy() }
        index = ix
        self.modelID = modelID
    }

    /// The top k chunks by cosine (vectors are unit length) that a caller in `groups` may see.
    /// Hidden chunks are masked out before selection, so k visible results come back.
    public func search(_ vector: [Float], store: KnowledgeStore, groups: [String], k: Int) throws -> [(chunkID: Int64, score: Double)] {
        let hidden = try store.hiddenChunkIDs(groups: groups)
        let mask = hidden.isEmpty ? nil : index.mask { !hidden.contains($0) }
        return try index.search(vector, k: k, allowed: mask).map { ($0.id, Double($0.score)) }
    }
}

extension KnowledgeStore {
    /// The models that have vectors in this store.
    public func embeddingModels() throws -> [String] {
        try database.query("SELECT DISTINCT model_id FROM embeddings ORDER BY model_id") { $0.text(0) }
    }

    /// Keyword (BM25) and dense lists fused by RRF; each list is taken `depth` deep.
    public func hybridSearch(_ query: String, vector: [Float], dense: DenseIndex, groups: [String], k: Int,
                             depth: Int = 100) throws -> [HybridHit] {
        let kw = try keywordSearch(query, groups: groups, k: max(k, depth)).map { (chunkID: $0.chunkID, score: $0.score) }
        let dn = try dense.search(vector, store: self, groups: groups, k: max(k, depth))
        return ReciprocalRankFusion.fuse(keyword: kw, dense: dn, denseWeight: ReciprocalRankFusion.denseWeight(for: query), limit: k)
    }

    /// Full `SearchHit`s (path, lines, snippet) for fused or dense results, in their order.
    public func searchHits(for hits: [HybridHit], query: String) throws -> [SearchHit] {
        let records = Dictionary(try chunks(ids: hits.map(\.chunkID)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let terms = KeywordQuery(query).terms
        var out: [SearchHit] = []
        for h in hits {
            guard let c = records[h.chunkID] else { continue }
            out.append(SearchHit(chunkID: c.id, documentPath: c.documentPath, documentTitle: c.documentTitle,
                                 headingPath: c.headingPath, text: c.text, snippet: Snippet.make(c.text, terms: terms),
                                 startLine: c.startLine, endLine: c.endLine, charStart: c.charStart, charEnd: c.charEnd,
                                 score: h.score, rank: out.count + 1, groups: c.groups))
        }
        return out
    }
}
