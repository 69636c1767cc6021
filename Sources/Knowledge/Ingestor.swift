import Foundation

/// Walks paths, reads and checks files, chunks (and embeds) them, and stores them in short
/// write transactions.
///
/// Incremental: a file whose SHA-256 matches the stored one is not re-chunked. A crash or Ctrl-C
/// leaves every document either fully stored or as it was; the next run finishes the job.
///
/// Concurrency: everything slow (reading, extracting, chunking, computing vectors) happens
/// outside any transaction; prepared documents are then written together in one short
/// transaction (`PendingWrites`), so readers, `ask`'s audit row and a second ingest never wait
/// behind an encoder.
public final class Ingestor {
    public let store: KnowledgeStore
    public init(store: KnowledgeStore) { self.store = store }

    /// A file found under the given paths; `explicit` when the user named it directly.
    struct Candidate { var path: String; var explicit: Bool }

    public func ingest(paths: [String], options: IngestOptions = IngestOptions(),
                       progress: ((IngestProgress) -> Void)? = nil) -> IngestReport {
        let t0 = Date()
        var report = IngestReport()
        var candidates: [Candidate] = []
        var roots: [String] = []
        var unreadable: [String] = []
        for p in paths {
            let abs = Self.absolute(p)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: abs, isDirectory: &isDir) else {
                report.outcomes.append((p, .skipped(.missingPath))); report.failureCount += 1
                continue
            }
            if isDir.boolValue {
                roots.append(abs)
                let found = Self.walkReporting(abs)
                candidates += found.files.map { Candidate(path: $0, explicit: false) }
                unreadable += found.unreadable.map(\.path)
                for u in found.unreadable {
                    report.outcomes.append((u.path, .skipped(.unreadable("\(u.reason); the documents stored from under it are kept"))))
                    report.failureCount += 1
                }
            } else {
                candidates.append(Candidate(path: abs, explicit: true))
            }
        }
        // A file named twice (or inside a folder also given) is processed once, first mention wins.
        var seen = Set<String>()
        candidates = candidates.filter { seen.insert($0.path).inserted }
        let sizes = candidates.map { Self.fileStat($0.path)?.size ?? 0 }
        var state = IngestProgress(filesDone: 0, filesTotal: candidates.count, bytesDone: 0,
                                   bytesTotal: sizes.reduce(0, +), chunks: 0, elapsed: 0, currentPath: "")
        var pending = PendingWrites()
        for (i, c) in candidates.enumerated() {
            if options.shouldStop() { report.interrupted = true; break }
            state.currentPath = c.path
            let slot = report.outcomes.count
            report.outcomes.append((c.path, .unchanged))
            switch ingestFile(c.path, options: options, report: &report) {
            case .done(let outcome):
                // Unsupported types count as failures unless the run said they are expected.
                if case .skipped(let problem) = outcome {
                    if case .unsupportedType = problem, options.skipUnsupported {} else { report.failureCount += 1 }
                }
                report.outcomes[slot].outcome = outcome
            case .write(var w):
                w.slot = slot
                pending.add(w)
            }
            if pending.isDue { pending.flush(store, &report) }
            state.filesDone = i + 1
            state.bytesDone += sizes[i]
            state.chunks = report.newChunkIDs.count + pending.chunkCount
            state.elapsed = Date().timeIntervalSince(t0)
            progress?(state)
        }
        pending.flush(store, &report)
        if options.prune && !report.interrupted {
            prune(roots: roots, unreadable: unreadable, report: &report)
        }
        report.seconds = Date().timeIntervalSince(t0)
        return report
    }

    /// The files `ingest` would visit under a folder, in the order it visits them.
    public static func files(under dir: String) -> [String] { walk(absolute(dir)) }

    /// Every regular file under `dir`, sorted, skipping hidden files and folders (.git, .DS_Store).
    static func walk(_ dir: String) -> [String] { walkReporting(dir).files }

    /// The files under `dir`, and the folders that could not be listed (with why): those must
    /// not be taken for empty, or `--prune` would delete every document stored from them.
    /// Path-based listing plus stat: URL resource values cost ~10x more per file. Symbolic links
    /// to folders are not followed (no cycles); links to files are.
    static func walkReporting(_ dir: String) -> (files: [String], unreadable: [(path: String, reason: String)]) {
        var files: [String] = [], unreadable: [(path: String, reason: String)] = []
        func visit(_ folder: String) {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
                unreadable.append((folder, reason(error)))
                return
            }
            for name in names where !name.hasPrefix(".") {
                let full = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                var l = stat()
                guard lstat(full, &l) == 0 else { unreadable.append((full, String(cString: strerror(errno)))); continue }
                if l.st_mode & S_IFMT == S_IFDIR { visit(full); continue }
                if let st = fileStat(full), st.isRegular { files.append(full) }
            }
        }
        visit(dir)
        return (files.sorted(), unreadable.sorted { $0.path < $1.path })
    }

    struct FileStat { var size: Int; var modified: Double; var isRegular: Bool; var isDirectory: Bool }

    /// stat(2) of `path` (following symlinks), nil when it does not exist or cannot be read.
    static func fileStat(_ path: String) -> FileStat? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let type = st.st_mode & S_IFMT
        return FileStat(size: Int(st.st_size), modified: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9,
                        isRegular: type == S_IFREG, isDirectory: type == S_IFDIR)
    }

    static func isDirectory(_ path: String) -> Bool { fileStat(path)?.isDirectory ?? false }

    static func absolute(_ p: String) -> String {
        URL(fileURLWithPath: p, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }

    /// What became of one file before any write: decided (skipped, unchanged), or prepared for
    /// the next write transaction.
    enum FileResult { case done(IngestOutcome), write(PreparedWrite) }

    private func ingestFile(_ path: String, options: IngestOptions, report: inout IngestReport) -> FileResult {
        guard let type = SourceType(path: path) else {
            return .done(.skipped(.unsupportedType((path as NSString).pathExtension)))
        }
        guard let info = Self.fileStat(path) else { return .done(.skipped(.unreadable(String(cString: strerror(errno))))) }
        let size = info.size, mtime = info.modified
        if size > options.maxFileBytes { return .done(.skipped(.tooLarge(bytes: size, limit: options.maxFileBytes))) }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            return .done(.skipped(.unreadable(Self.reason(error))))
        }
        var decoded: [UInt8]? = nil
        if type.isText {
            switch Self.decodeText(bytes) {
            case .failure(let problem): return .done(.skipped(problem))
            case .success(let text): decoded = text
            }
        }
        let sha = SHA256.hex(bytes)
        do {
            let old = try store.document(path: path)
            let groups = try Self.groups(for: old, options)
            let kept = options.groups == nil && !(old?.groups.isEmpty ?? true)
            if let old, old.sha256 == sha {
                if old.groups == groups {
                    if kept { report.keptGroups += 1 }
                    return .done(.unchanged)
                }
                var w = PreparedWrite(path: path, regroup: (old.id, groups))
                if type.hasAttachments { w.regroupAttachments = try storedAttachments(of: path).map(\.id) }
                return .write(w)
            }
            let file = SourceFile(name: (path as NSString).lastPathComponent, bytes: bytes, path: path)
            let extracted = try Self.extract(file, type: type, decoded: decoded, options: options.converters)
            var write = try prepare(extracted, path: path, type: type, sha: sha, size: bytes.count, mtime: mtime,
                                    groups: groups, options: options, depth: 0)
            write.keptGroups = kept
            if type.hasAttachments {
                let fresh = Set(write.allAttachmentPaths)
                write.staleAttachments = try storedAttachments(of: path).filter { !fresh.contains($0.path) }.map(\.id)
            }
            return .write(write)
        } catch {
            return .done(.skipped(Self.problem(error)))
        }
    }

    /// Chunks (and embeds, outside any transaction) one extracted document and, recursively, its
    /// attachments, stored as documents of their own at `path › name` with the parent's groups.
    private func prepare(_ extracted: ExtractedDocument, path: String, type: SourceType, sha: String, size: Int, mtime: Double,
                         groups: [String], options: IngestOptions, depth: Int) throws -> PreparedWrite {
        let chunks = DocumentChunker.chunks(of: extracted, source: extracted.text ?? [], options: options.chunking)
        if chunks.isEmpty { throw IngestProblem.noText }
        let doc = NewDocument(path: path, title: extracted.title, sourceType: type.rawValue, sha256: sha,
                              byteSize: size, modifiedAt: mtime, groups: groups)
        var write = PreparedWrite(path: path, document: doc, chunks: chunks)
        write.typeLabel = Self.typeLabel(path)
        write.notes = extracted.notes
        if let h = options.embedding {
            // Vectors are computed here, before the write transaction: encoding takes seconds,
            // and no reader or writer should wait behind it.
            let vectors = try h.embed(chunks.map(\.text))
            guard vectors.count == chunks.count else {
                throw IngestProblem.storeFailed("the encoder returned \(vectors.count) vectors for \(chunks.count) chunks")
            }
            write.vectors = (h.modelID, vectors)
        }
        var names = Set<String>()
        for a in extracted.attachments {
            var name = a.name, k = 2
            while !names.insert(name).inserted { name = "\((a.name as NSString).deletingPathExtension) (\(k)).\((a.name as NSString).pathExtension)"; k += 1 }
            let childPath = path + Self.attachmentSeparator + name
            if depth >= 3 {
                write.attachments.append(.skipped(childPath, .malformed("attachments nested more than 3 deep are not read")))
            } else if let childType = SourceType(path: name) {
                do {
                    let child = try Self.extract(SourceFile(name: name, bytes: a.bytes, path: nil), type: childType, decoded: nil, options: options.converters)
                    write.attachments.append(.prepared(try prepare(child, path: childPath, type: childType, sha: SHA256.hex(a.bytes),
                                                                   size: a.bytes.count, mtime: mtime, groups: groups, options: options, depth: depth + 1)))
                } catch {
                    write.attachments.append(.skipped(childPath, Self.problem(error)))
                }
            } else {
                write.attachments.append(.skipped(childPath, .unsupportedType((name as NSString).pathExtension)))
            }
        }
        return write
    }

    /// The access groups a file gets in this run. Without `--groups` (nil) a stored document
    /// keeps its groups and a new one is public. With a list, a stored restricted document may
    /// only narrow its audience: a list that adds readers (a group it lacked, or none at all)
    /// is refused unless the run allows widening (`--regroup`, `--make-public`).
    static func groups(for old: DocumentRecord?, _ options: IngestOptions) throws -> [String] {
        guard let requested = options.groups.map(AccessGroups.normalize) else { return old?.groups ?? [] }
        guard let old, !old.groups.isEmpty, !options.allowWidening else { return requested }
        if requested.isEmpty || !Set(requested).isSubset(of: old.groups) {
            throw IngestProblem.wouldWiden(stored: old.groups, requested: requested)
        }
        return requested
    }

    /// Text formats are decoded (UTF-8, UTF-16, GB18030, Big5) and extracted here; the others go
    /// through their converter.
    static func extract(_ file: SourceFile, type: SourceType, decoded: [UInt8]?, options: ConverterOptions) throws -> ExtractedDocument {
        guard type.isText else { return try Extractor.convert(file, type: type, options: options) }
        let text: [UInt8]
        if let decoded { text = decoded } else {
            switch decodeText(file.bytes) {
            case .failure(let p): throw p
            case .success(let t): text = t
            }
        }
        var doc = try Extractor.extract(text, type: type, fileName: file.name)
        if doc.text == nil { doc.text = text }
        return doc
    }

    /// Separates a container's path from an attachment's name in stored paths: `mail.eml › a.pdf`.
    public static let attachmentSeparator = " › "

    /// The file a stored path lives in: itself, or for an attachment the container file.
    public static func containerPath(_ stored: String) -> String {
        stored.range(of: attachmentSeparator).map { String(stored[..<$0.lowerBound]) } ?? stored
    }

    private func storedAttachments(of path: String) throws -> [DocumentRecord] {
        try store.listDocuments().filter { $0.path.hasPrefix(path + Self.attachmentSeparator) }
    }

    static func typeLabel(_ path: String) -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        return ext.isEmpty ? "(none)" : ext
    }

    /// The problem to report for an error thrown while extracting or storing.
    static func problem(_ error: Error) -> IngestProblem {
        switch error {
        case let e as IngestProblem: return e
        case let e as ExtractionError: return .malformed(e.message)
        case let e as ConverterError:
            if case .missing = e { return .converterMissing(e.description) }
            return .converterFailed(e.description)
        case let e as CSVError: return .malformed(e.localizedDescription)
        default: return .storeFailed(reason(error))
        }
    }

    /// Decodes a text file (see `TextDecoder`) and rejects what is not text: NUL bytes without a
    /// UTF-16 pattern (binary), bytes no supported encoding reads, nothing but whitespace.
    static func decodeText(_ b: [UInt8]) -> Result<[UInt8], IngestProblem> {
        let text: [UInt8]
        do { text = try TextDecoder.decode(b).text } catch TextDecodingError.binary(let o) {
            return .failure(.binary(offset: o))
        } catch TextDecodingError.undecodable(let o) {
            return .failure(.invalidUTF8(offset: o))
        } catch { return .failure(.malformed("\(error)")) }
        if !text.contains(where: { !Chunker.isSpace($0) }) { return .failure(.empty) }
        return .success(text)
    }

    /// Deletes documents under `roots` whose files are gone. Gone means stat(2) says ENOENT:
    /// a file that cannot be examined (a folder without permission, an I/O error) or lies under
    /// a folder that could not be listed is kept — what cannot be read must not count as deleted.
    private func prune(roots: [String], unreadable: [String], report: inout IngestReport) {
        guard !roots.isEmpty, let docs = try? store.listDocuments() else { return }
        func under(_ path: String, _ folder: String) -> Bool { path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") }
        for d in docs where roots.contains(where: { under(d.path, $0) }) && !unreadable.contains(where: { under(d.path, $0) }) {
            var st = stat()
            guard stat(Self.containerPath(d.path), &st) != 0 else { continue }
            guard errno == ENOENT || errno == ENOTDIR else {
                report.outcomes.append((d.path, .skipped(.unreadable("\(String(cString: strerror(errno))); kept, not pruned"))))
                report.failureCount += 1
                continue
            }
            do { try store.deleteDocument(id: d.id); report.pruned.append(d.path) } catch {
                report.outcomes.append((d.path, .skipped(.storeFailed("prune failed: \(Self.reason(error))"))))
                report.failureCount += 1
            }
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.errorDescription ?? "\(e)" }
        if let e = error as? IngestProblem { return e.description }
        if let e = error as? KnowledgeStore.EmbeddingError { return e.description }
        let ns = error as NSError
        if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(u.code)))
        }
        return ns.localizedDescription
    }
}

/// UTF-8 validation that reports where the first bad byte is (overlongs and surrogates rejected).
enum UTF8Validation {
    static func firstInvalidOffset(_ b: [UInt8]) -> Int? {
        b.withUnsafeBufferPointer { p -> Int? in
            var i = 0
            let n = p.count
            while i < n {
                let c = p[i]
                if c < 0x80 { i += 1; continue }
                var need = 0, min: UInt32 = 0, v: UInt32 = 0
                if c & 0xE0 == 0xC0 { need = 1; min = 0x80; v = UInt32(c & 0x1F) }
                else if c & 0xF0 == 0xE0 { need = 2; min = 0x800; v = UInt32(c & 0x0F) }
                else if c & 0xF8 == 0xF0 { need = 3; min = 0x10000; v = UInt32(c & 0x07) }
                else { return i }
                guard i + need < n else { return i }
                for k in 1...need {
                    let d = p[i + k]
                    guard d & 0xC0 == 0x80 else { return i }
                    v = v << 6 | UInt32(d & 0x3F)
                }
                if v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) { return i }
                i += need + 1
            }
            return nil
        }
    }
}
