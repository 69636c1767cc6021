import Foundation
import Assistant
import Knowledge

struct LogCommand: CLICommand {
    static let name = "log"
    static let summary = "show the audit log of answered questions"
    static let usage = """
    Usage: strata log [--last N] [--as GROUPS] [--json]

    Every answer 'ask', 'chat', 'report' and 'support' give is recorded in the database (and every
    search that returns restricted text): time, groups, question, chunks shown to the model,
    model, adapter, pack, answer, refusal, timings, and for customer service the intent, slots,
    lookup and reply path.

    The log applies the same group rules as search: an entry built from restricted documents is
    shown only with --as naming one of each such document's groups; entries written before
    Strata recorded this need every group their asker had. Hidden entries are counted on stderr.
    Showing restricted entries is itself recorded (pack "log"), so it needs write access.
    """
    static let options: [OptionSpec] = [
        .value("last", "N", "show the N most recent entries (default 20)"),
        .value("as", "GROUPS", "read as a member of these access groups (comma separated)"),
        .flag("json", "one JSON object per entry"),
    ]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("log takes no arguments", command: name) }
        let n = try args.int("last", default: 20)
        guard n > 0 else { throw CLIError.usage("--last must be a positive number", command: name) }
        let store = AuditStore(database: try args.openDatabase(.read, missing: "nothing has been asked yet, or pass --db PATH"))
        let (entries, hidden) = try store.recent(n, visibleTo: args.groups)
        try audit(entries, args: args, last: n)
        if hidden > 0 {
            printErr("note: \(hidden) \(hidden == 1 ? "entry" : "entries") hidden among the most recent: built from documents restricted to groups not given with --as")
        }
        if entries.isEmpty { print(hidden > 0 ? "no audit entries visible to these groups" : "the audit log is empty"); return 0 }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .iso8601
        let iso = ISO8601DateFormatter()
        for e in entries {
            if args.has("json") { print(String(decoding: try enc.encode(e), as: UTF8.self)); continue }
            let groups = e.groups.isEmpty ? "-" : e.groups.joined(separator: ",")
            print(TerminalText.line("\(iso.string(from: e.time))  as \(groups)  pack \(e.pack)  model \(e.modelID)\(e.adapter.map { "+\($0)" } ?? "")  \(String(format: "%.2fs", e.totalSeconds))"))
            print("  Q: \(TerminalText.line(e.question))")
            print("  A: \(e.refused ? "[refused: \(e.refusalReason ?? "?")] " : "")\(TerminalText.line(e.answer.replacingOccurrences(of: "\n", with: " ")))")
            print("  chunks: \(e.chunkIDs.map(String.init).joined(separator: ","))  cited: \(e.citedChunkIDs.map(String.init).joined(separator: ","))")
            if let d = e.detail { print("  detail: \(TerminalText.line(d))") }
            // Only for model servers and failures: a local answer's row reads as it always did.
            if let b = e.backend, b != "local" {
                print("  backend: \(TerminalText.line(b))  tokens: \(e.promptTokens.map(String.init) ?? "?") in, \(e.completionTokens.map(String.init) ?? "?") out")
            }
            if let f = e.failure { print("  FAILED: \(TerminalText.line(f))") }
        }
        return 0
    }

    /// Entries built from restricted documents hold restricted text (the answers): reading them
    /// is itself a restricted read, recorded before they are shown, like a search's.
    static func audit(_ entries: [AuditEntry], args: ParsedArguments, last: Int) throws {
        let needs = entries.flatMap(\.effectiveNeeds)
        guard !needs.isEmpty else { return }
        let log = try args.openAuditLog(recording: "reading audit entries built from restricted documents")
        try log.append(AuditRecord(
            time: Date(), groups: args.groups, question: "log --last \(last)", chunkIDs: [], citedChunkIDs: [], modelID: "-",
            adapter: nil, pack: "log", answer: "\(entries.count) entries shown, \(entries.filter { !$0.effectiveNeeds.isEmpty }.count) of them restricted",
            refused: false, refusalReason: nil, retrievalSeconds: 0, generationSeconds: 0, totalSeconds: 0, accessNeeds: needs))
    }
}
