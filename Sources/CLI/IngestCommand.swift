import Foundation
import Knowledge
import Runtime

/// `strata ingest PATH...`: stores documents, chunks and the keyword index.
struct IngestCommand: CLICommand {
    static let name = "ingest"
    static let summary = "add or update documents in the knowledge index"
    static let usage = """
        Usage: strata ingest PATH... [--groups G1,G2 [--regroup] | --make-public] [--prune] [--skip-unsupported]
                             [--max-file-mb N] [--chunk-tokens N] [--embed [--embedder DIR]]

        Reads .md, .txt, .csv (one chunk per row, with its header), .json/.jsonl (string fields),
        .html (text without navigation), .pdf (text layer, or OCR of scanned pages), .png/.jpg/.tif
        (OCR, Chinese and English), .docx, .xlsx (one chunk per row), .pptx (per slide, with notes),
        .eml/.mbox (attachments become documents of their own) from files and folders (hidden files
        skipped). Text in UTF-8, UTF-16, GB18030/GBK or Big5 is detected and converted. Unchanged files
        (same SHA-256) are skipped; changed files are re-chunked. Documents are written in short
        transactions (vectors are computed before them, so searches and answers go on meanwhile):
        Ctrl-C or a crash never leaves half a document, and the next run finishes.

        Access groups: a document never gets more readers without a flag that says so.
          no --groups       new documents are public; stored documents keep their groups
          --groups G1,G2    the documents' groups; a stored restricted document may only lose
                            readers (a subset of its groups) — anything else is refused for it
          --regroup         with --groups: replace stored groups even when that adds readers
          --make-public     make the documents public, restricted ones included
        An empty group list (--groups "") is a usage error.

        --prune removes stored documents under the given folders whose files are gone; a file or
        folder that cannot be read is not gone: it is reported, its documents are kept.

        Exit status: 0 every file stored or unchanged; 3 some files could not be ingested or are of
        an unsupported type (each named on stderr, the rest stored; --skip-unsupported makes
        unsupported types expected); 1 the database could not be used; 64 bad usage;
        130 interrupted by Ctrl-C (documents finished so far are stored).
        """
    static let options: [OptionSpec] = [
        .value("groups", "G1,G2", "access groups for these documents (default: new ones public, stored ones keep theirs)"),
        .flag("regroup", "let --groups replace stored groups even where that adds readers"),
        .flag("make-public", "make these documents public, even those stored with groups"),
        .flag("prune", "remove stored documents under the given folders whose files are gone"),
        .flag("skip-unsupported", "files of unsupported types are expected: list them, but exit 0"),
        .value("max-file-mb", "N", "skip files larger than N MB (default 32)"),
        .value("chunk-tokens", "N", "target chunk size in estimated tokens (default 300, overlap 15%)"),
        .flag("embed", "also embed new and changed chunks, in the document's transaction"),
        EmbedderOption.spec,
    ] + ServerOptions.embedder

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard !args.positionals.isEmpty else {
            throw CLIError.usage("ingest needs at least one file or folder", command: name)
        }
        try args.checkDatabasePath()   // before loading an encoder for nothing
        var options = IngestOptions()
        if !args.all("groups").isEmpty {
            let groups = args.documentGroups
            guard !groups.isEmpty else {
                throw CLIError.usage("--groups needs at least one group name; to make documents public, use --make-public", command: name)
            }
            guard !args.has("make-public") else {
                throw CLIError.usage("--groups and --make-public contradict each other; give one", command: name)
            }
            options.groups = groups
            options.allowWidening = args.has("regroup")
        } else if args.has("make-public") {
            options.groups = []
            options.allowWidening = true
        } else if args.has("regroup") {
            throw CLIError.usage("--regroup changes documents to the groups given with --groups; give --groups too", command: name)
        }
        options.prune = args.has("prune")
        options.skipUnsupported = args.has("skip-unsupported")
        let mb = try args.double("max-file-mb", default: 32)
        guard mb > 0 else { throw CLIError.usage("--max-file-mb must be positive, got \(mb)", command: name) }
        options.maxFileBytes = Int(mb * 1_048_576)
        let target = try args.int("chunk-tokens", default: 300)
        guard (16...8192).contains(target) else {
            throw CLIError.usage("--chunk-tokens must be between 16 and 8192, got \(target)", command: name)
        }
        options.chunking = ChunkingOptions(targetTokens: target, overlapTokens: target * 15 / 100)
        // Ctrl-C: the run stops after the current document (which commits or rolls back whole).
        options.shouldStop = { Interruption.requested }
        let encoder = args.has("embed") ? try EmbedderOption.load(args) : nil
        if let encoder { options.embedding = EmbeddingHook(modelID: encoder.modelID, embed: encoder.embed) }

