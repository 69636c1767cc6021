import Assistant
import Embeddings
import Foundation
import Knowledge
import Prompts
import Runtime

/// `strata support`: a customer-service conversation that remembers slots across turns.
struct SupportCommand: CLICommand {
    static let name = "support"
    static let summary = "customer-service chat over the business tables (intents, slots, lookups)"
    static let usage = """
    Usage: strata support [--pack NAME] [--model PATH] [--explain] [--json]

    Reads one customer message per line from standard input and answers each: the intent is
    recognised, slot values are found in the business tables, the named lookup runs read-only
    and the reply is written from its rows (by the model when --model is given and its reply
    passes the fact check, else from the pack's template). Intents that answer from documents
    (refunds, account opening) ask the knowledge base, restricted to those documents, and cite
    them. A follow-up like "那储蓄卡呢？" reuses the previous intent. Every turn is recorded in
    the audit log ('strata log'). Empty lines are skipped; end of input (Ctrl-D) or /quit ends
    the conversation, /help lists what it can do. A message may hold up to \(ServiceAssistant.maxMessageCharacters)
    characters; a longer one is refused with a message and the conversation goes on (the exit
    status is then 1).
    """
    static let options: [OptionSpec] = ServiceWiring.options

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let assistant = try ServiceWiring.assistant(args)
        var session = ServiceSession()
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive { print(banner(assistant, args)) }
        var rejected = 0
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine() else { break }   // end of input, Ctrl-D
            let message = line.trimmingCharacters(in: .whitespaces)
            if message.isEmpty { continue }
            switch message.lowercased() {
            case "/quit", "/exit", "/q": return rejected > 0 ? 1 : 0
            case "/help", "/?": print(help(assistant)); continue
            default: break
            }
            if message.hasPrefix("/") && !message.contains(" ") && message.count < 20 {
                print("unknown command \(message) — /help lists the commands, /quit ends the conversation"); continue
            }
            do {
                let a = try assistant.answer(line, session: &session)
                print(try ServiceWiring.render(a, args))
            } catch let e as ServiceError where e.isMessageError {
                rejected += 1
                printErr("strata: \(e.localizedDescription)")
            }
        }
        return rejected > 0 ? 1 : 0
    }

    static func banner(_ assistant: ServiceAssistant, _ args: ParsedArguments) -> String {
        let model = args.runtime.configuration.answeringModelName
        let writer = assistant.generator.map { $0.backend == "local" ? URL(fileURLWithPath: model).lastPathComponent : "\($0.modelID) at \($0.backend)" } ?? "templates"
        return """
        Strata customer service — pack \(assistant.pack.pack.name), replies by \(writer)
        Ask in Chinese or English, one message per line. /help lists what I can do; /quit or Ctrl-D ends.
        """
    }

    /// What a customer can ask, as one example per topic in each language of the pack.
    static func help(_ assistant: ServiceAssistant) -> String {
        let languages = assistant.pack.pack.languages
        var s = "You can ask, for example / 您可以这样问：\n"
        for intent in assistant.pack.catalog.intents where intent.action.type != .clarify {
            s += "  - " + languages.compactMap { intent.examples[$0]?.first }.joined(separator: " / ") + "\n"
        }
        s += "/help shows this list, /quit (or Ctrl-D) ends the conversation; empty lines are ignored."
        return s
    }
}

/// The pieces of the customer-service pipeline, chosen from the command line; `ask --pack
/// customer-service` answers through `askOnce`.
enum ServiceWiring {
    static let options: [OptionSpec] = [
        .value("pack", "NAME", "customer-service pack (default customer-service)"),
        packsOption,
        .value("model", "PATH", "GGUF model that writes replies (default: $STRATA_MODEL, else \(ModelDefaults.answering); none: template replies)"),
        EmbedderOption.spec,
        .value("today", "DATE", "the date for 'current' questions, YYYY-MM-DD (default: today)"),
        .flag("explain", "print intent, confidence, slots, lookup, rows and the reply path"),
        .flag("json", "print everything as JSON"),
        .flag("no-audit", "do not record the conversation in the audit log"),
    ] + ServerOptions.llm + ServerOptions.embedder

    /// - Parameter audit: false for benchmarks, whose turns are not customers' and are not recorded.
    static func assistant(_ args: ParsedArguments, audit: Bool = true) throws -> ServiceAssistant {
        try args.runtime.serviceAssistant(pack: args.value("pack") ?? "customer-service", adapter: args.value("adapter"),
                                          today: args.value("today"), audit: {
            try (audit && args.auditRequired())
                ? try args.openAuditLog(recording: "every turn", withoutAudit: "pass --no-audit to answer without recording")
                : nil
        })
    }

    /// One question, for `strata ask --pack customer-service`.
    static func askOnce(_ question: String, _ args: ParsedArguments) throws -> Int32 {
        let a = try assistant(args).answer(question)
        print(try render(a, args))
        return 0
    }

    static func render(_ a: ServiceAnswer, _ args: ParsedArguments) throws -> String {
        if args.has("json") { return try jsonString(a) }
        var sources = ""
        if a.path == .knowledge, let k = a.knowledge, !k.citations.isEmpty {
            sources = "\nSources:\n" + AssistantWiring.sourcesList(k)
        }
        guard args.has("explain") else { return a.reply + sources }
        var s = a.reply + sources + "\n\n"
        s += "intent      \(a.intent ?? "(out of scope)")\(a.followUp ? " (follow-up)" : "")  best guess \(a.decision.bestGuess)\n"
        s += "confidence  \(String(format: "%.3f", a.decision.confidence)) (margin), nearest similarity \(String(format: "%.3f", a.decision.nearestSimilarity))\n"
        s += "top         " + a.decision.top.map { "\($0.intent) \(String(format: "%.3f", $0.score))" }.joined(separator: ", ") + "\n"
        s += "slots       " + (a.slots.isEmpty ? "none" : a.slots.keys.sorted().map { "\($0)=\(a.slots[$0]!.value) (\(a.slots[$0]!.how))" }.joined(separator: ", ")) + "\n"
        if let m = a.missingSlot { s += "missing     \(m)\n" }
        if let l = a.lookup { s += "lookup      \(l): \(a.sql ?? "")\n" }
        if !a.columns.isEmpty { s += "rows        \(a.rows.count)\n" + TextTable.render(header: a.columns, rows: a.rows, maxCell: 24) + "\n" }
        if let m = a.modelReply { s += "model reply \(m.replacingOccurrences(of: "\n", with: " "))\n" }
        if let f = a.factCheck { s += "fact check  \(f.passed ? "passed" : "failed: " + f.unsupported.joined(separator: ", "))\n" }
        if let h = a.handoffReason { s += "handoff     \(h)\n" }
        if let k = a.knowledge {
            s += "documents   \(k.passages.count) passages from \(Set(k.passages.map(\.documentPath)).sorted().joined(separator: ", "))\n"
            if k.refused { s += "refused     \(k.explanation)\n" }
        }
        s += "reply path  \(a.path.rawValue)"
        return s
    }
}
