import Assistant
import Foundation

/// `strata eval support`: runs customer messages through the real `support` pipeline, one fresh
/// conversation each, and scores every reply right / partly / wrong / refused against its facts.
struct EvalSupportCommand: CLICommand {
    static let name = "eval support"
    static let summary = "score customer-service replies against expected facts (JSONL)"
    static let usage = """
    Usage: strata eval support --questions FILE [--model PATH|none] [--today DATE] [--limit N] [--json]

    Answers each message of FILE (one JSON object a line: id, lang, question, expect, facts,
    wrong; see bench/support/README.md) with the customer-service pack over the --db database,
    without the audit log, and grades the reply:
      right    every fact present, no wrong value, only the customer's language
               (for clarify / handoff / refuse cases: the pipeline did exactly that)
      partly   some facts, or all of them in a reply that mixes in the other language
      wrong    a wrong value, no fact, the other language, or an answer where none was due
      refused  out of scope, the documents' refusal, a handoff or a question back
    A fact matches case-insensitively with spaces and thousands separators removed.
    """
    static let options: [OptionSpec] = ServiceWiring.options.filter { !["json", "explain", "no-audit"].contains($0.name) } + [
        .value("questions", "FILE", "benchmark file (JSONL), e.g. bench/support/dev.jsonl"),
        .value("limit", "N", "score only the first N messages"),
        .flag("json", "print the figures and every verdict as JSON"),
    ]

    struct Row: Encodable {
        var id: String, lang: String, expect: String, question: String, path: String, intent: String?
        var grade: String, detail: String, reply: String, seconds: Double
    }
    struct Tally: Encodable {
        var n = 0, right = 0, partly = 0, wrong = 0, refused = 0
        mutating func add(_ g: SupportVerdict.Grade) {
            n += 1
            switch g { case .right: right += 1; case .partly: partly += 1; case .wrong: wrong += 1; case .refused: refused += 1 }
        }
    }

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard let path = args.value("questions") else {
            throw CLIError.usage("give the messages: --questions bench/support/dev.jsonl", command: name)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.failed("cannot read \(path) — check the path")
        }
        var cases: [SupportCase] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do { cases.append(try SupportCase.parse(String(line), number: i + 1)) } catch {
                throw CLIError.failed("\(path) \(error.localizedDescription)")
            }
        }
        if let n = try args.optionalInt("limit") {
            guard n > 0 else { throw CLIError.usage("--limit must be positive, got \(n)", command: name) }
            cases = Array(cases.prefix(n))
        }
        guard !cases.isEmpty else { throw CLIError.failed("\(path) holds no messages — write one JSON object a line") }
        let assistant = try ServiceWiring.assistant(args, audit: false)

        var rows: [Row] = []
        var byLang: [String: Tally] = [:], byExpect: [String: Tally] = [:], overall = Tally()
        for (i, c) in cases.enumerated() {
            if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\(i + 1)/\(cases.count)\u{1B}[K".utf8)) }
            let a = try assistant.answer(c.question)
            let v = SupportScorer.score(c, path: a.path, reply: a.reply)
            overall.add(v.grade); byLang[c.lang, default: .init()].add(v.grade); byExpect[c.expect.rawValue, default: .init()].add(v.grade)
            rows.append(Row(id: c.id, lang: c.lang, expect: c.expect.rawValue, question: c.question, path: a.path.rawValue,
                            intent: a.intent, grade: v.grade.rawValue, detail: v.detail, reply: a.reply, seconds: a.seconds))
        }
        if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = rows.map(\.seconds).sorted()
        let median = seconds[seconds.count / 2]
        if args.has("json") {
            struct Out: Encodable {
                var questions: String, model: String, overall: Tally, byLang: [String: Tally], byExpect: [String: Tally]
                var medianSeconds: Double, verdicts: [Row]
            }
            print(try jsonString(Out(questions: path, model: args.value("model") ?? "default", overall: overall, byLang: byLang,
                                     byExpect: byExpect, medianSeconds: median, verdicts: rows)))
            return 0
        }
        func line(_ label: String, _ t: Tally) -> String {
            label.padding(toLength: 10, withPad: " ", startingAt: 0)
                + [t.n, t.right, t.partly, t.wrong, t.refused].map { String($0).leftPadded(8) }.joined()
        }
        print("\(path): \(cases.count) messages, median \(String(format: "%.2f", median)) s per reply")
        print("          " + ["n", "right", "partly", "wrong", "refused"].map { $0.leftPadded(8) }.joined())
        for l in byLang.keys.sorted() { print(line(l, byLang[l]!)) }
        for e in byExpect.keys.sorted() { print(line(e, byExpect[e]!)) }
        print(line("overall", overall))
        let misses = rows.filter { $0.grade != "right" }
        if !misses.isEmpty {
            print("\nnot right:")
            for r in misses {
                print("  \(r.id) [\(r.grade), \(r.path)] \(r.question)")
                if !r.detail.isEmpty { print("      why:   \(r.detail)") }
                print("      reply: \(r.reply.replacingOccurrences(of: "\n", with: " ⏎ ").prefix(220))")
            }
        }
        return 0
    }
}

fileprivate extension String {
    /// Right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
