import Foundation

/// Why a file was not stored. Each case says what to do in `description`.
public enum IngestProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case missingPath
    case unreadable(String)
    case unsupportedType(String)
    case empty
    /// Text, but none left to index once extracted: only headings, markup or non-string JSON.
    case noText
    case binary(offset: Int)
    case invalidUTF8(offset: Int)
    case tooLarge(bytes: Int, limit: Int)
    case malformed(String)
    case storeFailed(String)
    /// The run's --groups would add readers to a restricted document (refused, document kept).
    case wouldWiden(stored: [String], requested: [String])
    /// The converter this format needs is not installed (the message names the Debian package).
    case converterMissing(String)
    /// The converter failed, hung, crashed or went over a limit on this file.
    case converterFailed(String)

    /// Short category used in the summary line ("binary: 2, invalid UTF-8: 1").
    public var category: String {
        switch self {
        case .missingPath: "missing"
        case .unreadable: "unreadable"
        case .unsupportedType: "unsupported"
        case .empty: "empty"
        case .noText: "no text"
        case .binary: "binary"
        case .invalidUTF8: "invalid UTF-8"
        case .tooLarge: "too large"
        case .malformed: "malformed"
        case .storeFailed: "store failed"
        case .wouldWiden: "access"
        case .converterMissing: "converter missing"
        case .converterFailed: "converter failed"
        }
    }

    public var description: String {
        switch self {
        case .missingPath: "no such file or directory — check the path"
        case .unreadable(let why): "cannot be read (\(why)) — check its permissions"
        case .unsupportedType(let ext):
            "unsupported file type '\(ext.isEmpty ? "(none)" : "." + ext)' — Strata reads .md .txt .csv .json .jsonl .html .pdf .docx .xlsx .pptx .eml .mbox .png .jpg .tif; convert it to one of these, or pass --skip-unsupported if such files are expected"
        case .empty: "file is empty (nothing but whitespace) — add content or remove it"
        case .noText: "no text to index once extracted (only headings, markup, non-string fields or blank pages) — add body text or remove it"
        case .binary(let o): "binary file (NUL byte at offset \(o)) — only text formats are ingested; export it as text first"
        case .invalidUTF8(let o):
            "invalid UTF-8 at byte \(o), and not UTF-16, GB18030/GBK or Big5 either — re-save the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"
        case .tooLarge(let b, let l):
            "file is \(Self.mb(b)), over the \(Self.mb(l)) limit — split it, or raise the limit with --max-file-mb"
        case .malformed(let why): why
        case .storeFailed(let why): "could not be stored: \(why)"
        case .wouldWiden(let stored, let requested):
            "would add readers: it is restricted to \(stored.joined(separator: ",")) and this run gives "
                + (requested.isEmpty ? "no groups (public)" : requested.joined(separator: ","))
                + " — kept as it was; pass --regroup to change its groups (--make-public to make it public), or leave out --groups to keep them"
        case .converterMissing(let why): why
        case .converterFailed(let why): why
        }
    }

    static func mb(_ b: Int) -> String { String(format: "%.1f MB", Double(b) / 1_048_576) }
}

/// What happened to one file.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored (new or changed) with this many chunks.
    case ingested(chunks: Int)
    /// Same content hash as the stored version: nothing done.
    case unchanged
    /// Same content, new access groups: groups updated, chunks kept.
    case groupsUpdated
    /// Not stored; anything stored earlier for this path is kept as it was.
    case skipped(IngestProblem)
}

/// Computes vectors for new chunks (the embedding stage), before the document's write transaction.
public struct EmbeddingHook {
    public var modelID: String
    public var embed: ([String]) throws -> [[Float]]
    public init(modelID: String, embed: @escaping ([String]) throws -> [[Float]]) { self.modelID = modelID; self.embed = embed }
}

/// Settings of one ingest run.
public struct IngestOptions {
    /// Access groups for the documents of this run. nil (no --groups): a stored document keeps
    /// its groups, a new one is public. A list (empty = public): the documents' groups, but a
    /// stored restricted document is never given more readers unless `allowWidening`.
    public var groups: [String]? = nil
    /// Lets `groups` add readers to stored documents (`--regroup`, `--make-public`).
    public var allowWidening = false
    /// Remove stored documents under the given directories whose files are gone.
    public var prune = false
    public var chunking = ChunkingOptions.default
    /// Files larger than this are skipped with a message (they would make one giant document).
    public var maxFileBytes = 32 * 1_048_576
    /// When set, new chunks are embedded before their document is written, and stored with it.
    public var embedding: EmbeddingHook? = nil
    /// Checked between files; returning true stops the run cleanly (Ctrl-C).
    public var shouldStop: () -> Bool = { false }
    /// Unsupported file types are expected (listed, not a failure); otherwise they fail the run.
    public var skipUnsupported = false
    /// Limits of the external converters (pdftotext, tesseract) and of Office archives.
    public var converters = ConverterOptions()
    public init() {}
}

