import Foundation
import Tensor

/// SQuAD-style answer scoring, and the aggregate figures `strata eval qa` reports.
public enum QAMetrics {
    /// SQuAD normalisation: lower case, no punctuation, no English articles, single spaces.
    /// Chinese text is compared character by character (CMRC 2018's convention), so its tokens
    /// are its Han characters plus any Latin words or numbers.
    public static func tokens(_ text: String) -> [String] {
        let lowered = text.lowercased()
        var out: [String] = []
        var word = ""
        func flush() {
            if !word.isEmpty, !["a", "an", "the"].contains(word) { out.append(word) }
            word = ""
        }
        for s in lowered.unicodeScalars {
            if TextAnalysis.isHan(s) { flush(); out.append(String(s)) }
            else if s.properties.isAlphabetic || s.properties.numericType != nil { word.unicodeScalars.append(s) }
            else { flush() }
        }
        flush()
        return out
    }

    public static func exactMatch(_ prediction: String, _ golds: [String]) -> Double {
        let p = tokens(prediction)
        if golds.isEmpty { return p.isEmpty ? 1 : 0 }
        return golds.contains { tokens($0) == p } ? 1 : 0
    }

    /// Token-overlap F1 against the best gold answer; with no gold answers, 1 only for an empty prediction.
    public static func f1(_ prediction: String, _ golds: [String]) -> Double {
        let p = tokens(prediction)
        if golds.isEmpty { return p.isEmpty ? 1 : 0 }
        return golds.map { gold -> Double in
            let g = tokens(gold)
            if p.isEmpty || g.isEmpty { return p == g ? 1 : 0 }
            var counts: [String: Int] = [:]
            for t in g { counts[t, default: 0] += 1 }
            var common = 0
            for t in p where (counts[t] ?? 0) > 0 { counts[t]! -= 1; common += 1 }
            if common == 0 { return 0 }
            let precision = Double(common) / Double(p.count), recall = Double(common) / Double(g.count)
            return 2 * precision * recall / (precision + recall)
        }.max() ?? 0
    }

    /// The refusal layer a refusal came from, so a table can show what each layer contributes.
    public enum Layer: String, Sendable, Codable, CaseIterable {
        case gate, prompt, supportCheck = "support-check", empty

        public init(_ reason: RefusalReason) {
            switch reason {
            case .noPassages, .lowScore, .lowCoverage, .modelLanguage: self = .gate
            case .modelDeclined: self = .prompt
            case .unsupported, .disagrees: self = .supportCheck
            case .empty: self = .empty
            }
        }
    }

    /// One evaluated question (also one line of `eval qa --records`, hence Codable).
    public struct Outcome: Sendable, Codable, Equatable {
        public var answerable: Bool
        /// The gold passage was among the retrieved ones (answerable questions only).
        public var goldRetrieved: Bool
        public var refused: Bool
        /// Which layer refused (nil when answered).
        public var refusedBy: Layer?
        /// A refusal printed with a citation marker or a Sources entry: must never happen.
        public var refusedWithCitation: Bool
        public var em: Double
        public var f1: Double
        /// nil when the answer cites nothing (refused, or answerable without citations).
        public var citesGold: Bool?
        public var seconds: Double
        public init(answerable: Bool, goldRetrieved: Bool, refused: Bool, refusedBy: Layer? = nil, refusedWithCitation: Bool = false,
                    em: Double, f1: Double, citesGold: Bool?, seconds: Double) {
            self.answerable = answerable; self.goldRetrieved = goldRetrieved; self.refused = refused
            self.refusedBy = refusedBy; self.refusedWithCitation = refusedWithCitation
            self.em = em; self.f1 = f1; self.citesGold = citesGold; self.seconds = seconds
        }
    }

    /// Refusals one layer made: how many, and how many of them were questions to refuse.
    public struct LayerCount: Sendable, Equatable {
        public var refused = 0, toRefuse = 0
    }

