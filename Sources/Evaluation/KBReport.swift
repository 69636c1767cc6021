import Foundation
import Assistant

/// One question of `eval kb`: the answer with no groups and its score, and for a restricted
/// question the answer as a member of the group (any fact shown without it is a leak).
package struct KBOutcome {
    package var q: KBQuestion
    package var answer: Answer
    package var score: KBScore
    package var staff: Answer?
    package var staffScore: KBScore?
    package var leaked: Int
    package var seconds: [Double]
    package init(q: KBQuestion, answer: Answer, score: KBScore, staff: Answer?, staffScore: KBScore?, leaked: Int, seconds: [Double]) {
        self.q = q; self.answer = answer; self.score = score; self.staff = staff; self.staffScore = staffScore
        self.leaked = leaked; self.seconds = seconds
    }
}

/// The figures of one `eval kb` run (rendered as a table by the CLI, or as JSON).
package struct KBReport {
    package let outcomes: [KBOutcome]
    package let model: String
    /// Wall-clock figures of the run (nil in reports built from records).
    package var throughput: Throughput?
    package init(outcomes: [KBOutcome], model: String, throughput: Throughput? = nil) {
        self.outcomes = outcomes; self.model = model; self.throughput = throughput
    }

    /// Questions answered per minute of wall clock, with how many were asked at once and where
    /// the model ran ("local" or the server's URL): what `eval kb --parallel N` measures.
    package struct Throughput: Encodable {
        package var backend: String; package var parallel: Int; package var seconds: Double; package var questions_per_minute: Double
        package init(backend: String, parallel: Int, seconds: Double, questions: Int) {
            self.backend = backend; self.parallel = parallel; self.seconds = seconds
            questions_per_minute = Double(questions) / max(seconds, 1e-9) * 60
        }
    }

    package struct Covered: Encodable { package var n = 0; package var correct = 0.0; package var wrong = 0.0; package var refused = 0.0 }
    package struct Uncovered: Encodable { package var n = 0; package var refused = 0.0 }
    package struct Restricted: Encodable { package var n = 0; package var leaked = 0; package var staff_correct = 0.0 }
    package struct Group: Encodable {
        package var covered: Covered; package var uncovered: Uncovered; package var restricted: Restricted
        package init(covered: Covered, uncovered: Uncovered, restricted: Restricted) {
            self.covered = covered; self.uncovered = uncovered; self.restricted = restricted
        }
    }
    package struct Seconds: Encodable { package var median: Double; package var p90: Double }
    package struct Wrong: Encodable { package var id: String; package var answer: String }
    package struct JSON: Encodable {
        package var questions: Int; package var model: String
        package var covered: Covered; package var uncovered: Uncovered; package var restricted: Restricted
        package var by_lang: [String: Group]
        package var seconds_per_question: Seconds
        package var wrong_answers: [Wrong]
        package var throughput: Throughput?
    }

    package func group(_ os: [KBOutcome]) -> Group {
        let cov = os.filter { $0.q.covered && !$0.q.restricted }, unc = os.filter { !$0.q.covered }
        let res = os.filter { $0.q.restricted }
        func share(_ xs: [KBOutcome], _ s: KBScore) -> Double {
            xs.isEmpty ? 0 : Double(xs.filter { $0.score == s }.count) / Double(xs.count)
        }
        return Group(covered: Covered(n: cov.count, correct: share(cov, .correct), wrong: share(cov, .wrong), refused: share(cov, .refused)),
                     uncovered: Uncovered(n: unc.count, refused: share(unc, .refused)),
                     restricted: Restricted(n: res.count, leaked: res.reduce(0) { $0 + $1.leaked },
                                            staff_correct: res.isEmpty ? 0 : Double(res.filter { $0.staffScore == .correct }.count) / Double(res.count)))
    }

    package var json: JSON {
        let all = group(outcomes)
        let secs = outcomes.flatMap(\.seconds).sorted()
        func quantile(_ p: Double) -> Double { secs.isEmpty ? 0 : secs[min(secs.count - 1, Int((Double(secs.count - 1) * p).rounded()))] }
        var byLang: [String: Group] = [:]
        for lang in Set(outcomes.map(\.q.lang)) { byLang[lang] = group(outcomes.filter { $0.q.lang == lang }) }
        let wrong = outcomes.filter { $0.score == .wrong && $0.q.covered && !$0.q.restricted }.map { Wrong(id: $0.q.id, answer: $0.answer.text) }
            + outcomes.filter { !$0.q.covered && $0.score == .wrong }.map { Wrong(id: $0.q.id, answer: $0.answer.text) }
            + outcomes.filter { $0.leaked > 0 }.map { Wrong(id: $0.q.id, answer: "LEAKED to a caller without the group: " + $0.answer.text) }
        return JSON(questions: outcomes.count, model: model, covered: all.covered, uncovered: all.uncovered, restricted: all.restricted,
                    by_lang: byLang, seconds_per_question: Seconds(median: quantile(0.5), p90: quantile(0.9)), wrong_answers: wrong,
                    throughput: throughput)
    }
}
