import Foundation
import Assistant
import Knowledge
import Prompts
import Runtime

struct ReportCommand: CLICommand {
    static let name = "report"
    static let summary = "draft a cited research report on a topic from the knowledge base"
    static let usage = """
    Usage: strata report "TOPIC" [-o report.md] [--outline FILE] [--lang zh|en] [--sections N] [--json]

    Writes the report section by section: 2–4 searches per section, the best passages as numbered
    sources, the model's text kept only where a source supports it, key evidence quoted with its
    citation, repeats removed; then an executive summary the model writes from the sections' key
    findings (each sentence checked against them) and one references list. Progress and the quality figures go to stderr. Ctrl-C stops after writing
    what is finished, marked incomplete. The run is recorded in the audit log (see 'strata log').
    """
    static let options: [OptionSpec] = [
        .value("output", short: "o", "FILE", "write the Markdown report here (default: standard output)"),
        .value("outline", "FILE", "section titles, one per line (default: the pack's outline for the topic kind)"),
        .value("lang", "zh|en", "language of the report (default: the topic's)"),
        .value("sections", "N", "write only the first N sections of the outline"),
        .value("model", "PATH", "GGUF model, or 'extractive' for the no-model baseline (default: $STRATA_MODEL, else \(ModelDefaults.answering))"),
        .value("adapter", "NAME", "L2 adapter ('none' for the base model)"),
        .value("as", "GROUPS", "write as a member of these access groups (comma separated)"),
        .value("table", "NAME", "add a business table's rows (registered name or CSV path) to the evidence"),
        .value("max-tokens", "N", "tokens the model may write per section (default: the pack's)"),
        .value("passages", "N", "source passages per section (default 8; fewer makes a small model faster)"),
        .value("pack", "NAME", "prompt pack (default research-report)"),
        packsOption,
        .flag("mark-unsupported", "keep unsupported model sentences, marked, instead of dropping them"),
        .flag("extractive-summary", "make the executive summary from each section's best finding instead of having the model write it"),
        .flag("json", "print the structured report (sections, references, quality) as JSON"),
        .flag("no-audit", "do not record this report in the audit log (public documents only: not with --as)"),
    ] + ServerOptions.llm

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let topic = args.positionals.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !topic.isEmpty else { throw CLIError.usage("give the report topic in quotes", command: name) }
        var options = ReportOptions()
        options.groups = args.groups
        options.adapter = args.value("adapter")
        options.markUnsupported = args.has("mark-unsupported")
        options.modelSummary = !args.has("extractive-summary")
        if let lang = args.value("lang") {
            guard ["zh", "en"].contains(lang) else { throw CLIError.usage("--lang takes zh or en, got '\(lang)'", command: name) }
            options.language = lang
        }
        if let n = try args.optionalInt("sections") {
            guard (1...20).contains(n) else { throw CLIError.usage("--sections must be between 1 and 20", command: name) }
            options.maxSections = n
        }
        if let n = try args.optionalInt("max-tokens") {
            guard (1...4096).contains(n) else { throw CLIError.usage("--max-tokens must be between 1 and 4096", command: name) }
            options.maxTokens = n
        }
        if let n = try args.optionalInt("passages") {
            guard (1...20).contains(n) else { throw CLIError.usage("--passages must be between 1 and 20", command: name) }
            options.passagesPerSection = n
        }
        if let file = args.value("outline") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError.failed("cannot read the outline file '\(file)' — give a UTF-8 text file with one section title per line")
            }
            options.outline = try ReportOutline.parse(text, source: file)
        }
        let store = try args.openStore(.read)
        let audit: AuditStore? = try args.auditRequired()
            ? try args.openAuditLog(recording: "every report", withoutAudit: "pass --no-audit to write from public documents without recording")
            : nil
        if let table = args.value("table") { options.extraEvidence = [try tableEvidence(table, store: store)] }
        if let out = args.value("output") {
            let dir = (out as NSString).deletingLastPathComponent
            guard dir.isEmpty || FileManager.default.fileExists(atPath: dir) else {
                throw CLIError.failed("cannot write '\(out)': the folder '\(dir)' does not exist — create it or choose another path")
            }
        }
        let pack = try args.runtime.answeringPack(args.value("pack") ?? "research-report", adapter: args.value("adapter"))
        let writer = try ReportWriter(pack: pack, retriever: try args.runtime.retriever(for: pack, AssistantWiring.settings(args)),
                                      generator: try args.runtime.answeringGenerator(extractive: ExtractiveGenerator(minCoverage: 0.1)),
                                      audit: audit)

        Interruption.begin()
        defer { Interruption.end() }
        let report = try writer.write(topic: topic, options: options, progress: { event in
            switch event {
            case .sectionStarted(let i, let n, let title): printErr("[\(i)/\(n)] \(title)")
            case .evidence(let count, let queries): printErr("      evidence: \(count) passages from \(queries.count) searches")
            case .sectionFinished(let tokens, let seconds):
                if tokens > 0 { printErr(String(format: "      model: %d tokens, %.1f tokens/s", tokens, seconds > 0 ? Double(tokens) / seconds : 0)) }
            case .summary: printErr("summary and references")
            }
        }, shouldContinue: { !Interruption.requested })

        let markdown = report.markdown
        if let out = args.value("output") {
            do { try markdown.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                throw CLIError.failed("cannot write '\(out)': \(error.localizedDescription) — check the path is writable")
            }
        }
        if args.has("json") {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else if args.value("output") == nil {
            print(markdown, terminator: "")
        }
        if !report.complete { printErr("interrupted: the report is incomplete (\(report.unwritten.count) section(s) not written)") }
        printErr(report.quality.summary)
        return report.complete ? 0 : 130
    }

    /// A business table as a Markdown passage: by registered name (its CSV source) or a CSV path,
    /// read with Knowledge's CSV parser (the one `data import` uses).
    static func tableEvidence(_ name: String, store: KnowledgeStore) throws -> RetrievedPassage {
        // Registered names are lower case (business table names ignore case).
        let registered = try BusinessTables.list(store.database).first { $0.name == name.lowercased() }
        let path = registered?.sourceFile ?? name
        guard let table = try? CSVParser.parse(file: path) else {
            throw CLIError.failed("no business table '\(name)': it is not registered in the database and is not a readable CSV file — give a table name or a CSV path")
        }
        let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.count >= 2, !table.records.isEmpty else {
            throw CLIError.failed("'\(path)' is not a CSV table with a header and at least one row — check the file")
        }
        let shown = table.records.prefix(30).map { $0.fields.map { $0.trimmingCharacters(in: .whitespaces) } }
        func line(_ r: [String]) -> String {
            "| " + header.indices.map { $0 < r.count ? r[$0].replacingOccurrences(of: "|", with: "/") : "" }.joined(separator: " | ") + " |"
        }
        var md = line(header) + "\n|" + String(repeating: " --- |", count: header.count) + "\n"
        md += shown.map(line).joined(separator: "\n")
        let title = (path as NSString).lastPathComponent
        let characters = (try? String(contentsOfFile: path, encoding: .utf8))?.count ?? 0
        return RetrievedPassage(chunkID: 0, documentPath: path, headingPath: "table \(title)", text: md, startLine: 1,
                                endLine: shown.count + 1, charStart: 0, charEnd: characters, score: 1)
    }
}
