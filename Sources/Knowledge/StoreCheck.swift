import CSQLite
import Foundation

/// Strata's own invariants, checked read-only (`strata check`). SQLite's integrity check says
/// the file is a sound B-tree; these say it is a sound knowledge base: the full-text index in
/// step with the chunks, no orphans, access groups consistent, every migration known, business
/// tables as registered, vectors of one size per model.
public enum StoreCheck {
    /// Every broken invariant of `db`, one sentence each; empty when the store is healthy.
    /// `db` may be read-only; the FTS5 structure check needs a writable connection (it is an
    /// INSERT that writes nothing) and runs only when `db` is one — see `ftsIntegrity`.
    public static func problems(_ db: Database) throws -> [String] {
        var out: [String] = []
        /// Runs one check; a check that cannot run (its table is gone) is itself a problem.
        func check(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { out.append("could not check \(what): \((error as? DatabaseError)?.message ?? "\(error)")") }
        }
        func count(_ sql: String) throws -> Int { Int(try db.query(sql) { $0.int(0) }.first ?? 0) }

        check("the SQLite file") {
            let rows = try db.query("PRAGMA integrity_check(20)") { $0.text(0) }
            if rows != ["ok"] { out += rows.map { "SQLite integrity check: \($0)" } }
            let fks = try db.query("SELECT \"table\", parent, count(*) FROM pragma_foreign_key_check GROUP BY 1, 2") {
                "\($0.int(2)) rows of \($0.text(0)) refer to \($0.text(1)) rows that do not exist (foreign key check)"
            }
            out += fks
        }
        let expected = try expectedTables()
        let present = Dictionary(try db.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'") { ($0.text(0), $0.text(1)) },
                                 uniquingKeysWith: { a, _ in a })
        for (table, columns) in expected.sorted(by: { $0.key < $1.key }) {
            guard present[table] != nil else { out.append("table \(table) is missing: the store is damaged — rebuild it ('strata ingest' into a new --db)"); continue }
            let actual = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)]) { $0.text(0) }
            if actual != columns {
                out.append("table \(table) has columns \(actual.joined(separator: ", ")); Strata expects \(columns.joined(separator: ", "))")
            }
        }
        check("migrations") {
            let pending = try Schema.pending(db)
            if !pending.isEmpty { out.append("migrations not applied: \(pending.joined(separator: ", ")) — run 'strata check' as a user who may write the database") }
        }
        check("the full-text index") {
            let missing = try count("SELECT count(*) FROM chunks WHERE id NOT IN (SELECT id FROM chunks_fts_docsize)")
            let stray = try count("SELECT count(*) FROM chunks_fts_docsize WHERE id NOT IN (SELECT id FROM chunks)")
            if missing > 0 { out.append("the full-text index lacks \(missing) chunk\(missing == 1 ? "" : "s"): keyword search cannot find them") }
            if stray > 0 { out.append("the full-text index has \(stray) row\(stray == 1 ? "" : "s") for chunks that do not exist") }
            if sqlite3_db_readonly(db.handle, "main") == 0, let p = try ftsIntegrity(db) { out.append(p) }
        }
        check("orphans") {
            let chunks = try count("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)")
            if chunks > 0 { out.append("\(chunks) chunks without a document") }
            let vectors = try count("SELECT count(*) FROM embeddings WHERE chunk_id NOT IN (SELECT id FROM chunks)")
            if vectors > 0 { out.append("\(vectors) vectors without a chunk") }
            let groups = try count("SELECT count(*) FROM document_groups WHERE document_id NOT IN (SELECT id FROM documents)")
            if groups > 0 { out.append("\(groups) access groups without a document (document_groups)") }
        }
        check("access groups") {
            let open = try count("SELECT count(*) FROM documents WHERE restricted = 0 AND id IN (SELECT document_id FROM document_groups)")
            let closed = try count("SELECT count(*) FROM documents WHERE restricted = 1 AND id NOT IN (SELECT document_id FROM document_groups)")
            let odd = try count("SELECT count(*) FROM documents WHERE restricted NOT IN (0, 1)")
            if open > 0 { out.append("\(open) documents have access groups but are not marked restricted: search would show them to everyone") }
            if closed > 0 { out.append("\(closed) documents are marked restricted but have no access groups") }
            if odd > 0 { out.append("\(odd) documents have a restricted flag other than 0 or 1") }
        }
        check("vectors") {
            out += try db.query("""
                SELECT model_id, group_concat(DISTINCT dimension) FROM embeddings GROUP BY model_id HAVING count(DISTINCT dimension) > 1
                """) { "model \($0.text(0)) has vectors of different dimensions (\($0.text(1)))" }
            out += try db.query("SELECT model_id, count(*) FROM embeddings WHERE length(vector) <> 4 * dimension GROUP BY model_id") {
                "\($0.int(1)) vectors of model \($0.text(0)) are not 4 bytes × their dimension long"
            }
        }
        check("business tables") { out += try businessProblems(db, tables: Set(present.keys)) }
        return out
    }

    /// FTS5's own structure check of the index; nil when sound. Needs a writable connection.
    public static func ftsIntegrity(_ db: Database) throws -> String? {
        do {
            try db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 0)")
            return nil
        } catch let e as DatabaseError where e.code & 0xff == SQLITE_CORRUPT {
            return "the full-text index is damaged (FTS5 integrity-check: \(e.message))"
        }
    }

    /// Tables and their columns as the migrations create them (business tables aside).
    static func expectedTables() throws -> [String: [String]] {
        let fresh = try Database(path: ":memory:")
        try Schema.migrate(fresh)
        var out: [String: [String]] = [:]
        for t in try fresh.query("SELECT name FROM sqlite_master WHERE type = 'table'", [], { $0.text(0) }) {
            out[t] = try fresh.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(t)]) { $0.text(0) }
        }
        return out
    }

    /// Every registered table exists with its recorded columns and types; nothing else sits in
    /// the business namespace.
    static func businessProblems(_ db: Database, tables: Set<String>) throws -> [String] {
        var out: [String] = []
        let registered = try BusinessTables.list(db)
        for t in registered {
            let storage = BusinessTables.storageName(t.name)
            if t.name != t.name.lowercased() { out.append("business table '\(t.name)' is registered under a name that is not lower case") }
            guard tables.contains(storage) else {
                out.append("business table '\(t.name)' is registered but its table \(storage) is missing")
                continue
            }
            let actual = try db.query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", [.text(storage)]) { "\($0.text(0)) \($0.text(1))" }
            let recorded = t.columns.map { "\($0.name) \($0.type.sqlType)" }
            if actual != recorded {
                out.append("business table '\(t.name)' has columns (\(actual.joined(separator: ", "))) but the registry records (\(recorded.joined(separator: ", ")))")
            }
        }
        let expected = Set(registered.map { BusinessTables.storageName($0.name) })
        for t in tables.sorted() where t.lowercased().hasPrefix(BusinessTables.prefix) && !expected.contains(t) {
            out.append("table \(t) is in the business namespace but not registered (no 'data import' made it)")
        }
        return out
    }
}
