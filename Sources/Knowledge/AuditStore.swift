import Foundation

/// One audit row: who asked what, what the model saw and said. Plain values only, so this layer
/// need not know the Assistant's types (Assistant maps its `AuditEntry` onto this).
public struct AuditRecord: Sendable, Equatable, Codable {
    public var time: Date
    public var groups: [String]
    public var question: String
    public var chunkIDs: [Int64]
    public var citedChunkIDs: [Int64]
    public var modelID: String
    public var adapter: String?
    public var pack: String
    public var answer: String
    public var refused: Bool
    public var refusalReason: String?
    public var retrievalSeconds: Double
    public var generationSeconds: Double
    public var totalSeconds: Double
    /// Scenario-specific facts as JSON text, nil when the scenario has none.
    public var detail: String?

    public init(time: Date, groups: [String], question: String, chunkIDs: [Int64], citedChunkIDs: [Int64],
                modelID: String, adapter: String?, pack: String, answer: String, refused: Bool, refusalReason: String?,
                retrievalSeconds: Double, generationSeconds: Double, totalSeconds: Double, detail: String? = nil) {
        self.detail = detail
        self.time = time; self.groups = groups; self.question = question; self.chunkIDs = chunkIDs
        self.citedChunkIDs = citedChunkIDs; self.modelID = modelID; self.adapter = adapter; self.pack = pack
        self.answer = answer; self.refused = refused; self.refusalReason = refusalReason
        self.retrievalSeconds = retrievalSeconds; self.generationSeconds = generationSeconds; self.totalSeconds = totalSeconds
    }
}

/// The audit log table in the knowledge database. Append-only: nothing in Strata updates or
/// deletes a row, so the log can be trusted as a record of what was answered.
public final class AuditStore: @unchecked Sendable {
    /// Registered in `Schema.migrations`. Lists are stored as JSON text so `strata log` and an
    /// auditor with the sqlite3 shell read the same thing.
    public static let migration = Migration(name: "audit_001_answers", sql: """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,                 -- seconds since 1970
            groups TEXT NOT NULL,               -- JSON list of the caller's access groups
            question TEXT NOT NULL,
            chunk_ids TEXT NOT NULL,            -- JSON list: chunks put in the prompt
            cited_chunk_ids TEXT NOT NULL,      -- JSON list: chunks the final answer cites
            model_id TEXT NOT NULL,
            adapter TEXT,
            pack TEXT NOT NULL,
            answer TEXT NOT NULL,
            refused INTEGER NOT NULL,
            refusal_reason TEXT,
            retrieval_seconds REAL NOT NULL,
            generation_seconds REAL NOT NULL,
            total_seconds REAL NOT NULL
        );
        """)
    /// The customer-service scenario records its decision (intent, slots, lookup, reply path).
    public static let detailMigration = Migration(name: "audit_002_detail", sql: """
        ALTER TABLE audit_log ADD COLUMN detail TEXT;  -- JSON, scenario-specific, may be NULL
        """)

    private let db: Database
    private let lock = NSLock()

    /// Opens the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        db = try Database(path: path)
        try Schema.migrate(db)
    }

    /// Uses an open, migrated database (tests on ":memory:").
    public init(database: Database) { db = database }

    public func append(_ r: AuditRecord) throws {
        try lock.withLock {
            try db.run("""
                INSERT INTO audit_log(time, groups, question, chunk_ids, cited_chunk_ids, model_id, adapter, pack,
                    answer, refused, refusal_reason, retrieval_seconds, generation_seconds, total_seconds, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.real(r.time.timeIntervalSince1970), .text(Self.json(r.groups)), .text(r.question),
                      .text(Self.json(r.chunkIDs)), .text(Self.json(r.citedChunkIDs)), .text(r.modelID),
                      r.adapter.map { .text($0) } ?? .null, .text(r.pack), .text(r.answer), .integer(r.refused ? 1 : 0),
                      r.refusalReason.map { .text($0) } ?? .null, .real(r.retrievalSeconds),
                      .real(r.generationSeconds), .real(r.totalSeconds), r.detail.map { .text($0) } ?? .null])
        }
    }

    /// The most recent `limit` rows, oldest first.
    public func recent(_ limit: Int) throws -> [AuditRecord] {
        try lock.withLock {
            try db.query("""
                SELECT time, groups, question, chunk_ids, cited_chunk_ids, model_id, adapter, pack, answer, refused,
                       refusal_reason, retrieval_seconds, generation_seconds, total_seconds, detail
                FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id
                """, [.integer(Int64(max(0, limit)))]) { row in
                AuditRecord(time: Date(timeIntervalSince1970: row.double(0)), groups: Self.decode(row.text(1)),
                            question: row.text(2), chunkIDs: Self.decode(row.text(3)), citedChunkIDs: Self.decode(row.text(4)),
                            modelID: row.text(5), adapter: row.isNull(6) ? nil : row.text(6), pack: row.text(7),
                            answer: row.text(8), refused: row.int(9) != 0, refusalReason: row.isNull(10) ? nil : row.text(10),
                            retrievalSeconds: row.double(11), generationSeconds: row.double(12), totalSeconds: row.double(13),
                            detail: row.isNull(14) ? nil : row.text(14))
            }
        }
    }

    private static func json<T: Encodable>(_ v: T) -> String {
        String(decoding: (try? JSONEncoder().encode(v)) ?? Data("[]".utf8), as: UTF8.self)
    }
    private static func decode<T: Decodable & RangeReplaceableCollection>(_ s: String) -> T {
        (try? JSONDecoder().decode(T.self, from: Data(s.utf8))) ?? T()
    }
}
