import Foundation

/// Walks paths, reads and checks files, chunks them and stores each document in one transaction.
///
/// Incremental: a file whose SHA-256 matches the stored one is not re-chunked. A crash or Ctrl-C
/// leaves every document either fully stored or as it was; the next run finishes the job.
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
        for p in paths {
            let abs = Self.absolute(p)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: abs, isDirectory: &isDir) else {
                report.outcomes.append((p, .skipped(.missingPath))); report.failureCount += 1
                continue
            }
            if isDir.boolValue {
                roots.append(abs)
                candidates += Self.walk(abs).map { Candidate(path: $0, explicit: false) }
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
        var batch = Batch()
        for (i, c) in candidates.enumerated() {
            if options.shouldStop() { report.interrupted = true; break }
            batch.openIfNeeded(store.database, report)
            state.currentPath = c.path
            let outcome = ingestFile(c.path, options: options, report: &report)
            report.record(c.path, outcome, options: options)
            if report.newChunkIDs.count - batch.start.chunkIDs >= Batch.maxChunks
                || Date().timeIntervalSince(batch.began) >= Batch.maxSeconds {
                batch.close(store.database, &report)
            }
            state.filesDone = i + 1
            state.bytesDone += sizes[i]
            state.chunks = report.newChunkIDs.count
            state.elapsed = Date().timeIntervalSince(t0)
            progress?(state)
        }
        batch.close(store.database, &report)
        if options.prune && !report.interrupted {
            prune(roots: roots, report: &report)
        }
        report.seconds = Date().timeIntervalSince(t0)
        return report
    }

    /// Several documents share one transaction, each inside its own savepoint: a document that
    /// fails rolls back alone, and a crash loses at most the open batch, never half a document
    /// (the next run redoes it). One commit per document would make a small FTS5 segment per
    /// file: a 10,000-file ingest spent more time merging segments than indexing.
    struct Batch {
        static let maxChunks = 2_000
        static let maxSeconds = 2.0
        var start: (outcomes: Int, chunkIDs: Int, bytes: Int) = (0, 0, 0)
        var began = Date()
        var open = false

        mutating func openIfNeeded(_ db: Database, _ report: IngestReport) {
            guard !open, !db.inTransaction else { return }
            // If BEGIN fails (another writer), documents still commit one by one.
            guard (try? db.execute("BEGIN IMMEDIATE")) != nil else { return }
            open = true
            began = Date()
            start = (report.outcomes.count, report.newChunkIDs.count, report.bytesIngested)
        }

        /// Commits; if the commit fails, the batch's documents are reported as not stored.
        mutating func close(_ db: Database, _ report: inout IngestReport) {
            guard open else { return }
            open = false
            do { try db.execute("COMMIT") } catch {
                try? db.execute("ROLLBACK")
                let why = Ingestor.reason(error)
                for i in start.outcomes..<report.outcomes.count {
                    switch report.outcomes[i].outcome {
                    case .ingested, .groupsUpdated:
                        report.outcomes[i].outcome = .skipped(.storeFailed(why))
                        report.failureCount += 1
                    default: break
                    }
                }
                report.newChunkIDs.removeSubrange(start.chunkIDs...)
                report.bytesIngested = start.bytes
            }
        }
    }

    /// The files `ingest` would visit under a folder, in the order it visits them.
    public static func files(under dir: String) -> [String] { walk(absolute(dir)) }

    /// Every regular file under `dir`, sorted, skipping hidden files and folders (.git, .DS_Store).
    static func walk(_ dir: String) -> [String] {
        // Path-based enumeration plus lstat: URL resource values cost ~10x more per file.
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            let full = dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
            if name.hasPrefix(".") {
                if isDirectory(full) { e.skipDescendants() }
                continue
            }
            if let st = fileStat(full), st.isRegular { files.append(full) }
        }
        return files.sorted()
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

    private func ingestFile(_ path: String, options: IngestOptions, report: inout IngestReport) -> IngestOutcome {
        guard let type = SourceType(path: path) else {
            return .skipped(.unsupportedType((path as NSString).pathExtension))
        }
        guard let info = Self.fileStat(path) else { return .skipped(.unreadable(String(cString: strerror(errno)))) }
        let size = info.size, mtime = info.modified
        if size > options.maxFileBytes { return .skipped(.tooLarge(bytes: size, limit: options.maxFileBytes)) }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            return .skipped(.unreadable(Self.reason(error)))
        }
        var decoded: [UInt8]? = nil
        if type.isText {
            switch Self.decodeText(bytes) {
            case .failure(let problem): return .skipped(problem)
            case .success(let text): decoded = text
            }
        }
        let sha = SHA256.hex(bytes)
        let groups = AccessGroups.normalize(options.groups)
        do {
            if let old = try store.document(path: path), old.sha256 == sha {
                if old.groups == groups { return .unchanged }
                try store.setGroups(documentID: old.id, groups)
                if type.hasAttachments {
                    for child in try storedAttachments(of: path) { try store.setGroups(documentID: child.id, groups) }
                }
                return .groupsUpdated
            }
            let file = SourceFile(name: (path as NSString).lastPathComponent, bytes: bytes, path: path)
            let extracted = try Self.extract(file, type: type, decoded: decoded, options: options.converters)
            let n = try storeExtracted(extracted, path: path, type: type, sha: sha, size: bytes.count, mtime: mtime,
                                       groups: groups, options: options, report: &report, depth: 0)
            return .ingested(chunks: n)
        } catch {
            return .skipped(Self.problem(error))
        }
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

    /// Chunks and stores one extracted document, then its attachments as documents of their own at
    /// `path › name` (attachments stored earlier and gone from this version are removed).
    /// Returns the parent's chunk count.
    private func storeExtracted(_ extracted: ExtractedDocument, path: String, type: SourceType, sha: String, size: Int, mtime: Double,
                                groups: [String], options: IngestOptions, report: inout IngestReport, depth: Int) throws -> Int {
        let chunks = DocumentChunker.chunks(of: extracted, source: extracted.text ?? [], options: options.chunking)
        if chunks.isEmpty { throw IngestProblem.noText }
        let doc = NewDocument(path: path, title: extracted.title, sourceType: type.rawValue, sha256: sha,
                              byteSize: size, modifiedAt: mtime, groups: groups)
        let hook = options.embedding
        let ids = try store.replaceDocument(doc, chunks: chunks, beforeCommit: hook.map { h in
            { ids in
                let vectors = try h.embed(chunks.map(\.text))
                guard vectors.count == ids.count else {
                    throw IngestProblem.storeFailed("the encoder returned \(vectors.count) vectors for \(ids.count) chunks")
                }
                let dim = try self.store.embeddingDimension(modelID: h.modelID) ?? vectors.first?.count ?? 0
                try self.store.putEmbeddingsInTransaction(modelID: h.modelID, dimension: dim, Array(zip(ids, vectors)).map { ($0.0, $0.1) })
            }
        })
        report.newChunkIDs += ids
        report.bytesIngested += size
        report.ingestedByType[Self.typeLabel(path), default: 0] += 1
        for note in extracted.notes { report.notes.append((path, note)) }
        var kept = Set<String>()
        var names = Set<String>()
        for a in extracted.attachments {
            var name = a.name, k = 2
            while !names.insert(name).inserted { name = "\((a.name as NSString).deletingPathExtension) (\(k)).\((a.name as NSString).pathExtension)"; k += 1 }
            let childPath = path + Self.attachmentSeparator + name
            kept.insert(childPath)
            let outcome: IngestOutcome
            if depth >= 3 {
                outcome = .skipped(.malformed("attachments nested more than 3 deep are not read"))
            } else if let childType = SourceType(path: name) {
                do {
                    let child = try Self.extract(SourceFile(name: name, bytes: a.bytes, path: nil), type: childType, decoded: nil, options: options.converters)
                    let n = try storeExtracted(child, path: childPath, type: childType, sha: SHA256.hex(a.bytes), size: a.bytes.count, mtime: mtime,
                                               groups: groups, options: options, report: &report, depth: depth + 1)
                    kept.formUnion(report.outcomes.map(\.path).filter { $0.hasPrefix(childPath + Self.attachmentSeparator) })
                    outcome = .ingested(chunks: n)
                } catch {
                    outcome = .skipped(Self.problem(error))
                }
            } else {
                outcome = .skipped(.unsupportedType((name as NSString).pathExtension))
            }
            report.record(childPath, outcome, options: options)
        }
        if type.hasAttachments {
            for old in try storedAttachments(of: path) where !kept.contains(old.path) { try store.deleteDocument(id: old.id) }
        }
        return ids.count
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

    /// The problem that keeps `b` from being ingested as text, nil when it decodes to some text.
    static func check(_ b: [UInt8]) -> IngestProblem? {
        if case .failure(let p) = decodeText(b) { return p }
        return nil
    }

    private func prune(roots: [String], report: inout IngestReport) {
        guard !roots.isEmpty, let docs = try? store.listDocuments() else { return }
        for d in docs where roots.contains(where: { d.path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") })
            && !FileManager.default.fileExists(atPath: Self.containerPath(d.path)) {
            do { try store.deleteDocument(id: d.id); report.pruned.append(d.path) } catch {
                report.outcomes.append((d.path, .skipped(.storeFailed("prune failed: \(Self.reason(error))"))))
                report.failureCount += 1
            }
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.errorDescription ?? "\(e)" }
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
