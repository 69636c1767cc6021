import CSQLite
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
    /// Who may read this entry: one list per restricted document the entry drew on, holding that
    /// document's groups (`accessNeeds(of:)`); a caller must be in at least one group of every
    /// list. Empty: built from public text only. Nil: not known (then the asker's own groups are
    /// required, see `visible`). Every writer states it: the parameter has no default.
    public var accessNeeds: [[String]]?
    /// Where the model ran: "local" (in-process) or a model server's API base URL. Nil for rows
    /// written before it was recorded, and for entries no model wrote (search).
    public var backend: String?
    /// Tokens the model read and wrote for this entry, as the engine or the server counted them.
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// Why no answer was given when generation failed (a model server that broke off mid-reply,
    /// timed out, refused the key): the question is recorded with what went wrong.
    public var failure: String?

    public init(time: Date, groups: [String], question: String, chunkIDs: [Int64], citedChunkIDs: [Int64],
                modelID: String, adapter: String?, pack: String, answer: String, refused: Bool, refusalReason: String?,
                retrievalSeconds: Double, generationSeconds: Double, totalSeconds: Double, detail: String? = nil,
                accessNeeds: [[String]]?, backend: String? = nil, promptTokens: Int? = nil, completionTokens: Int? = nil,
                failure: String? = nil) {
        self.backend = backend; self.promptTokens = promptTokens; self.completionTokens = completionTokens; self.failure = failure
        self.detail = detail
        self.accessNeeds = accessNeeds.map(Self.accessNeeds(of:))
        self.time = time; self.groups = groups; self.question = question; self.chunkIDs = chunkIDs
        self.citedChunkIDs = citedChunkIDs; self.modelID = modelID; self.adapter = adapter; self.pack = pack
        self.answer = answer; self.refused = refused; self.refusalReason = refusalReason
        self.retrievalSeconds = retrievalSeconds; self.generationSeconds = generationSeconds; self.totalSeconds = totalSeconds
    }

    /// The needs of an entry built from passages with these access groups (one list per
    /// passage; public passages have none): normalised, deduplicated, sorted.
    public static func accessNeeds(of passageGroups: [[String]]) -> [[String]] {
        Array(Set(passageGroups.map(AccessGroups.normalize).filter { !$0.isEmpty })).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The same group rule as search: an entry is shown to a caller in `groups` only when, for
    /// every restricted document it drew on, the caller is in one of that document's groups.
    /// An entry whose needs are unknown fails closed: the caller must hold every group its asker
    /// asked with (whatever the asker saw, such a caller may see too).
    public func visible(to groups: [String]) -> Bool {
        let caller = Set(AccessGroups.normalize(groups))
        return effectiveNeeds.allSatisfy { !caller.isDisjoint(with: $0) }
    }

    /// `accessNeeds`, or the fail-closed rule when they are unknown (one list per asker group).
    public var effectiveNeeds: [[String]] { accessNeeds ?? AccessGroups.normalize(groups).map { [$0] } }
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
    /// Who may read each entry (`AuditRecord.accessNeeds`). Rows written before it cannot say
    /// which of their passages were restricted, so they get the fail-closed rule: one list per
    /// group the asker asked with (a caller must hold them all); none when the asker had no
    /// groups (only public text was visible) or no passage was used.
    public static let accessNeedsMigration = Migration(name: "audit_003_access_needs", sql: """
        ALTER TABLE audit_log ADD COLUMN access_needs TEXT;  -- JSON list of group lists
        UPDATE audit_log SET access_needs = CASE
            WHEN chunk_ids = '[]' OR groups = '[]' THEN '[]'
            ELSE (SELECT json_group_array(json_array(value)) FROM (SELECT value FROM json_each(audit_log.groups) ORDER BY value))
        END;
        """)

    /// The backend, token counts and failures of each entry (remote model servers). Older rows
    /// keep NULL: what ran them was not recorded, and guessing "local" could be wrong.
    public static let backendMigration = Migration(name: "audit_004_backend_usage", sql: """
        ALTER TABLE audit_log ADD COLUMN backend TEXT;             -- 'local' or the server's API base URL
        ALTER TABLE audit_log ADD COLUMN prompt_tokens INTEGER;
        ALTER TABLE audit_log ADD COLUMN completion_tokens INTEGER;
        ALTER TABLE audit_log ADD COLUMN failure TEXT;             -- why generation failed, NULL if it did not
        """)

    private let db: Database
    private let lock = NSLock()
    /// How long `append` keeps retrying while another process holds the write lock: an answer
    /// already given must not lose its audit row to a long ingest.
    public var busyRetrySeconds = 120.0

    /// Opens the Strata database at `path` to append (`readOnly`: to read the log only). Never
    /// creates a database, and refuses a file that is not Strata's (see `StoreFile`).
    public init(path: String, readOnly: Bool = false) throws {
        db = try StoreFile.open(path, readOnly ? .read : .write)
    }

    /// Uses an open, migrated database (tests on ":memory:").
    public init(database: Database) { db = database }

    /// Appends `r`. While another process holds the write lock (an ingest commits), SQLite waits
    /// up to its busy timeout; past that the row is retried until `busyRetrySeconds`, so an
    /// answer already printed is still recorded.
    public func append(_ r: AuditRecord) throws {
        let deadline = Date().addingTimeInterval(busyRetrySeconds)
        while true {
            do {
                return try lock.withLock { try insert(r) }
            } catch let e as DatabaseError where [SQLITE_BUSY, SQLITE_LOCKED].contains(e.code & 0xff) && Date() < deadline {
                usleep(100_000)
            }
        }
    }

    private func insert(_ r: AuditRecord) throws {
        try db.run("""
            INSERT INTO audit_log(time, groups, question, chunk_ids, cited_chunk_ids, model_id, adapter, pack,
                answer, refused, refusal_reason, retrieval_seconds, generation_seconds, total_seconds, detail, access_needs,
                backend, prompt_tokens, completion_tokens, failure)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.real(r.time.timeIntervalSince1970), .text(Self.json(r.groups)), .text(r.question),
                  .text(Self.json(r.chunkIDs)), .text(Self.json(r.citedChunkIDs)), .text(r.modelID),
                  r.adapter.map { .text($0) } ?? .null, .text(r.pack), .text(r.answer), .integer(r.refused ? 1 : 0),
                  r.refusalReason.map { .text($0) } ?? .null, .real(r.retrievalSeconds),
                  .real(r.generationSeconds), .real(r.totalSeconds), r.detail.map { .text($0) } ?? .null,
                  r.accessNeeds.map { .text(Self.json($0)) } ?? .null,
                  r.backend.map { .text($0) } ?? .null, r.promptTokens.map { .integer(Int64($0)) } ?? .null,
                  r.completionTokens.map { .integer(Int64($0)) } ?? .null, r.failure.map { .text($0) } ?? .null])
    }

    /// The most recent `limit` rows, oldest first, whoever may read them.
    public func recent(_ limit: Int) throws -> [AuditRecord] {
        try lock.withLock {
            try db.query("SELECT \(Self.columns) FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id",
                         [.integer(Int64(max(0, limit)))], Self.record)
        }
    }

    /// The most recent `limit` rows a caller in `groups` may read (`AuditRecord.visible`), oldest
    /// first, and how many more recent rows were passed over because the caller may not.
    public func recent(_ limit: Int, visibleTo groups: [String]) throws -> (entries: [AuditRecord], hidden: Int) {
        try lock.withLock {
            let st = try db.prepare("SELECT \(Self.columns) FROM audit_log ORDER BY id DESC")
            var shown: [AuditRecord] = [], hidden = 0
            while shown.count < limit, let row = try st.step() {
                let r = try Self.record(row)
                if r.visible(to: groups) { shown.append(r) } else { hidden += 1 }
            }
            return (shown.reversed(), hidden)
        }
    }

    private static let columns = """
        time, groups, question, chunk_ids, cited_chunk_ids, model_id, adapter, pack, answer, refused,
        refusal_reason, retrieval_seconds, generation_seconds, total_seconds, detail, access_needs,
        backend, prompt_tokens, completion_tokens, failure
        """
    private static func record(_ row: Row) throws -> AuditRecord {
        AuditRecord(time: Date(timeIntervalSince1970: row.double(0)), groups: Self.decode(row.text(1)),
                    question: row.text(2), chunkIDs: Self.decode(row.text(3)), citedChunkIDs: Self.decode(row.text(4)),
                    modelID: row.text(5), adapter: row.isNull(6) ? nil : row.text(6), pack: row.text(7),
                    answer: row.text(8), refused: row.int(9) != 0, refusalReason: row.isNull(10) ? nil : row.text(10),
                    retrievalSeconds: row.double(11), generationSeconds: row.double(12), totalSeconds: row.double(13),
                    detail: row.isNull(14) ? nil : row.text(14),
                    // Unreadable needs are unknown needs: `visible` then fails closed.
                    accessNeeds: row.isNull(15) ? nil : (try? JSONDecoder().decode([[String]].self, from: Data(row.text(15).utf8))),
                    backend: row.isNull(16) ? nil : row.text(16), promptTokens: row.isNull(17) ? nil : Int(row.int(17)),
                    completionTokens: row.isNull(18) ? nil : Int(row.int(18)), failure: row.isNull(19) ? nil : row.text(19))
    }

    private static func json<T: Encodable>(_ v: T) -> String {
        String(decoding: (try? JSONEncoder().encode(v)) ?? Data("[]".utf8), as: UTF8.self)
    }
    private static func decode<T: Decodable & RangeReplaceableCollection>(_ s: String) -> T {
        (try? JSONDecoder().decode(T.self, from: Data(s.utf8))) ?? T()
    }
}
