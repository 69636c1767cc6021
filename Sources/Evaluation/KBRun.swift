import Foundation
import Assistant

/// How `eval kb` asks its questions: each through the `ask` pipeline, restricted ones twice,
/// `parallel` at a time.
package enum KBRun {
    /// One question asked as the benchmark asks it: without groups, then, when restricted, as a
    /// member of `staffGroup` (any fact shown without the group is a leak).
    package static func ask(_ q: KBQuestion, qa: KnowledgeQA, options: AskOptions, staffGroup: String) throws -> KBOutcome {
        var o = options
        o.groups = []
        let t0 = Date()
        let a = try qa.ask(q.question, options: o)
        var seconds = [Date().timeIntervalSince(t0)]
        var outcome = KBOutcome(q: q, answer: a, score: KBScoring.score(q, answer: a.text, refused: a.refused),
                                staff: nil, staffScore: nil, leaked: 0, seconds: [])
        if q.restricted {
            outcome.leaked = a.refused ? 0 : q.facts.count - KBScoring.missing(q.facts, in: a.text).count
            o.groups = [staffGroup]
            let t1 = Date()
            let s = try qa.ask(q.question, options: o)
            seconds.append(Date().timeIntervalSince(t1))
            outcome.staff = s
            outcome.staffScore = KBScoring.score(q, answer: s.text, refused: s.refused)
        }
        outcome.seconds = seconds
        return outcome
    }

    /// Runs `body` over the questions, `parallel` at a time, and returns the outcomes in question
    /// order. A model server answers the questions in flight in one batch; the in-process engine
    /// answers one at a time (it owns one KV cache), so there only retrieval and the checks
    /// overlap. The first error stops the others from starting and is rethrown.
    package static func answerAll(_ questions: [KBQuestion], parallel: Int,
                                  _ body: @Sendable (Int, KBQuestion) throws -> KBOutcome) throws -> [KBOutcome] {
        guard parallel > 1 else { return try questions.enumerated().map { try body($0.offset, $0.element) } }
        let results = Results(questions.count)
        // N workers each pull the next question: a slow one does not hold a whole batch back.
        DispatchQueue.concurrentPerform(iterations: min(parallel, questions.count)) { _ in
            while let i = results.take() {
                do {
                    let o = try body(i, questions[i])
                    results.lock.withLock { results.outcomes[i] = o }
                } catch {
                    results.lock.withLock { if results.error == nil { results.error = error } }
                }
            }
        }
        if let e = results.error { throw e }
        return results.outcomes.map { $0! }
    }

    private final class Results: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var outcomes: [KBOutcome?]
        var error: Error?
        init(_ n: Int) { outcomes = Array(repeating: nil, count: n) }
        /// The next question to ask, or nil when all are taken or one failed.
        func take() -> Int? {
            lock.withLock {
                guard error == nil, next < outcomes.count else { return nil }
                next += 1
                return next - 1
            }
        }
    }
}
