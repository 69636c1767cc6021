import Foundation
import Assistant
import Knowledge

/// `strata eval kb`: the answers benchmark on the current database, through the real `ask` path.
struct EvalKBCommand: CLICommand {
    static let name = "eval kb"
    static let summary = "measure right, wrong and refused answers on a knowledge-base question set"
    static let usage = """
    Usage: strata eval kb --questions FILE [--model PATH | --llm-url URL] [--parallel N] [--limit N] [--json] [--as-restricted GROUP]

    FILE holds one question per line (bench/kbqa/dev.jsonl; see bench/kbqa/README.md): id, lang,
    question, covered, restricted, facts, wrong, source, note. Each question is asked through the
    same pipeline as 'strata ask' on --db (retrieval, the refusal layers, the support check).
    Restricted questions are asked twice: with no groups (any fact shown is a leak) and as a
    member of --as-restricted (default staff). Scoring, case-insensitive with spaces and
    thousands separators removed: correct = every fact has one of its forms in the answer and no
    wrong form is there; refused = the refusal; wrong = anything else. Covered counts the public
    covered questions; uncovered questions should be refused. Answers are audited as 'ask' audits
    them. Prints a table per language and overall, then every wrong answer, and the throughput.
    --parallel N asks N questions at once: a model server answers them in one batch; the
    in-process engine still answers one at a time (it owns one KV cache), so there it only
    overlaps retrieval and checking.
    """
    static let options: [OptionSpec] = [
        .value("questions", "FILE", "the question set (JSON lines)"),
        .value("limit", "N", "ask only the first N questions"),
        .flag("json", "print the figures as JSON"),
        .value("as-restricted", "GROUP", "the group restricted questions are asked as (default staff)"),
        .value("parallel", "N", "questions asked at once (default 1; for a model server)"),
    ] + AssistantWiring.options.filter { ["pack", "packs", "model", "adapter", "k", "embedder", "no-embedder", "no-gate", "no-refusal-rule", "no-support-check",
                                          "llm-url", "llm-model", "embedder-url", "embedder-model"].contains($0.name) }

