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
            if case .skipped(let problem) = outcome {
                if case .unsupportedType = problem, !c.explicit {
                    // Other files in a folder are expected; listed in the report, not a failure.
                } else {
                    report.failureCount += 1
                }
            }
            report.outcomes.append((c.path, outcome))
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
        if let problem = Self.check(bytes) { return .skipped(problem) }
        let sha = SHA256.hex(bytes)
        let groups = AccessGroups.normalize(options.groups)
        do {
            if let old = try store.document(path: path), old.sha256 == sha {
                if old.groups == groups { return .unchanged }
                try store.setGroups(documentID: old.id, groups)
                return .groupsUpdated
            }
            let extracted = try Extractor.extract(bytes, type: type, fileName: (path as NSString).lastPathComponent)
            let chunks = DocumentChunker.chunks(of: extracted, source: bytes, options: options.chunking)
            if chunks.isEmpty { return .skipped(.noText) }
            let doc = NewDocument(path: path, title: extracted.title, sourceType: type.rawValue, sha256: sha,
                                  byteSize: bytes.count, modifiedAt: mtime, groups: groups)
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
            report.bytesIngested += bytes.count
            return .ingested(chunks: ids.count)
        } catch let e as ExtractionError {
            return .skipped(.malformed(e.message))
        } catch let e as IngestProblem {
            return .skipped(e)
        } catch {
            return .skipped(.storeFailed(Self.reason(error)))
        }
    }

    /// Rejects what is not text: empty or blank, NUL bytes (binary), invalid UTF-8.
    static func check(_ b: [UInt8]) -> IngestProblem? {
        if let nul = b.firstIndex(of: 0) { return .binary(offset: nul) }
        if let bad = UTF8Validation.firstInvalidOffset(b) { return .invalidUTF8(offset: bad) }
        if !b.contains(where: { !Chunker.isSpace($0) }) { return .empty }
        return nil
    }

    private func prune(roots: [String], report: inout IngestReport) {
        guard !roots.isEmpty, let docs = try? store.listDocuments() else { return }
        for d in docs where roots.contains(where: { d.path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") })
            && !FileManager.default.fileExists(atPath: d.path) {
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
