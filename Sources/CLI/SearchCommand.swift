import Foundation
import Knowledge
import Embeddings

/// `strata search "query"`: top-k passages with where they came from.
struct SearchCommand: CLICommand {
    static let name = "search"
    static let summary = "find passages in the knowledge index"
    static let usage = """
        Usage: strata search "QUERY" [--k 5] [--json] [--as GROUP[,GROUP]] [--mode hybrid|keyword|dense] [--embedder DIR]

        Keyword mode ranks chunks by BM25 (FTS5) over any of the query's words; Chinese is matched
        by character bigrams. Only chunks public or shared with --as groups are considered.
        Matched terms are marked [like this] in snippets. --json prints one object for scripts.
        Dense mode ranks by cosine to the query's vector (needs 'strata reindex --embeddings' with
        the same --embedder); hybrid (the default) fuses keyword and dense lists by reciprocal rank
        fusion (k = 60). Without any vectors in the index the default falls back to keyword.

        Audit: a search that returns passages of restricted documents is recorded in the audit log
        (query, groups, chunk ids; see 'strata log'), and fails if it cannot be recorded; searches
        that return public passages only are not. Opens the database read-only otherwise.
        """
    static let options: [OptionSpec] = [
        .value("k", "N", "number of results (default 5, at most 1000)"),
        .flag("json", "print results as JSON"),
        .value("as", "GROUPS", "search as a member of these access groups"),
        .value("mode", "MODE", "retrieval mode: hybrid (default), keyword or dense"),
        EmbedderOption.spec,
    ] + ServerOptions.embedder

    /// Retrieval modes; each maps to one retrieval function below.
    enum Mode: String, CaseIterable { case hybrid, keyword, dense }

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let query = args.positionals.joined(separator: " ")
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CLIError.usage("search needs a query, e.g. strata search \"refund policy\"", command: name)
        }
        let k = try args.int("k", default: 5)
        guard (1...1000).contains(k) else { throw CLIError.usage("--k must be between 1 and 1000, got \(k)", command: name) }
        let modeName = args.value("mode") ?? Mode.hybrid.rawValue
        guard let requestedMode = Mode(rawValue: modeName) else {
            throw CLIError.usage("unknown --mode '\(modeName)'; available: " + Mode.allCases.map(\.rawValue).joined(separator: ", "), command: name)
        }
        let started = Date()
        let store = try args.openStore(.read)
        var mode = requestedMode
        if args.value("mode") == nil, try store.embeddingModels().isEmpty {
            printErr("note: the index has no vectors, searching by keyword only (run 'strata reindex --embeddings')")
            mode = .keyword
        }
        let hits: [SearchHit]
        switch mode {
        case .keyword: hits = try store.keywordSearch(query, groups: args.groups, k: k)
        case .dense, .hybrid:
            let encoder = try EmbedderOption.load(args)
            let dense: DenseIndex
            do { dense = try DenseIndex(store: store, modelID: encoder.modelID) } catch { throw CLIError.failed(error.localizedDescription) }
            let vector = try encoder.embed([query])[0]
            let fused = mode == .hybrid
                ? try store.hybridSearch(query, vector: vector, dense: dense, groups: args.groups, k: k)
                : try dense.search(vector, store: store, groups: args.groups, k: k).enumerated().map {
                    HybridHit(chunkID: $0.element.chunkID, score: $0.element.score, denseRank: $0.offset + 1, denseScore: $0.element.score)
                }
            hits = try store.searchHits(for: fused, query: query)
        }
        try audit(hits, query: query, mode: mode, args: args, seconds: Date().timeIntervalSince(started))
        if args.has("json") {
            print(try json(query: query, mode: mode, groups: args.groups, hits: hits))
        } else if hits.isEmpty {
            let why = KeywordQuery(query).terms.isEmpty ? " (the query has no words to search for)" : ""
            print("no results for \"\(TerminalText.line(query))\"\(why)")
        } else {
            for h in hits { print(describe(h)) }
        }
        return 0
    }

    /// Records a search that returns restricted text, before anything is printed: every read of
    /// restricted text is audited, and one that cannot be recorded is not shown.
    static func audit(_ hits: [SearchHit], query: String, mode: Mode, args: ParsedArguments, seconds: Double) throws {
        guard hits.contains(where: { !$0.groups.isEmpty }) else { return }
        let log = try args.openAuditLog(recording: "a search that returns restricted passages")
        let paths = Array(Set(hits.map { displayPath($0.documentPath) })).sorted()
        try log.append(AuditRecord(
            time: Date(), groups: args.groups, question: query, chunkIDs: hits.map(\.chunkID), citedChunkIDs: [],
            modelID: "-", adapter: nil, pack: "search", answer: "\(hits.count) passages (\(mode.rawValue)) from \(paths.joined(separator: ", "))",
            refused: false, refusalReason: nil, retrievalSeconds: seconds, generationSeconds: 0, totalSeconds: seconds,
            accessNeeds: hits.map(\.groups)))
    }

    static func displayPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }

    static func describe(_ h: SearchHit) -> String {
        let lines = h.startLine == h.endLine ? "line \(h.startLine)" : "lines \(h.startLine)–\(h.endLine)"
        var head = "\(h.rank). " + String(format: "%.2f", h.score) + "  \(TerminalText.line(displayPath(h.documentPath)))"
        if !h.headingPath.isEmpty { head += "  \(TerminalText.line(h.headingPath))" }
        head += "  (\(lines))"
        return head + "\n   " + TerminalText.line(h.snippet) + "\n"
    }

    struct Output: Encodable {
        struct Result: Encodable {
            let rank: Int, score: Double, chunk_id: Int64, path: String, title: String, heading_path: String
            let start_line: Int, end_line: Int, char_start: Int, char_end: Int, groups: [String], snippet: String, text: String
        }
        let query: String, mode: String, groups: [String], results: [Result]
    }

    static func json(query: String, mode: Mode, groups: [String], hits: [SearchHit]) throws -> String {
        let out = Output(query: query, mode: mode.rawValue, groups: groups, results: hits.map {
            .init(rank: $0.rank, score: $0.score, chunk_id: $0.chunkID, path: displayPath($0.documentPath), title: $0.documentTitle,
                  heading_path: $0.headingPath, start_line: $0.startLine, end_line: $0.endLine, char_start: $0.charStart,
                  char_end: $0.charEnd, groups: $0.groups, snippet: $0.snippet, text: $0.text)
        })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(out), as: UTF8.self)
    }
}
