import Foundation
import Assistant
import Evaluation
import Knowledge

/// `strata eval kb`: the answers benchmark on the current database, through the real `ask` path.
struct EvalKBCommand: CLICommand {
    static let name = "eval kb"
    static let summary = "measure right, wrong and refused answers on a knowledge-base question set"
    static let usage = """
    Usage: strata eval kb --questions FILE [--model PATH | --llm-url URL | --replay DETAILS] [--parallel N] [--limit N] [--json] [--as-restricted GROUP]

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
    overlaps retrieval and checking. --replay DETAILS gives back, in place of the model, the drafts
    an earlier --details run recorded (restricted questions replay their public draft for staff
    too): a change to retrieval or the checks is measured on the same drafts in seconds.
    """
    static let options: [OptionSpec] = [
        .value("questions", "FILE", "the question set (JSON lines)"),
        .value("limit", "N", "ask only the first N questions"),
        .flag("json", "print the figures as JSON"),
        .value("as-restricted", "GROUP", "the group restricted questions are asked as (default staff)"),
        .value("details", "FILE", "also write one JSON line per question: score, answer, draft, refusal layer, passages, timings"),
        .value("parallel", "N", "questions asked at once (default 1; for a model server)"),
        .value("today", "DATE", "the date record lookups read 'current' as (YYYY-MM-DD; default today)"),
        .value("replay", "DETAILS", "no model: give back the drafts a --details run recorded, to measure a change to the checks on the same drafts"),
    ] + AssistantWiring.options.filter { ["pack", "packs", "model", "adapter", "k", "embedder", "no-embedder", "no-gate", "no-refusal-rule", "no-support-check",
                                          "no-agreement-check", "no-records",
                                          "llm-url", "llm-model", "embedder-url", "embedder-model"].contains($0.name) }

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
        var wired = try AssistantWiring.knowledgeQA(args)
        if let replay = args.value("replay") {
            // The checks re-read the recorded drafts; no model is loaded or run.
            do { wired.generator = try ReplayGenerator(details: replay, questions: questions) } catch { throw CLIError.failed(error.localizedDescription) }
        }
        let qa = wired
        var options = AskOptions()
        options.layers = AssistantWiring.layers(args)
        options.adapter = args.value("adapter")
        options.k = try args.optionalInt("k")
        let parallel = try args.int("parallel", default: 1)
        guard (1...64).contains(parallel) else { throw CLIError.usage("--parallel must be between 1 and 64, got \(parallel)", command: name) }
        let progress = isatty(STDERR_FILENO) == 1
        let details = try args.value("details").map { try DetailsFile(path: $0) }
        let started = Date()
        let total = questions.count, base = options
        let outcomes = try KBRun.answerAll(questions, parallel: parallel) { i, q in
            if progress { writeErr("\r[\(i + 1)/\(total)] \(q.id)\u{1B}[K") }
            let outcome = try KBRun.ask(q, qa: qa, options: base, staffGroup: staffGroup)
            try details?.write(outcome)
            return outcome
        }
        if progress { writeErr("\r\u{1B}[K") }
        let report = KBReport(outcomes: outcomes, model: qa.generator.modelID,
                              throughput: .init(backend: qa.generator.backend, parallel: parallel,
                                                seconds: Date().timeIntervalSince(started), questions: outcomes.count))
        if args.has("json") { print(try jsonString(report.json)); return 0 }
        print(report.text)
        return 0
    }
}

/// The `eval kb` table.
extension KBReport {
    /// The answer as it would have read without the subject tie: its supported sentences and the
    /// ones dropped only because a value came from another row or sentence. Nil when the tie
    /// changed nothing.
    static func withoutSubjectTie(_ a: Answer) -> String? {
        guard a.sentences.contains(where: \.untied) else { return nil }
        return a.sentences.filter { $0.supported || $0.untied }.map(\.text).joined(separator: " ")
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
        // What the subject tie (support check) did: each answer it changed, scored as it would
        // have been without it (its untied sentences kept).
        var changed = 0, caught = 0, lost = 0
        for o in outcomes {
            guard let alt = Self.withoutSubjectTie(o.answer) else { continue }
            changed += 1
            let before = KBScoring.score(o.q, answer: alt, refused: false)
            if before == .wrong && o.score != .wrong { caught += 1 }
            if before == .correct && o.score != .correct { lost += 1 }
        }
        if changed > 0 {
            s += "subject tie (support check): changed \(changed) answers — caught \(caught) wrong, dropped \(lost) right\n"
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

extension EvalKBCommand {
    /// `--details FILE`: what each question got and why, written as it is answered, so a long run
    /// can be read (and a failure diagnosed) before it ends.
    /// Lines are written whole, one at a time (`--parallel` answers from several threads), in the
    /// order the questions are answered.
    final class DetailsFile: @unchecked Sendable {
        let handle: FileHandle
        private let lock = NSLock()
        init(path: String) throws {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw CLIError.failed("cannot write \(TerminalText.line(path)) — check the folder exists and is writable")
            }
            handle = h
        }
        struct Passage: Encodable { var path: String; var heading: String; var score: Double }
        struct Line: Encodable {
            var id: String, lang: String, covered: Bool, restricted: Bool, score: String
            var answer: String, draft: String, refusal: String?, explanation: String
            var passages: [Passage], prompt_tokens: Int, generated_tokens: Int, seconds: Double
            var staff_score: String?, staff_answer: String?, leaked: Int
            var coverage: Double?, best_dense: Double?, untied: Bool, selection: String?
        }
        func write(_ o: KBOutcome) throws {
            let a = o.answer
            let line = Line(id: o.q.id, lang: o.q.lang, covered: o.q.covered, restricted: o.q.restricted, score: "\(o.score)",
                            answer: a.text, draft: a.draft, refusal: a.refusalReason?.rawValue, explanation: a.explanation,
                            passages: a.passages.map { Passage(path: URL(fileURLWithPath: $0.documentPath).lastPathComponent, heading: $0.headingPath, score: $0.score) },
                            prompt_tokens: a.promptTokens, generated_tokens: a.generatedTokens, seconds: a.timings.total,
                            staff_score: o.staffScore.map { "\($0)" }, staff_answer: o.staff?.text, leaked: o.leaked,
                            coverage: a.coverage, best_dense: a.bestDense, untied: a.sentences.contains(where: \.untied), selection: a.selection)
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try e.encode(line) + Data("\n".utf8)
            lock.withLock { handle.write(data) }
        }
    }
}
