import Foundation
import Assistant
import Tensor
import Knowledge
import Prompts
import Runtime

/// The Q&A pipeline's pieces, taken from the runtime (which loads each once) as the command
/// line chooses them.
enum AssistantWiring {
    /// Options shared by `ask` and `chat`.
    static let options: [OptionSpec] = [
        .value("as", "GROUPS", "ask as a member of these access groups (comma separated)"),
        .value("pack", "NAME", "prompt pack (default kb-qa)"),
        packsOption,
        .value("model", "PATH", "GGUF model, or 'extractive' for the no-model baseline (default: $STRATA_MODEL, else \(ModelDefaults.answering))"),
        .value("adapter", "NAME", "L2 adapter for this question ('none' for the base model)"),
        .value("corpus", "FILE", "answer from a BEIR corpus.jsonl instead of the knowledge database"),
        .value("k", "N", "passages in the prompt (default: the pack's)"),
        .flag("no-gate", "refusal layer 1 off: generate even when retrieval finds no evidence"),
        .flag("no-refusal-rule", "refusal layer 2 off: the prompt does not tell the model how to refuse"),
        .flag("no-support-check", "refusal layer 3 off: keep every sentence the model writes"),
        .flag("flag-unsupported", "keep unsupported sentences, marked, instead of dropping them"),
        .flag("no-agreement-check", "keep answers whose values the source line best matching the question does not state (more right answers, and more wrong ones)"),
        .flag("no-records", "documents only: do not answer a question that names a branch, a card or a case exactly from its business record"),
        .flag("no-audit", "do not record this answer in the audit log (public documents only: not with --as)"),
        EmbedderOption.spec,
        .flag("no-embedder", "keyword retrieval and lexical support only (no sentence encoder)"),
        .flag("explain", "say why an answer was refused or a sentence dropped"),
    ] + ServerOptions.llm + ServerOptions.embedder

    static func pack(_ args: ParsedArguments) throws -> PromptPack {
        try args.runtime.pack(named: args.value("pack") ?? "kb-qa")
    }

    /// The pipeline settings the command line chooses.
    static func settings(_ args: ParsedArguments) -> Runtime.AnswerSettings {
        var s = Runtime.AnswerSettings()
        s.pack = args.value("pack") ?? "kb-qa"
        s.adapter = args.value("adapter")
        s.corpus = args.value("corpus")
        s.useEncoder = !args.has("no-embedder")
        s.records = !args.has("no-records")
        s.today = args.value("today")
        return s
    }

    static func generator(_ args: ParsedArguments, threads: Int = 2,
                          arithmetic: PromptArithmetic = .standard) throws -> any TextGenerator {
        try args.runtime.answeringGenerator(threads: threads, arithmetic: arithmetic)
    }

    static func embedder(_ args: ParsedArguments) throws -> (any TextEmbedder)? {
        try args.runtime.answeringEncoder(settings(args))
    }

    /// The audit log, unless --no-audit (refused with --as: a read that may return restricted
    /// text is always recorded). Opened before anything is generated, so an answer that could
    /// not be recorded is never given.
    static func audit(_ args: ParsedArguments) throws -> (any AuditLog)? {
        guard try args.auditRequired() else { return nil }
        do {
            return try args.openAuditLog(recording: "every answer", withoutAudit: "pass --no-audit to answer from public documents without recording it")
        } catch RuntimeError.failed(let m) where m.hasPrefix("no knowledge database at") {
            throw CLIError.failed(m + " (the audit log is kept in the Strata database; or pass --no-audit)")
        }
    }

    static func layers(_ args: ParsedArguments) -> RefusalLayers {
        var l = RefusalLayers()
        l.evidenceGate = !args.has("no-gate")
        l.promptRule = !args.has("no-refusal-rule")
        l.supportCheck = !args.has("no-support-check")
        l.dropUnsupported = !args.has("flag-unsupported")
        l.agreement = !args.has("no-agreement-check")
        return l
    }

    static func knowledgeQA(_ args: ParsedArguments) throws -> KnowledgeQA {
        try args.runtime.knowledgeQA(settings(args), audit: { try audit(args) })
    }

