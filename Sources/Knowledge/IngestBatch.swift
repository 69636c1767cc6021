import CSQLite
import Foundation

/// A file ready to be written: a new version (chunks, and vectors when embedding) or new
/// access groups for unchanged content. Everything in it was computed outside a transaction.
struct PreparedWrite {
    var path: String
    var document: NewDocument? = nil
    var chunks: [NewChunk] = []
    var vectors: (modelID: String, vectors: [[Float]])? = nil
    var regroup: (id: Int64, groups: [String])? = nil
    /// The stored groups were kept because the run gave no --groups (reported as such).
    var keptGroups = false
    /// Where this file's outcome goes in the report.
    var slot = 0
    /// For the summary's per-type counts and the notes on how the text was obtained (OCR).
    var typeLabel = ""
    var notes: [String] = []
    /// A container's attachments (e-mail), each a document of its own, and stored attachments
    /// this version no longer has (deleted with it).
    var attachments: [Attachment] = []
    var staleAttachments: [Int64] = []
    /// Unchanged content, new groups: the container's stored attachments follow.
    var regroupAttachments: [Int64] = []

    indirect enum Attachment {
        case prepared(PreparedWrite)
        case skipped(String, IngestProblem)
        var path: String { switch self { case .prepared(let w): w.path; case .skipped(let p, _): p } }
    }

    /// Paths of every attachment, nested ones included.
    var allAttachmentPaths: [String] {
        attachments.flatMap { a -> [String] in
            if case .prepared(let w) = a { return [w.path] + w.allAttachmentPaths }
            return [a.path]
        }
    }
}

/// Prepared documents written together in one short write transaction, each inside its own
/// savepoint: a document that fails rolls back alone, and a crash loses at most this batch,
/// never half a document (the next run redoes it). One commit per document would make a small
/// FTS5 segment per file (a 10,000-file ingest spent more time merging segments than
/// indexing); one transaction for the whole run would hold the write lock for minutes. The
/// transaction only writes: no file is read and no vector computed while it is open.
struct PendingWrites {
    static let maxChunks = 2_000
    static let maxSeconds = 2.0
    /// How long to wait for another writer's transaction before giving this batch up.
    static let lockWaitSeconds = 120.0

    private var items: [PreparedWrite] = []
    private var since = Date()
    var chunkCount: Int { items.reduce(0) { $0 + $1.totalChunks } }
    var isDue: Bool { chunkCount >= Self.maxChunks || (!items.isEmpty && Date().timeIntervalSince(since) >= Self.maxSeconds) }

    mutating func add(_ w: PreparedWrite) {
        if items.isEmpty { since = Date() }
        items.append(w)
    }

    /// Writes every pending item and records its outcome; on a failed BEGIN or COMMIT none of
    /// them is stored, and each is reported as such.
    mutating func flush(_ store: KnowledgeStore, _ report: inout IngestReport) {
        guard !items.isEmpty else { return }
        defer { items = [] }
        let db = store.database
        let start = (chunkIDs: report.newChunkIDs.count, bytes: report.bytesIngested, kept: report.keptGroups)
        do {
            try Self.begin(db)
            for w in items {
                do {
                    report.outcomes[w.slot].outcome = try write(w, store, &report)
                    if w.keptGroups { report.keptGroups += 1 }
                } catch {
                    report.outcomes[w.slot].outcome = .skipped(.storeFailed(Ingestor.reason(error)))
                    report.failureCount += 1
                }
            }
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            let why = Ingestor.reason(error)
            for w in items {
                switch report.outcomes[w.slot].outcome {
                case .skipped: break
                default:
                    report.outcomes[w.slot].outcome = .skipped(.storeFailed(why))
                    report.failureCount += 1
                }
            }
            report.newChunkIDs.removeSubrange(start.chunkIDs...)
            report.bytesIngested = start.bytes
            report.keptGroups = start.kept
        }
    }

    private func write(_ w: PreparedWrite, _ store: KnowledgeStore, _ report: inout IngestReport) throws -> IngestOutcome {
        if let r = w.regroup {
            try store.setGroups(documentID: r.id, r.groups)
            for child in w.regroupAttachments { try store.setGroups(documentID: child, r.groups) }
            return .groupsUpdated
        }
        let outcome = try writeDocument(w, store, &report)
        for id in w.staleAttachments { try store.deleteDocument(id: id) }
        return outcome
    }

    /// Writes one document, then its attachments (each recorded in the report on its own).
    private func writeDocument(_ w: PreparedWrite, _ store: KnowledgeStore, _ report: inout IngestReport) throws -> IngestOutcome {
        guard let doc = w.document else { return .unchanged }
        let ids = try store.replaceDocument(doc, chunks: w.chunks, beforeCommit: w.vectors.map { v in
            { ids in
                let dim = try store.embeddingDimension(modelID: v.modelID) ?? v.vectors.first?.count ?? 0
                for (id, vector) in zip(ids, v.vectors) {
                    if vector.count != dim {
                        throw KnowledgeStore.EmbeddingError.dimensionMismatch(modelID: v.modelID, expected: dim, got: vector.count, chunkID: id)
                    }
                    if !vector.allSatisfy(\.isFinite) { throw KnowledgeStore.EmbeddingError.nonFinite(chunkID: id) }
                }
                try store.putEmbeddingsInTransaction(modelID: v.modelID, dimension: dim, Array(zip(ids, v.vectors)).map { ($0.0, $0.1) })
            }
        })
        report.newChunkIDs += ids
        report.bytesIngested += doc.byteSize
        report.ingestedByType[w.typeLabel.isEmpty ? "(none)" : w.typeLabel, default: 0] += 1
        for note in w.notes { report.notes.append((w.path, note)) }
        for a in w.attachments {
            switch a {
            case .skipped(let path, let problem):
                report.outcomes.append((path, .skipped(problem))); report.failureCount += 1
            case .prepared(let child):
                do {
                    let outcome = try store.database.transaction { try writeDocument(child, store, &report) }
                    report.outcomes.append((child.path, outcome))
                } catch {
                    report.outcomes.append((child.path, .skipped(.storeFailed(Ingestor.reason(error))))); report.failureCount += 1
                }
            }
        }
        return .ingested(chunks: ids.count)
    }

    /// BEGIN IMMEDIATE, waiting for another writer (SQLite waits up to its busy timeout per
    /// attempt): another ingest holds the lock only for its own short batch.
    private static func begin(_ db: Database) throws {
        let deadline = Date().addingTimeInterval(lockWaitSeconds)
        while true {
            do { try db.execute("BEGIN IMMEDIATE"); return } catch let e as DatabaseError
                where [SQLITE_BUSY, SQLITE_LOCKED].contains(e.code & 0xff) && Date() < deadline {
                usleep(50_000)
            }
        }
    }
}

extension PreparedWrite {
    /// Chunks of this document and of its attachments.
    var totalChunks: Int {
        chunks.count + attachments.reduce(0) { n, a in if case .prepared(let w) = a { return n + w.totalChunks }; return n }
    }
}
