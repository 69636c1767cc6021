import Foundation
import Assistant
import Tensor

/// The `eval qa` sample of a BEIR Q&A folder: a seeded shuffle of its questions cut to `limit`,
/// with a seeded share of the gold passages held out of the index (their questions become
/// refusal cases, for datasets such as CMRC 2018 that have no unanswerable questions).
package struct QASample {
    package let questions: [BEIRQuestion]
    /// Gold passage ids left out of the index.
    package let heldOut: Set<String>
    package let retriever: LexicalRetriever
    /// Passage ids in index order: chunk id n is `ids[n - 1]`.
    package let ids: [String]

    package static func load(_ dir: String, limit: Int, seed: Int, holdout: Double) throws -> QASample {
        let corpusPath = (dir as NSString).appendingPathComponent("corpus.jsonl")
        var queries = try BEIRQuestion.load((dir as NSString).appendingPathComponent("queries.jsonl"))
        // Held-out passages: a seeded shuffle of the distinct gold contexts.
        var rng = SplitMix64(seed: UInt64(bitPattern: Int64(seed)))
        var contexts = Array(Set(queries.map(\.context))).sorted()
        contexts.shuffle(using: &rng)
        let heldOut = Set(contexts.prefix(Int(Double(contexts.count) * holdout)))
        let (retriever, ids) = try LexicalRetriever.beirCorpus(corpusPath) { !heldOut.contains($0) }
        queries.shuffle(using: &rng)
        return QASample(questions: Array(queries.prefix(limit)), heldOut: heldOut, retriever: retriever, ids: ids)
    }

    /// Whether `q` should be answered: answerable, and its gold passage is in the index.
    package func answerable(_ q: BEIRQuestion) -> Bool { q.answerable && !heldOut.contains(q.context) }

    /// One question through the whole pipeline, scored (SQuAD EM/F1, refusal, citation of the
    /// gold passage, seconds), and its record line.
    package func evaluate(_ q: BEIRQuestion, with qa: KnowledgeQA, options o: AskOptions) throws -> (QAMetrics.Outcome, RecordsFile.Record) {
        let answerable = answerable(q)
        let golds = answerable ? q.answers : []
        let clock = ContinuousClock()
        let start = clock.now
        let a = try qa.ask(q.text, options: o)
        let elapsed = clock.now - start
        let prediction = a.refused ? "" : TextAnalysis.stripCitations(a.text).replacingOccurrences(of: " (unsupported)", with: "")
        let retrieved = a.passages.map { ids[Int($0.chunkID) - 1] }
        let outcome = QAMetrics.Outcome(
            answerable: answerable, goldRetrieved: retrieved.contains(q.context), refused: a.refused,
            refusedBy: a.refused ? QAMetrics.Layer(a.refusalReason ?? .empty) : nil,
            refusedWithCitation: a.refused && (!a.citations.isEmpty || TextAnalysis.stripCitations(a.text) != a.text),
            em: QAMetrics.exactMatch(prediction, golds), f1: QAMetrics.f1(prediction, golds),
            citesGold: a.refused || a.citations.isEmpty || !answerable ? nil : a.citations.contains { ids[Int($0.chunkID) - 1] == q.context },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        return (outcome, RecordsFile.Record(id: q.id, answer: a.text, outcome: outcome,
                                            promptTokens: a.promptTokens, generatedTokens: a.generatedTokens))
    }

    /// This run minus another run of the same sample (another layer set), question by question:
    /// the difference of overall EM/F1 and of answerable F1, each with a paired-bootstrap interval.
    package static func pairedFigures(_ sample: [String], _ mine: [String: QAMetrics.Outcome], otherPath: String,
                                      run: RecordsFile.Run) throws -> (path: String, layers: String, figures: [(String, QAMetrics.PairedDifference)]) {
        let other = try RecordsFile.read(otherPath)
        var comparable = other.run
        comparable.layers = run.layers
        guard comparable == run else {
            throw EvaluationError.failed("--paired \(otherPath) is not the same sample (\(RecordsFile.differences(comparable, run))) — pair runs that differ in refusal layers only")
        }
        let both = sample.compactMap { id in mine[id].flatMap { a in other.done[id].map { (a, $0) } } }
        guard !both.isEmpty else { throw EvaluationError.failed("--paired \(otherPath) holds none of the questions recorded here yet") }
        let answerable = both.filter { $0.0.answerable }
        var figures: [(String, QAMetrics.PairedDifference)] = []
        for (name, pairs, score) in [("overall_f1", both, \QAMetrics.Outcome.f1), ("overall_em", both, \QAMetrics.Outcome.em),
                                     ("answerable_f1", answerable, \QAMetrics.Outcome.f1)] {
            if let d = QAMetrics.pairedDifference(pairs.map { $0.0[keyPath: score] }, pairs.map { $0.1[keyPath: score] }) {
                figures.append((name, d))
            }
        }
        return (otherPath, other.run.layers, figures)
    }
}

/// Refusal layer 1 alone, at every coverage threshold 0…0.9: what it lets through and what it
/// refuses, and the threshold with the best balance (Youden's J).
package struct GateSweep {
    package struct Point {
        package var threshold: Double
        /// Share of answerable questions the gate lets through.
        package var answerablePassed: Double
        /// Share of answerable questions whose gold passage was retrieved and that passed.
        package var goldPassed: Double
        package var precision: Double, recall: Double, f1: Double
        /// Refusal recall minus the share of answerable questions refused.
        package var youdenJ: Double
    }
    package var questions = 0, answerable = 0, toRefuse = 0
    package var points: [Point] = []
    package var best: (threshold: Double, j: Double) = (0, -2)

    package init(_ sample: QASample, k: Int) throws {
        // Per question: should it be refused, and the gate's statistic (nil: nothing retrieved → always refused).
        var rows: [(refuse: Bool, cover: Double?, goldRetrieved: Bool)] = []
        for q in sample.questions {
            let passages = try sample.retriever.retrieve(q.text, groups: [], k: k)
            let cover = passages.isEmpty ? nil : (EvidenceGate.coverage(query: q.text, passages: passages) ?? 1)
            rows.append((!sample.answerable(q), cover, passages.contains { sample.ids[Int($0.chunkID) - 1] == q.context }))
        }
        questions = rows.count
        toRefuse = rows.filter(\.refuse).count
        answerable = rows.count - toRefuse
        for step in 0...18 {
            let t = Double(step) * 0.05
            var tp = 0, fp = 0, passedGold = 0
            for r in rows {
                let refused = r.cover.map { $0 < t } ?? true
                if refused { if r.refuse { tp += 1 } else { fp += 1 } } else if !r.refuse && r.goldRetrieved { passedGold += 1 }
            }
            let p = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
            let r = toRefuse == 0 ? 0 : Double(tp) / Double(toRefuse)
            let f1 = p + r == 0 ? 0 : 2 * p * r / (p + r)
            let passed = answerable == 0 ? 0 : Double(answerable - fp) / Double(answerable)
            let j = r - (answerable == 0 ? 0 : Double(fp) / Double(answerable))
            if j > best.j + 1e-9 { best = (t, j) }
            points.append(Point(threshold: t, answerablePassed: passed,
                                goldPassed: answerable == 0 ? 0 : Double(passedGold) / Double(answerable),
                                precision: p, recall: r, f1: f1, youdenJ: j))
        }
    }
}
