import Foundation
import Assistant
import Knowledge

struct LogCommand: CLICommand {
    static let name = "log"
    static let summary = "show the audit log of answered questions"
    static let usage = """
    Usage: strata log [--last N] [--json]

    Every answer 'ask', 'chat' and 'support' give is recorded in the database: time, groups, question,
    chunks shown to the model, model, adapter, pack, answer, refusal, timings, and for
    customer service the intent, slots, lookup and reply path.
    """
    static let options: [OptionSpec] = [
        .value("last", "N", "show the N most recent entries (default 20)"),
        .flag("json", "one JSON object per entry"),
    ]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("log takes no arguments", command: name) }
        let n = try args.int("last", default: 20)
        guard n > 0 else { throw CLIError.usage("--last must be a positive number", command: name) }
        let path = args.databasePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError.failed("no database at \(path) — nothing has been asked yet, or pass --db PATH")
        }
        let entries: [AuditEntry] = try AuditStore(path: path).recent(n)
        if entries.isEmpty { print("the audit log is empty"); return 0 }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .iso8601
        let iso = ISO8601DateFormatter()
        for e in entries {
            if args.has("json") { print(String(decoding: try enc.encode(e), as: UTF8.self)); continue }
            let groups = e.groups.isEmpty ? "-" : e.groups.joined(separator: ",")
            print("\(iso.string(from: e.time))  as \(groups)  pack \(e.pack)  model \(e.modelID)\(e.adapter.map { "+\($0)" } ?? "")  \(String(format: "%.2fs", e.totalSeconds))")
            print("  Q: \(e.question)")
            print("  A: \(e.refused ? "[refused: \(e.refusalReason ?? "?")] " : "")\(e.answer.replacingOccurrences(of: "\n", with: " "))")
            print("  chunks: \(e.chunkIDs.map(String.init).joined(separator: ","))  cited: \(e.citedChunkIDs.map(String.init).joined(separator: ","))")
            if let d = e.detail { print("  detail: \(d)") }
        }
        return 0
    }
}
