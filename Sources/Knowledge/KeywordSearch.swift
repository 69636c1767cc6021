/// One keyword-search result: the chunk, where it came from, and why it matched.
public struct SearchHit: Sendable, Equatable, Codable {
    public var chunkID: Int64
    public var documentPath: String
    public var documentTitle: String
    public var headingPath: String
    public var text: String
    /// The passage around the first match with matched terms marked `[like this]`.
    public var snippet: String
    public var startLine: Int, endLine: Int
    public var charStart: Int, charEnd: Int
    /// BM25 relevance, higher is better (SQLite's bm25() negated).
    public var score: Double
    /// 1-based rank in this result list.
    public var rank: Int
    public var groups: [String]
}

extension KnowledgeStore {
    /// Column weights for bm25(): the title column (document title + heading path) counts double.
    /// Titles are short, so BM25's length normalisation already favours them; doubling makes a
    /// heading match beat a passing mention in a long body without drowning the body out.
    public static let titleWeight = 2.0, bodyWeight = 1.0

    /// Top-`k` chunks for `query` by BM25, among those a caller in `groups` may see.
    ///
    /// `search` uses `.any` (OR of terms ranked by bm25) by default: that is what works for
    /// retrieval (the BEIR BM25 baselines do the same) — a question rarely contains every word of
    /// its answer, and AND returns nothing for most natural questions, while bm25 still ranks
    /// chunks holding more and rarer terms first. `.all` is there for exact filtering.
    /// Restricted chunks are removed in the WHERE clause, before ranking and LIMIT.
    public func keywordSearch(_ query: String, groups: [String], k: Int = 5,
                              combination: KeywordQuery.Combination = .any) throws -> [SearchHit] {
        let q = KeywordQuery(query)
        guard k > 0, let match = q.matchExpression(combination) else { return [] }
        let ranked = try database.query("""
            SELECT rowid, bm25(chunks_fts, \(Self.titleWeight), \(Self.bodyWeight)) AS s FROM chunks_fts
            WHERE chunks_fts MATCH ? AND rowid NOT IN (\(AccessGroups.hiddenChunksSQL))
            ORDER BY s LIMIT ?
            """, [.text(match), .text(AccessGroups.json(groups)), .integer(Int64(k))]) { ($0.int(0), $0.double(1)) }
        let records = Dictionary(try chunks(ids: ranked.map(\.0)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var hits: [SearchHit] = []
        for (id, bm25) in ranked {
            guard let c = records[id] else { continue }
            hits.append(SearchHit(chunkID: id, documentPath: c.documentPath, documentTitle: c.documentTitle,
                                  headingPath: c.headingPath, text: c.text, snippet: Snippet.make(c.text, terms: q.terms),
                                  startLine: c.startLine, endLine: c.endLine, charStart: c.charStart, charEnd: c.charEnd,
                                  score: -bm25, rank: hits.count + 1, groups: c.groups))
        }
        return hits
    }
}