    public struct Summary: Sendable, Equatable {
        public var questions = 0, answerable = 0, unanswerable = 0
        public var recallAtK = 0.0
        /// EM/F1 on answerable questions (a refusal scores 0).
        public var answerableEM = 0.0, answerableF1 = 0.0
        /// SQuAD 2.0 overall: unanswerable questions score 1 when refused.
        public var overallEM = 0.0, overallF1 = 0.0
        public var refusalPrecision = 0.0, refusalRecall = 0.0, refusalF1 = 0.0
        /// Among answers that cite, the share whose citations include the gold passage.
        public var citationAccuracy = 0.0
        public var secondsPerQuestion = 0.0
        public var byLayer: [Layer: LayerCount] = [:]
        public var refusedWithCitation = 0
    }

    public static func summarize(_ outcomes: [Outcome]) -> Summary {
        var s = Summary()
        s.questions = outcomes.count
        guard !outcomes.isEmpty else { return s }
        let ans = outcomes.filter(\.answerable), unans = outcomes.filter { !$0.answerable }
        s.answerable = ans.count; s.unanswerable = unans.count
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        s.recallAtK = mean(ans.map { $0.goldRetrieved ? 1 : 0 })
        s.answerableEM = mean(ans.map(\.em)); s.answerableF1 = mean(ans.map(\.f1))
        s.overallEM = mean(outcomes.map(\.em)); s.overallF1 = mean(outcomes.map(\.f1))
        let truePos = Double(unans.filter(\.refused).count)
        let predicted = Double(outcomes.filter(\.refused).count)
        s.refusalPrecision = predicted == 0 ? 0 : truePos / predicted
        s.refusalRecall = unans.isEmpty ? 0 : truePos / Double(unans.count)
        s.refusalF1 = s.refusalPrecision + s.refusalRecall == 0 ? 0
            : 2 * s.refusalPrecision * s.refusalRecall / (s.refusalPrecision + s.refusalRecall)
        s.citationAccuracy = mean(outcomes.compactMap(\.citesGold).map { $0 ? 1 : 0 })
        s.secondsPerQuestion = mean(outcomes.map(\.seconds))
        for o in outcomes where o.refused {
            let layer = o.refusedBy ?? .empty
            s.byLayer[layer, default: LayerCount()].refused += 1
            if !o.answerable { s.byLayer[layer, default: LayerCount()].toRefuse += 1 }
        }
        s.refusedWithCitation = outcomes.filter(\.refusedWithCitation).count
        return s
    }

    /// A difference between two runs on the same questions (refusal layers on minus off), with a
    /// 95% percentile interval from a paired bootstrap: questions are resampled with replacement,
    /// each keeping both runs' scores, so question difficulty cancels out. 300 questions give an
    /// interval of roughly ±0.05 on an overall F1 difference; 28 give ±0.2.
    public struct PairedDifference: Sendable, Equatable {
        public var questions: Int
        public var mean: Double
        public var low: Double, high: Double
    }

    /// Paired bootstrap over per-question differences `a[i] − b[i]` (seeded: the same input gives
    /// the same interval). nil for no pairs.
    public static func pairedDifference(_ a: [Double], _ b: [Double], resamples: Int = 10_000, seed: UInt64 = 1) -> PairedDifference? {
        precondition(a.count == b.count, "pairedDifference: one score per question in each run")
        let d = zip(a, b).map { $0 - $1 }
        guard !d.isEmpty, resamples > 0 else { return nil }
        var rng = SplitMix64(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var sum = 0.0
            for _ in 0..<d.count { sum += d[Int(rng.next() % UInt64(d.count))] }
            means[r] = sum / Double(d.count)
        }
        means.sort()
        // Percentile interval: as many resampled means below it as above it (2.5% each side).
        let tail = resamples / 40
        return PairedDifference(questions: d.count, mean: d.reduce(0, +) / Double(d.count),
                                low: means[tail], high: means[resamples - 1 - tail])
    }
}