    struct Outcome { var q: KBQuestion; var answer: Answer; var score: KBScore; var staff: Answer?; var staffScore: KBScore?; var leaked: Int; var seconds: [Double] }

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard let file = args.value("questions") else { throw CLIError.usage("give the question set with --questions FILE", command: name) }
        guard args.positionals.isEmpty else { throw CLIError.usage("eval kb takes no arguments besides its options", command: name) }
        var questions: [KBQuestion]
        do { questions = try KBQuestion.load(file) } catch { throw CLIError.failed(error.localizedDescription) }
        if let n = try args.optionalInt("limit") {
            guard n > 0 else { throw CLIError.usage("--limit must be positive", command: name) }
            questions = Array(questions.prefix(n))
        }
        let staffGroup = args.value("as-restricted") ?? "staff"
        let qa = try AssistantWiring.knowledgeQA(args)
        var options = AskOptions()
        options.layers = AssistantWiring.layers(args)
        options.adapter = args.value("adapter")
        options.k = try args.optionalInt("k")
        let parallel = try args.int("parallel", default: 1)
        guard (1...64).contains(parallel) else { throw CLIError.usage("--parallel must be between 1 and 64, got \(parallel)", command: name) }
        let progress = isatty(STDERR_FILENO) == 1
        let started = Date()
        let total = questions.count, base = options
        let outcomes = try answerAll(questions, parallel: parallel) { i, q in
            if progress { writeErr("\r[\(i + 1)/\(total)] \(q.id)\u{1B}[K") }
            return try ask(q, qa: qa, options: base, staffGroup: staffGroup)
        }
        let wall = Date().timeIntervalSince(started)
        if progress { writeErr("\r\u{1B}[K") }
        var report = KBReport(outcomes: outcomes, model: qa.generator.modelID)
        report.throughput = KBReport.Throughput(backend: qa.generator.backend, parallel: parallel, seconds: wall,
                                                questions_per_minute: Double(outcomes.count) / max(wall, 1e-9) * 60)
        if args.has("json") { print(try jsonString(report.json)); return 0 }
        print(report.text)
        return 0
    }

    /// Runs `body` over the questions, `parallel` at a time, and returns the outcomes in question
    /// order. The first error stops the others from starting and is rethrown.
    static func answerAll(_ questions: [KBQuestion], parallel: Int,
                          _ body: @Sendable (Int, KBQuestion) throws -> Outcome) throws -> [Outcome] {
        guard parallel > 1 else { return try questions.enumerated().map { try body($0.offset, $0.element) } }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var outcomes: [Outcome?]
            var error: Error?
            init(_ n: Int) { outcomes = Array(repeating: nil, count: n) }
            /// The next question to ask, or nil when all are taken or one failed.
            func take() -> Int? { lock.withLock { error == nil && next < outcomes.count ? { next += 1; return next - 1 }() : nil } }
        }
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

    /// One question asked as the benchmark asks it: without groups, then, when restricted, as staff.
    static func ask(_ q: KBQuestion, qa: KnowledgeQA, options: AskOptions, staffGroup: String) throws -> Outcome {
            var o = options
            o.groups = []
            let t0 = Date()
            let a = try qa.ask(q.question, options: o)
            var seconds = [Date().timeIntervalSince(t0)]
            var outcome = Outcome(q: q, answer: a, score: KBScoring.score(q, answer: a.text, refused: a.refused),
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
}

/// The figures of one `eval kb` run, as a table and as JSON.
struct KBReport {
    let outcomes: [EvalKBCommand.Outcome]
    let model: String
    /// Wall-clock figures of the run (nil in reports built from records).
    var throughput: Throughput? = nil

    struct Throughput: Encodable { var backend: String; var parallel: Int; var seconds: Double; var questions_per_minute: Double }

    struct Covered: Encodable { var n = 0; var correct = 0.0; var wrong = 0.0; var refused = 0.0 }
    struct Uncovered: Encodable { var n = 0; var refused = 0.0 }
    struct Restricted: Encodable { var n = 0; var leaked = 0; var staff_correct = 0.0 }
    struct Group: Encodable { var covered: Covered; var uncovered: Uncovered; var restricted: Restricted }
    struct Seconds: Encodable { var median: Double; var p90: Double }
    struct Wrong: Encodable { var id: String; var answer: String }
    struct JSON: Encodable {
        var questions: Int; var model: String
        var covered: Covered; var uncovered: Uncovered; var restricted: Restricted
        var by_lang: [String: Group]
        var seconds_per_question: Seconds
        var wrong_answers: [Wrong]
        var throughput: Throughput?
    }

    func group(_ os: [EvalKBCommand.Outcome]) -> Group {
        let cov = os.filter { $0.q.covered && !$0.q.restricted }, unc = os.filter { !$0.q.covered }
        let res = os.filter { $0.q.restricted }
        func share(_ xs: [EvalKBCommand.Outcome], _ s: KBScore) -> Double {
            xs.isEmpty ? 0 : Double(xs.filter { $0.score == s }.count) / Double(xs.count)
        }
        return Group(covered: Covered(n: cov.count, correct: share(cov, .correct), wrong: share(cov, .wrong), refused: share(cov, .refused)),
                     uncovered: Uncovered(n: unc.count, refused: share(unc, .refused)),
                     restricted: Restricted(n: res.count, leaked: res.reduce(0) { $0 + $1.leaked },
                                            staff_correct: res.isEmpty ? 0 : Double(res.filter { $0.staffScore == .correct }.count) / Double(res.count)))
    }

    var json: JSON {
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

    var text: String {
        let j = json
        func pct(_ x: Double) -> String { String(format: "%.2f", x) }
        func row(_ name: String, _ g: Group) -> [String] {
            [name, String(g.covered.n), pct(g.covered.correct), pct(g.covered.wrong), pct(g.covered.refused),
             String(g.uncovered.n), pct(g.uncovered.refused), String(g.restricted.n), String(g.restricted.leaked), pct(g.restricted.staff_correct)]
        }
        var rows = j.by_lang.keys.sorted().map { row($0, j.by_lang[$0]!) }
        rows.append(row("all", Group(covered: j.covered, uncovered: j.uncovered, restricted: j.restricted)))
        var s = "model \(model), \(j.questions) questions\n"
        s += TextTable.render(header: ["lang", "covered", "correct", "wrong", "refused", "uncovered", "refused", "restricted", "leaked", "staff correct"], rows: rows)
        s += String(format: "\nseconds per question: median %.1f, p90 %.1f\n", j.seconds_per_question.median, j.seconds_per_question.p90)
        if let t = throughput {
            s += String(format: "throughput: %.1f questions per minute (%d at once, %.1f s in all", t.questions_per_minute, t.parallel, t.seconds)
                + ", backend \(t.backend))\n"
        }
        let layers = Dictionary(grouping: outcomes.filter { $0.score == .refused && $0.q.covered && !$0.q.restricted }, by: { $0.answer.refusalReason?.rawValue ?? "?" })
        if !layers.isEmpty {
            s += "covered questions refused, by layer: " + layers.keys.sorted().map { "\($0) \(layers[$0]!.count)" }.joined(separator: ", ") + "\n"
        }
        if !j.wrong_answers.isEmpty {
            s += "\nwrong answers:\n"
            for w in j.wrong_answers {
                let o = outcomes.first { $0.q.id == w.id }!
                let miss = KBScoring.missing(o.q.facts, in: o.answer.text).map { $0.first ?? "" }
                let bad = KBScoring.wrongForms(o.q.wrong, in: o.answer.text)
                var why: [String] = []
                if !o.q.covered { why.append("not covered: should be refused") }
                if !miss.isEmpty { why.append("missing " + miss.joined(separator: ", ")) }
                if !bad.isEmpty { why.append("states wrong " + bad.joined(separator: ", ")) }
                s += "  \(w.id) (\(why.joined(separator: "; "))): \(o.q.question)\n    → \(w.answer.replacingOccurrences(of: "\n", with: " "))\n"
            }
        }
        return s
    }
}
