import Foundation

/// A stored document (one source file).
public struct DocumentRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var path: String
    public var title: String
    public var sourceType: String
    public var sha256: String
    public var byteSize: Int
    public var modifiedAt: Double
    public var ingestedAt: Double
    /// Access groups; empty means public.
    public var groups: [String]
    public var chunkCount: Int
}

/// A document to store (without its id, which the store assigns).
public struct NewDocument: Sendable, Equatable {
    public var path: String, title: String, sourceType: String, sha256: String
    public var byteSize: Int, modifiedAt: Double
    public var groups: [String]
    public init(path: String, title: String, sourceType: String, sha256: String, byteSize: Int,
                modifiedAt: Double, groups: [String]) {
        self.path = path; self.title = title; self.sourceType = sourceType; self.sha256 = sha256
        self.byteSize = byteSize; self.modifiedAt = modifiedAt; self.groups = AccessGroups.normalize(groups)
    }
}

/// A chunk to store. Offsets are Unicode-scalar offsets into the source text; lines are 1-based.
public struct NewChunk: Sendable, Equatable {
    public var text: String, headingPath: String
    public var charStart: Int, charEnd: Int, startLine: Int, endLine: Int, tokenEstimate: Int
    public init(text: String, headingPath: String, charStart: Int, charEnd: Int, startLine: Int, endLine: Int,
                tokenEstimate: Int) {
        self.text = text; self.headingPath = headingPath; self.charStart = charStart; self.charEnd = charEnd
        self.startLine = startLine; self.endLine = endLine; self.tokenEstimate = tokenEstimate
    }
}

/// A stored chunk with where it came from: everything a citation or a `RetrievedPassage` needs.
public struct ChunkRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var documentID: Int64
    public var ordinal: Int
    public var text: String
    public var documentPath: String
    public var documentTitle: String
    public var headingPath: String
    public var charStart: Int, charEnd: Int
    public var startLine: Int, endLine: Int
    public var tokenEstimate: Int
    /// The document's access groups; empty means public.
    public var groups: [String]
}

/// Access-group rules shared by every retrieval path.
public enum AccessGroups {
    /// Lowercased, trimmed, deduplicated, sorted.
    public static func normalize(_ groups: [String]) -> [String] {
        Array(Set(groups.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })).sorted()
    }

    /// JSON array text to bind for `hiddenChunksSQL`'s parameter.
    public static func json(_ groups: [String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: normalize(groups))
        return String(decoding: data, as: UTF8.self)
    }

    /// SQL selecting the ids of chunks a caller may NOT see; its one `?` takes `json(groups)`.
    /// Retrieval writes `chunk_id NOT IN (<this>)` in its WHERE clause, so filtering happens in
    /// SQL before ranking. SQLite evaluates it once per query, in time proportional to the number
    /// of restricted chunks (zero work when every document is public).
    public static let hiddenChunksSQL = """
        SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE d.restricted = 1 AND NOT EXISTS (
            SELECT 1 FROM document_groups g
            WHERE g.document_id = d.id AND g.group_name IN (SELECT value FROM json_each(?)))
        """
}

/// The knowledge index: one SQLite file holding documents, chunks, the FTS5 index and vectors.
/// One instance per thread (it owns one connection).
public final class KnowledgeStore {
    public let database: Database

    /// Opens the store at `path` (`":memory:"` for tests): read-only, or creating and migrating
    /// it as needed. Files are opened through `StoreFile`, so a file that is not Strata's is
    /// refused without being written.
    public convenience init(path: String, readOnly: Bool = false) throws {
        if path == ":memory:" {
            let db = try Database(path: path)
            try Schema.migrate(db)
            self.init(database: db)
        } else {
            self.init(database: try StoreFile.open(path, readOnly ? .read : .create))
        }
    }

    /// Uses an open, migrated database (see `StoreFile.open`).
    public init(database: Database) { self.database = database }

    // MARK: Documents

    public func document(path: String) throws -> DocumentRecord? {
        try documents(where: "d.path = ?", [.text(path)]).first
    }

    /// Every document, by path.
    public func listDocuments() throws -> [DocumentRecord] {
        try documents(where: "1", [])
    }