        let store = try args.openStore(.create)
        if let encoder { try args.runtime.refuseMixing(store, encoder) }
        // A second Ctrl-C quits at once; SQLite rolls the open transaction back on next open.
        Interruption.begin(secondPressExits: true)
        defer { Interruption.end() }

        let bar = isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        let report = Ingestor(store: store).ingest(paths: args.positionals, options: options) { bar?.update($0) }
        bar?.finish()
        // Merging index segments pays off when a run added a good share of the index (queries up
        // to 2x faster); on a small update to a big index it would cost more than it saves.
        if report.chunkCount >= 1_000 && report.chunkCount * 10 >= store.chunkCount { try? store.optimizeIndex() }
        let cwd = FileManager.default.currentDirectoryPath + "/"
        for (path, problem) in report.problems {
            let shown = path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
            printErr("strata ingest: skipped \(TerminalText.line(shown)): \(problem)")
        }
        // Text addressed to an assistant is stored (it is the document's), but said out loud: the
        // Q&A prompt leaves it out and the support check never counts it as evidence.
        // One note per document: overlapping chunks repeat the same sentence.
        var noted = Set<Int64>()
        for c in (try? store.chunks(ids: report.newChunkIDs)) ?? [] where !noted.contains(c.documentID) {
            guard let s = InstructionScan.firstInstruction(c.text) else { continue }
            noted.insert(c.documentID)
            let shown = c.documentPath.hasPrefix(cwd) ? String(c.documentPath.dropFirst(cwd.count)) : c.documentPath
            printErr("strata ingest: note: \(TerminalText.line(shown)) lines \(c.startLine)–\(c.endLine) address an assistant (“\(TerminalText.line(String(s.trimmingCharacters(in: .whitespacesAndNewlines).prefix(80))))”): stored as data, left out of answer prompts, never evidence")
        }
        for (path, note) in report.notes {
            let shown = path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
            printErr("strata ingest: note: \(TerminalText.line(shown)): \(TerminalText.line(note))")
        }
        print(report.summary)
        if !report.typeSummary.isEmpty { print(report.typeSummary) }
        if report.interrupted { return 130 }
        return report.hasFailures ? 3 : 0
    }
}

/// One line redrawn on stderr: files, chunks, rate and ETA.
final class ProgressBar {
    private var last = 0.0
    func update(_ p: IngestProgress) {
        guard p.elapsed - last >= 0.1 || p.filesDone == p.filesTotal else { return }
        last = p.elapsed
        let fraction = p.bytesTotal > 0 ? Double(p.bytesDone) / Double(p.bytesTotal) : Double(p.filesDone) / Double(max(1, p.filesTotal))
        let width = 24
        let filled = Int(fraction * Double(width))
        let rate = p.elapsed > 0 ? Double(p.bytesDone) / 1_048_576 / p.elapsed : 0
        let eta = fraction > 0 ? p.elapsed * (1 - fraction) / fraction : 0
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(p.filesDone)/\(p.filesTotal) files, \(p.chunks) chunks, " + String(format: "%.1f MB/s, ETA %.0f s", rate, eta)
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
    }
    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
