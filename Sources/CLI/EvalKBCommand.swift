import Foundation
import Assistant
import Evaluation
import Knowledge

/// `strata eval kb`: the answers benchmark on the current database, through the real `ask` path.
struct EvalKBCommand: CLICommand {
    static let name = "eval kb"
    static let summary = "measure right, wrong and refused answers on a knowledge-base question set"
    static let usage = """
    Usage: strata eval kb --questions FILE [--model PATH] [--limit N] [--json] [--as-restricted GROUP]

    FILE holds one question per line (bench/kbqa/dev.jsonl; see bench/kbqa/README.md): id, lang,
    question, covered, restricted, facts, wrong, source, note. Each question is asked through the
    same pipeline as 'strata ask' on --db (retrieval, the refusal layers, the support check).
    Restricted questions are asked twice: with no groups (any fact shown is a leak) and as a
    member of --as-restricted (default staff). Scoring, case-insensitive with spaces and
    thousands separators removed: correct = every fact has one of its forms in the answer and no
    wrong form is there; refused = the refusal; wrong = anything else. Covered counts the public
    covered questions; uncovered questions should be refused. Answers are audited as 'ask' audits
    them. Prints a table per language and overall, then every wrong answer.
    """
    static let options: [OptionSpec] = [
        .value("questions", "FILE", "the question set (JSON lines)"),
        .value("limit", "N", "ask only the first N questions"),
        .flag("json", "print the figures as JSON"),
        .value("as-restricted", "GROUP", "the group restricted questions are asked as (default staff)"),
    ] + AssistantWiring.options.filter { ["pack", "packs", "model", "adapter", "k", "embedder", "no-embedder", "no-gate", "no-refusal-rule", "no-support-check"].contains($0.name) }

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
        let progress = isatty(STDERR_FILENO) == 1
        var outcomes: [KBOutcome] = []
        for (i, q) in questions.enumerated() {
            if progress { writeErr("\r[\(i + 1)/\(questions.count)] \(q.id)\u{1B}[K") }
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
            outcomes.append(outcome)
        }
        if progress { writeErr("\r\u{1B}[K") }
        let report = KBReport(outcomes: outcomes, model: qa.generator.modelID)
        if args.has("json") { print(try jsonString(report.json)); return 0 }
        print(report.text)
        return 0
    }
}

/// The `eval kb` table.
extension KBReport {
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
