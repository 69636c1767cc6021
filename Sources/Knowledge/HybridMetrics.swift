import Foundation

/// Ranking metrics as BEIR / pytrec_eval compute them, for one query at a time, averaged by
/// `RetrievalMetrics.Accumulator`.
public struct RetrievalMetrics: Sendable, Equatable, Codable {
    public var ndcgAt10: Double
    public var recallAt1: Double, recallAt5: Double, recallAt10: Double, recallAt100: Double
    public var mrrAt10: Double

    public init(ndcgAt10: Double = 0, recallAt1: Double = 0, recallAt5: Double = 0, recallAt10: Double = 0,
                recallAt100: Double = 0, mrrAt10: Double = 0) {
        self.ndcgAt10 = ndcgAt10; self.recallAt1 = recallAt1; self.recallAt5 = recallAt5
        self.recallAt10 = recallAt10; self.recallAt100 = recallAt100; self.mrrAt10 = mrrAt10
    }

    /// Metrics of one ranked list against graded judgements (`relevance[id] > 0` is relevant).
    /// nDCG uses gain = grade and discount 1/log2(rank + 1); recall@k = relevant found in the top
    /// k / all relevant; MRR@10 = 1 / rank of the first relevant result within 10.
    public static func of<ID: Hashable>(ranking: [ID], relevance: [ID: Int]) -> RetrievalMetrics {
        let relevant = relevance.filter { $0.value > 0 }
        guard !relevant.isEmpty else { return RetrievalMetrics() }
        var dcg = 0.0
        for (i, id) in ranking.prefix(10).enumerated() { dcg += Double(relevance[id] ?? 0) / log2(Double(i + 2)) }
        var idcg = 0.0
        for (i, g) in relevant.values.sorted(by: >).prefix(10).enumerated() { idcg += Double(g) / log2(Double(i + 2)) }
        func recall(_ k: Int) -> Double {
            Double(Set(ranking.prefix(k)).filter { relevant[$0] != nil }.count) / Double(relevant.count)
        }
        let firstHit = ranking.prefix(10).firstIndex { relevant[$0] != nil }
        return RetrievalMetrics(ndcgAt10: dcg / idcg, recallAt1: recall(1), recallAt5: recall(5), recallAt10: recall(10),
                                recallAt100: recall(100), mrrAt10: firstHit.map { 1 / Double($0 + 1) } ?? 0)
    }

    /// Running mean over queries.
    public struct Accumulator: Sendable {
        public private(set) var count = 0
        private var sum = RetrievalMetrics()
        public init() {}
        public mutating func add(_ m: RetrievalMetrics) {
            count += 1
            sum.ndcgAt10 += m.ndcgAt10; sum.recallAt1 += m.recallAt1; sum.recallAt5 += m.recallAt5
            sum.recallAt10 += m.recallAt10; sum.recallAt100 += m.recallAt100; sum.mrrAt10 += m.mrrAt10
        }
        public var mean: RetrievalMetrics {
            let n = Double(max(count, 1))
            return RetrievalMetrics(ndcgAt10: sum.ndcgAt10 / n, recallAt1: sum.recallAt1 / n, recallAt5: sum.recallAt5 / n,
                                    recallAt10: sum.recallAt10 / n, recallAt100: sum.recallAt100 / n, mrrAt10: sum.mrrAt10 / n)
        }
    }
}