/// Where a run is, for a progress bar.
public struct IngestProgress: Sendable {
    public var filesDone: Int, filesTotal: Int
    public var bytesDone: Int, bytesTotal: Int
    public var chunks: Int
    public var elapsed: Double
    public var currentPath: String
}

/// The result of a run.
public struct IngestReport: Sendable {
    public var outcomes: [(path: String, outcome: IngestOutcome)] = []
    /// Ids of every chunk stored by this run (for an embedding stage that runs afterwards).
    public var newChunkIDs: [Int64] = []
    /// Paths of documents removed by --prune.
    public var pruned: [String] = []
    public var bytesIngested = 0
    public var seconds = 0.0
    /// True when `shouldStop` ended the run before every file was seen.
    public var interrupted = false
    /// Restricted documents seen again without --groups, whose groups were kept.
    public var keptGroups = 0
    /// What the user should know about how a document's text was obtained (OCR share, confidence).
    public var notes: [(path: String, note: String)] = []
    /// Documents stored by this run, per source type (`pdf`, `docx`, `md`…), attachments included.
    public var ingestedByType: [String: Int] = [:]

    /// `by type: md 14, pdf 2, docx 1` (most first), or "" when nothing was stored.
    public var typeSummary: String {
        guard !ingestedByType.isEmpty else { return "" }
        return "by type: " + ingestedByType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    public var ingestedFiles: Int { outcomes.filter { if case .ingested = $0.outcome { true } else { false } }.count }
    /// Files not re-chunked because their content hash matched (including those only regrouped).
    public var unchangedFiles: Int { outcomes.filter { $0.outcome == .unchanged || $0.outcome == .groupsUpdated }.count }
    public var regroupedFiles: Int { outcomes.filter { $0.outcome == .groupsUpdated }.count }
    public var chunkCount: Int { newChunkIDs.count }
    public var problems: [(path: String, problem: IngestProblem)] {
        outcomes.compactMap { if case .skipped(let p) = $0.outcome { ($0.path, p) } else { nil } }
    }
    /// True when some file given or found could not be stored (unsupported types count too,
    /// unless the run said they are expected with `skipUnsupported`).
    public var hasFailures: Bool { failureCount > 0 }
    /// Problems that count as failures (all but unsupported types when `skipUnsupported`).
    public var failureCount = 0

    /// Adds one file's (or attachment's) outcome, counting it as a failure unless it is an
    /// unsupported type the run said to expect.
    mutating func record(_ path: String, _ outcome: IngestOutcome, options: IngestOptions) {
        if case .skipped(let problem) = outcome {
            if case .unsupportedType = problem, options.skipUnsupported {} else { failureCount += 1 }
        }
        outcomes.append((path, outcome))
    }

    /// `ingested 42 files, 1,310 chunks, 3 skipped (binary: 2, invalid UTF-8: 1) in 4.2 s`
    public var summary: String {
        var counts: [String: Int] = [:]
        for p in problems { counts[p.problem.category, default: 0] += 1 }
        var s = "ingested \(Self.grouped(ingestedFiles)) file\(ingestedFiles == 1 ? "" : "s"), \(Self.grouped(chunkCount)) chunk\(chunkCount == 1 ? "" : "s")"
        if unchangedFiles > 0 { s += ", \(Self.grouped(unchangedFiles)) unchanged" }
        if regroupedFiles > 0 { s += " (\(Self.grouped(regroupedFiles)) with new access groups)" }
        if keptGroups > 0 { s += ", \(Self.grouped(keptGroups)) kept \(keptGroups == 1 ? "its" : "their") access groups" }
        if !problems.isEmpty {
            s += ", \(problems.count) skipped (" + counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        if !pruned.isEmpty { s += ", \(pruned.count) pruned" }
        s += String(format: " in %.1f s", seconds)
        if interrupted { s += " (interrupted: run again to finish)" }
        return s
    }

    /// 1310 → "1,310".
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}