    private func documents(where clause: String, _ values: [SQLValue]) throws -> [DocumentRecord] {
        try database.query("""
            SELECT d.id, d.path, d.title, d.source_type, d.sha256, d.byte_size, d.modified_at, d.ingested_at,
                   (SELECT group_concat(group_name, ',') FROM document_groups g WHERE g.document_id = d.id),
                   (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)
            FROM documents d WHERE \(clause) ORDER BY d.path
            """, values) { r in
            DocumentRecord(id: r.int(0), path: r.text(1), title: r.text(2), sourceType: r.text(3), sha256: r.text(4),
                           byteSize: Int(r.int(5)), modifiedAt: r.double(6), ingestedAt: r.double(7),
                           groups: r.isNull(8) ? [] : r.text(8).split(separator: ",").map(String.init).sorted(),
                           chunkCount: Int(r.int(9)))
        }
    }

    public var documentCount: Int { (try? database.query("SELECT count(*) FROM documents") { Int($0.int(0)) }.first) ?? 0 }
    public var chunkCount: Int { (try? database.query("SELECT count(*) FROM chunks") { Int($0.int(0)) }.first) ?? 0 }

    /// Stores `document` with `chunks`, replacing any earlier version at the same path (its chunks,
    /// index rows and vectors go), all in one transaction (a savepoint when the caller has one
    /// open, e.g. `batch`). `beforeCommit` runs inside that
    /// transaction with the new chunk ids (the embedding stage uses it so a document and its vectors
    /// land together); if it throws, nothing of this document changes.
    /// Returns the new chunk ids in chunk order.
    @discardableResult
    public func replaceDocument(_ document: NewDocument, chunks: [NewChunk],
                                beforeCommit: (([Int64]) throws -> Void)? = nil) throws -> [Int64] {
        try database.transaction {
            if let old = try database.query("SELECT id FROM documents WHERE path = ?", [.text(document.path)], { $0.int(0) }).first {
                try deleteChunks(documentID: old)
            }
            try database.run("""
                INSERT INTO documents(path, title, source_type, sha256, byte_size, modified_at, ingested_at, restricted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(path) DO UPDATE SET title = excluded.title, source_type = excluded.source_type,
                    sha256 = excluded.sha256, byte_size = excluded.byte_size, modified_at = excluded.modified_at,
                    ingested_at = excluded.ingested_at, restricted = excluded.restricted
                """, [.text(document.path), .text(document.title), .text(document.sourceType), .text(document.sha256),
                      .integer(Int64(document.byteSize)), .real(document.modifiedAt), .real(Date().timeIntervalSince1970),
                      .integer(document.groups.isEmpty ? 0 : 1)])
            let docID = try database.query("SELECT id FROM documents WHERE path = ?", [.text(document.path)]) { $0.int(0) }[0]
            try writeGroups(documentID: docID, document.groups)
            let insertChunk = try statement(&insertChunkStatement, """
                INSERT INTO chunks(document_id, ordinal, text, heading_path, char_start, char_end, line_start, line_end, token_estimate)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertFTS = try statement(&insertFTSStatement, "INSERT INTO chunks_fts(rowid, title, body) VALUES (?, ?, ?)")
            var ids: [Int64] = []
            ids.reserveCapacity(chunks.count)
            for (n, c) in chunks.enumerated() {
                try insertChunk.bind([.integer(docID), .integer(Int64(n)), .text(c.text), .text(c.headingPath),
                                      .integer(Int64(c.charStart)), .integer(Int64(c.charEnd)), .integer(Int64(c.startLine)),
                                      .integer(Int64(c.endLine)), .integer(Int64(c.tokenEstimate))])
                try insertChunk.runToEnd()
                let id = database.lastInsertRowID
                try insertFTS.bind([.integer(id), .text(Self.indexedTitle(document.title, c.headingPath)),
                                    .text(CJKIndexing.indexText(c.text))])
                try insertFTS.runToEnd()
                ids.append(id)
            }
            try beforeCommit?(ids)
            return ids
        }
    }

    /// Runs `body` in one transaction: many `replaceDocument` calls then commit together, each
    /// still all-or-nothing (savepoints). Much faster for bulk loads than one commit per document.
    public func batch<T>(_ body: () throws -> T) throws -> T { try database.transaction(body) }

    /// Changes a document's access groups without re-chunking it.
    public func setGroups(documentID: Int64, _ groups: [String]) throws {
        let g = AccessGroups.normalize(groups)
        try database.transaction {
            try writeGroups(documentID: documentID, g)
            try database.run("UPDATE documents SET restricted = ? WHERE id = ?", [.integer(g.isEmpty ? 0 : 1), .integer(documentID)])
        }
    }

    /// Removes a document with its chunks, index rows and vectors.
    public func deleteDocument(id: Int64) throws {
        try database.transaction {
            try deleteChunks(documentID: id)
            try database.run("DELETE FROM documents WHERE id = ?", [.integer(id)])
        }
    }

    private func writeGroups(documentID: Int64, _ groups: [String]) throws {
        try database.run("DELETE FROM document_groups WHERE document_id = ?", [.integer(documentID)])
        for g in groups {
            try database.run("INSERT INTO document_groups(document_id, group_name) VALUES (?, ?)", [.integer(documentID), .text(g)])
        }
    }

    /// Deletes a document's chunks: the contentless FTS rows first (with the values they were
    /// indexed with), then the chunks, whose vectors go by cascade.
    private func deleteChunks(documentID: Int64) throws {
        let rows = try database.query("""
            SELECT c.id, d.title, c.heading_path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.document_id = ?
            """, [.integer(documentID)]) { r in (r.int(0), r.text(1), r.text(2), r.text(3)) }
        let del = try database.prepare("INSERT INTO chunks_fts(chunks_fts, rowid, title, body) VALUES ('delete', ?, ?, ?)")
        for (id, title, heading, text) in rows {
            try del.bind([.integer(id), .text(Self.indexedTitle(title, heading)), .text(CJKIndexing.indexText(text))])
            try del.runToEnd()
        }
        try database.run("DELETE FROM chunks WHERE document_id = ?", [.integer(documentID)])
    }

    /// The FTS `title` column: document title and heading path, so a heading match ranks its chunks.
    static func indexedTitle(_ title: String, _ heading: String) -> String {
        CJKIndexing.indexText(heading.isEmpty ? title : title + " > " + heading)
    }

    // MARK: Chunks

    /// Chunk records for `ids`, in the order of `ids` (unknown ids are left out).
    public func chunks(ids: [Int64]) throws -> [ChunkRecord] {
        guard !ids.isEmpty else { return [] }
        let json = "[" + ids.map(String.init).joined(separator: ",") + "]"
        let records = try database.query("""
            SELECT c.id, c.document_id, c.ordinal, c.text, d.path, d.title, c.heading_path, c.char_start, c.char_end,
                   c.line_start, c.line_end, c.token_estimate,
                   (SELECT group_concat(group_name, ',') FROM document_groups g WHERE g.document_id = d.id)
            FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.id IN (SELECT value FROM json_each(?))
            """, [.text(json)]) { r in
            ChunkRecord(id: r.int(0), documentID: r.int(1), ordinal: Int(r.int(2)), text: r.text(3), documentPath: r.text(4),
                        documentTitle: r.text(5), headingPath: r.text(6), charStart: Int(r.int(7)), charEnd: Int(r.int(8)),
                        startLine: Int(r.int(9)), endLine: Int(r.int(10)), tokenEstimate: Int(r.int(11)),
                        groups: r.isNull(12) ? [] : r.text(12).split(separator: ",").map(String.init).sorted())
        }
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byID[$0] }
    }

    /// The chunks of one document in order.
    public func chunks(documentID: Int64) throws -> [ChunkRecord] {
        try chunks(ids: database.query("SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal", [.integer(documentID)]) { $0.int(0) })
    }

    /// Ids of every chunk a caller in `groups` may see (public chunks plus those of their groups),
    /// for filtering a dense search before ranking.
    public func visibleChunkIDs(groups: [String]) throws -> Set<Int64> {
        Set(try database.query("SELECT id FROM chunks WHERE id NOT IN (\(AccessGroups.hiddenChunksSQL))",
                               [.text(AccessGroups.json(groups))]) { $0.int(0) })
    }

    /// Ids of the chunks a caller in `groups` may NOT see (usually far fewer than the visible ones).
    public func hiddenChunkIDs(groups: [String]) throws -> Set<Int64> {
        Set(try database.query(AccessGroups.hiddenChunksSQL, [.text(AccessGroups.json(groups))]) { $0.int(0) })
    }

    /// Merges the FTS5 index segments into one (SQLite's 'optimize'): queries get up to 2x faster
    /// after a large ingest. Takes ~0.6 s per 100,000 chunks.
    public func optimizeIndex() throws {
        try database.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
    }

    // Statements reused across documents (ingesting thousands of files).
    private var insertChunkStatement: Statement?
    private var insertFTSStatement: Statement?
    private func statement(_ slot: inout Statement?, _ sql: String) throws -> Statement {
        if let s = slot { return s }
        let s = try database.prepare(sql)
        slot = s
        return s
    }
}
