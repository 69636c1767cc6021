import Foundation

/// One step of the schema, applied once and recorded by name in `schema_migrations`.
public struct Migration: Sendable {
    public let name: String
    public let sql: String
    /// Runs after `sql`, in the same transaction, for steps SQL alone cannot express (renaming
    /// tables whose names are data, e.g. the business tables).
    public let apply: (@Sendable (Database) throws -> Void)?
    public init(name: String, sql: String, apply: (@Sendable (Database) throws -> Void)? = nil) {
        self.name = name; self.sql = sql; self.apply = apply
    }
}

/// The ordered migrations of the knowledge store. Append new ones at the end; never edit one that
/// has shipped, because databases in the field have already recorded it as applied.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(name: "001_documents_chunks", sql: """
            CREATE TABLE documents (
                id INTEGER PRIMARY KEY,
                path TEXT NOT NULL UNIQUE,          -- absolute path of the source file
                title TEXT NOT NULL,
                source_type TEXT NOT NULL,          -- md, txt, csv, json, jsonl, html
                sha256 TEXT NOT NULL,               -- hex digest of the file bytes
                byte_size INTEGER NOT NULL,
                modified_at REAL NOT NULL,          -- file mtime, seconds since 1970
                ingested_at REAL NOT NULL,
                restricted INTEGER NOT NULL DEFAULT 0  -- 1 when document_groups has rows for it
            );
            -- Access groups, one row per (document, group). A document without rows is public.
            CREATE TABLE document_groups (
                document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                group_name TEXT NOT NULL,
                PRIMARY KEY (document_id, group_name)
            ) WITHOUT ROWID;
            CREATE INDEX document_groups_by_group ON document_groups(group_name, document_id);
            CREATE TABLE chunks (
                id INTEGER PRIMARY KEY,
                document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                ordinal INTEGER NOT NULL,           -- 0-based position in the document
                text TEXT NOT NULL,
                heading_path TEXT NOT NULL,         -- e.g. 'Fees > Wire transfers'
                char_start INTEGER NOT NULL,        -- Unicode scalar offsets in the source text
                char_end INTEGER NOT NULL,
                line_start INTEGER NOT NULL,        -- 1-based, inclusive
                line_end INTEGER NOT NULL,
                token_estimate INTEGER NOT NULL,
                UNIQUE (document_id, ordinal)
            );
            -- Contentless FTS5: the indexed text is the chunk text with CJK runs rewritten as
            -- bigrams (see CJKIndexing), so it cannot be an external-content view of `chunks`.
            -- Rows are deleted with the 'delete' command and the same rewritten values.
            CREATE VIRTUAL TABLE chunks_fts USING fts5(
                title, body, content = '', tokenize = 'unicode61 remove_diacritics 2'
            );
            """),
        Migration(name: "002_embeddings", sql: """
            -- One vector per (chunk, model). Deleting or re-chunking a document removes its vectors.
            CREATE TABLE embeddings (
                chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
                model_id TEXT NOT NULL,
                dimension INTEGER NOT NULL,
                vector BLOB NOT NULL,               -- dimension x Float32, little-endian
                PRIMARY KEY (model_id, chunk_id)
            ) WITHOUT ROWID;
            CREATE INDEX embeddings_by_chunk ON embeddings(chunk_id);
            """),
        Migration(name: "003_business_tables_registry", sql: """
            -- Tables imported from CSV (customer-service scenario) register here; the import
            -- itself is built by that scenario.
            -- IF NOT EXISTS: files written by an older 'data import' made this table themselves.
            CREATE TABLE IF NOT EXISTS business_tables (
                name TEXT PRIMARY KEY,
                source_file TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                rows INTEGER NOT NULL,
                columns_json TEXT NOT NULL,
                imported_at TEXT NOT NULL
            );
            """),
        AuditStore.migration,
        AuditStore.detailMigration,
        BusinessTables.namespaceMigration,
        AuditStore.accessNeedsMigration,
        AuditStore.backendMigration,
    ]

    /// Migrations not yet applied to `db`, in order (all of them when it has no schema yet).
    /// Throws when `db` records one this version does not know (written by a newer Strata).
    public static func pending(_ db: Database, migrations: [Migration] = Schema.migrations) throws -> [String] {
        let hasTable = try !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") { _ in 1 }.isEmpty
        let done = hasTable ? Set(try db.query("SELECT name FROM schema_migrations") { $0.text(0) }) : []
        if let unknown = done.subtracting(migrations.map(\.name)).sorted().first {
            throw DatabaseError(code: 1, message: "the database was created by a newer Strata (migration '\(unknown)' is unknown) — upgrade strata or use another --db")
        }
        return migrations.map(\.name).filter { !done.contains($0) }
    }

    /// Applies every migration not yet recorded, each in its own transaction, in order.
    /// Returns the names applied (empty when the database was already current).
    @discardableResult
    public static func migrate(_ db: Database, migrations: [Migration] = Schema.migrations) throws -> [String] {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name TEXT PRIMARY KEY, applied_at REAL NOT NULL)
            """)
        let done = Set(try db.query("SELECT name FROM schema_migrations") { $0.text(0) })
        let known = Set(migrations.map(\.name))
        if let unknown = done.subtracting(known).sorted().first {
            throw DatabaseError(code: 1, message: "the database was created by a newer Strata (migration '\(unknown)' is unknown) — upgrade strata or use another --db")
        }
        var applied: [String] = []
        for m in migrations where !done.contains(m.name) {
            try db.transaction {
                try db.execute(m.sql)
                try m.apply?(db)
                try db.run("INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                           [.text(m.name), .real(Date().timeIntervalSince1970)])
            }
            applied.append(m.name)
        }
        return applied
    }
}