    /// The Sources list, one line per source whatever its file name holds.
    static func sourcesList(_ a: Answer) -> String {
        a.citations.map { "[\($0.number)] " + TerminalText.line($0.label) }.joined(separator: "\n")
    }

    /// The answer as printed: text, then the Sources list (never for a refusal), then --explain.
    static func render(_ a: Answer, explain: Bool) -> String {
        var s = a.text + "\n"
        if !a.refused && !a.citations.isEmpty {
            s += "\nSources:\n" + sourcesList(a) + "\n"
        }
        if explain {
            s += "\nWhy: \(a.explanation)\n"
            // Answering by quotation: what the model wrote, of which only the lines it named are shown.
            if let reply = a.selection {
                s += "Model's reply (the answer quotes the lines it names): \(TerminalText.line(reply))\n"
                if let note = a.selectionNote { s += "Quoted: \(note)\n" }
            }
            s += "Time: \(a.timings.summary)\n"
            if a.cancelled { s += "(generation was cancelled)\n" }
        }
        return s
    }
}

struct AskCommand: CLICommand {
    static let name = "ask"
    static let summary = "answer a question from the knowledge base, with sources"
    static let usage = """
    Usage: strata ask "QUESTION" [--as GROUPS] [--pack NAME] [--json] [--explain]

    Retrieves passages the groups may see, refuses when there is no evidence, generates an answer
    citing [n], drops sentences no source supports, and prints the Sources. Every answer is
    recorded in the audit log of the database (see 'strata log'), which needs write access to
    it; --no-audit answers from public documents without recording (it cannot be combined with
    --as: every read that may return restricted text is recorded).
    """
    static let options = AssistantWiring.options + [.flag("json", "print the answer, citations, counts and timings as JSON"),
                                                    .value("today", "DATE", "customer-service packs: the date for 'current' questions")]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard !args.positionals.isEmpty else { throw CLIError.usage("give the question in quotes", command: name) }
        let question = args.positionals.joined(separator: " ")
        guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CLIError.usage("the question is empty", command: name)
        }
        // A customer-service pack answers from the business tables, not from passages.
        if try AssistantWiring.pack(args).scenario == .customerService { return try ServiceWiring.askOnce(question, args) }
        let qa = try AssistantWiring.knowledgeQA(args)
        var options = AskOptions()
        options.groups = args.groups
        options.layers = AssistantWiring.layers(args)
        options.adapter = args.value("adapter")
        options.k = try args.optionalInt("k")
        if let k = options.k, !(1...50).contains(k) { throw CLIError.usage("--k must be between 1 and 50", command: name) }
        // On a terminal a progress line says what is happening; only the checked answer is
        // printed (a draft the support check rewrites must not be read first).
        let progress = AskProgress(enabled: !args.has("json") && isatty(STDERR_FILENO) == 1)
        let answer = try qa.ask(question, options: options, onStage: progress.stage, onPiece: { _ in progress.wrote(); return true })
        progress.done()
        if args.has("json") {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(answer), as: UTF8.self))
            return 0
        }
        print(AssistantWiring.render(answer, explain: args.has("explain")), terminator: "")
        return 0
    }
}

/// One line on standard error, redrawn: retrieving, reading N passages, writing (pieces so far),
/// checking. Cleared before the answer is printed.
final class AskProgress: @unchecked Sendable {
    let enabled: Bool
    private var pieces = 0
    private var label = ""
    private var lastDraw = Date.distantPast
    init(enabled: Bool) { self.enabled = enabled }

    func stage(_ s: AskStage) {
        switch s {
        case .retrieving: label = "retrieving…"
        case .reading(let n): label = "reading \(n) passage\(n == 1 ? "" : "s")…"
        case .checking: label = "checking the answer against its sources…"
        }
        draw(force: true)
    }
    func wrote() {
        pieces += 1
        label = "writing… (\(pieces))"
        draw(force: false)
    }
    func done() { if enabled { writeErr("\r\u{1B}[K") } }
    private func draw(force: Bool) {
        guard enabled, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        writeErr("\r" + label + "\u{1B}[K")
    }
}
