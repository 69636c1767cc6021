import XCTest
@testable import Knowledge

/// `StoreCheck` finds every broken invariant of a store (what `strata check` prints), and the
/// migrations bring stores written by older versions to the current layout.
final class StoreCheckTests: XCTestCase {
    /// A small healthy store: a public and a restricted document, vectors, a business table, an audit row.
    func makeStore(_ dir: TempDir) throws -> String {
        let path = dir.path("k.db")
        let store = try KnowledgeStore(path: path)
        let ids = try store.replaceDocument(doc("/kb/a.md"), chunks: [chunk("alpha one"), chunk("alpha two")])
        let ids2 = try store.replaceDocument(doc("/kb/b.md", groups: ["staff"]), chunks: [chunk("beta restricted")])
        try store.putEmbeddings(modelID: "m", (ids + ids2).map { ($0, [1, 0, 0]) })
        try dir.write("products.csv", "id,rate\nA,1.5\n")
        try BusinessTables.importCSV(store.database, file: dir.path("products.csv"))
        try AuditStore(database: store.database).append(AuditRecord(
            time: Date(), groups: [], question: "q", chunkIDs: ids, citedChunkIDs: [], modelID: "m", adapter: nil, pack: "p",
            answer: "a", refused: false, refusalReason: nil, retrievalSeconds: 0, generationSeconds: 0, totalSeconds: 0, accessNeeds: []))
        return path
    }

    func testAHealthyStoreHasNoProblems() throws {
        let dir = try TempDir()
        let db = try Database(path: try makeStore(dir))
        XCTAssertEqual(try StoreCheck.problems(db), [])
    }

    /// Each fault, injected behind the store's back, is found and named.
    func testEveryBrokenInvariantIsReported() throws {
        let faults: [(String, String)] = [
            ("PRAGMA foreign_keys = OFF; DELETE FROM documents WHERE path = '/kb/a.md'", "chunks without a document"),
            ("PRAGMA foreign_keys = OFF; DELETE FROM chunks WHERE text = 'alpha two'", "full-text index"),
            ("INSERT INTO chunks_fts(rowid, title, body) VALUES (999, 'x', 'stray')", "full-text index"),
            ("PRAGMA foreign_keys = OFF; DELETE FROM documents WHERE path = '/kb/b.md'; DELETE FROM chunks WHERE text = 'beta restricted'",
             "access groups without a document"),
            ("UPDATE documents SET restricted = 0 WHERE path = '/kb/b.md'", "restricted"),
            ("UPDATE documents SET restricted = 1 WHERE path = '/kb/a.md'", "restricted"),
            ("INSERT INTO schema_migrations VALUES ('999_from_the_future', 0)", "999_from_the_future"),
            ("UPDATE embeddings SET vector = zeroblob(8) WHERE chunk_id = (SELECT min(chunk_id) FROM embeddings)", "dimension"),
            ("UPDATE embeddings SET dimension = 4 WHERE chunk_id = (SELECT min(chunk_id) FROM embeddings)", "dimension"),
            ("DROP TABLE biz_products", "biz_products"),
            ("ALTER TABLE biz_products ADD COLUMN extra TEXT", "columns"),
            ("CREATE TABLE biz_stray (x)", "biz_stray"),
            ("DROP TABLE documents", "documents"),
            ("DROP TABLE audit_log", "audit_log"),
        ]
        for (sql, expected) in faults {
            let dir = try TempDir()
            let path = try makeStore(dir)
            let db = try Database(path: path)
            try db.execute(sql)
            let problems = try StoreCheck.problems(db)
            XCTAssertTrue(problems.contains { $0.contains(expected) }, "\(sql): expected a problem naming '\(expected)', got \(problems)")
        }
    }

    /// Tables imported by earlier versions (bare names, one registry row per spelling) move into
    /// the business namespace; old audit rows get the groups their asker had as their needs.
    func testMigrationMovesBusinessTablesIntoTheNamespace() throws {
        let dir = try TempDir()
        let db = try Database(path: dir.path("old.db"))
        let before = ["001_documents_chunks", "002_embeddings", "003_business_tables_registry", "audit_001_answers", "audit_002_detail"]
        try Schema.migrate(db, migrations: Schema.migrations.filter { before.contains($0.name) })
        let columns = #"[{"name":"id","type":"text"},{"name":"rate","type":"real"}]"#
        try db.execute("""
            CREATE TABLE "PRODUCTS" (id TEXT, rate REAL); INSERT INTO "PRODUCTS" VALUES ('A', 1.75);
            CREATE TABLE biz_x (v INTEGER); INSERT INTO biz_x VALUES (7);
            INSERT INTO business_tables VALUES ('products', '/old/products.csv', 'aa', 2, '\(columns)', '2026-01-01T00:00:00Z');
            INSERT INTO business_tables VALUES ('PRODUCTS', '/old/PRODUCTS.csv', 'bb', 1, '\(columns)', '2026-02-01T00:00:00Z');
            INSERT INTO business_tables VALUES ('biz_x', '/old/biz_x.csv', 'cc', 1, '[{"name":"v","type":"integer"}]', '2026-01-01T00:00:00Z');
            INSERT INTO business_tables VALUES ('gone', '/old/gone.csv', 'dd', 1, '[{"name":"v","type":"integer"}]', '2026-01-01T00:00:00Z');
            INSERT INTO audit_log(time, groups, question, chunk_ids, cited_chunk_ids, model_id, pack, answer, refused,
                retrieval_seconds, generation_seconds, total_seconds)
            VALUES (1, '["staff","hr"]', 'restricted?', '[5]', '[]', 'm', 'kb-qa', 'secret', 0, 0, 0, 0),
                   (2, '[]', 'public?', '[6]', '[]', 'm', 'kb-qa', 'open', 0, 0, 0, 0),
                   (3, '["staff"]', 'nothing found', '[]', '[]', 'm', 'kb-qa', 'refused', 1, 0, 0, 0);
            """)
        try Schema.migrate(db)
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'biz%' ORDER BY name") { $0.text(0) }
        XCTAssertEqual(tables, ["biz_biz_x", "biz_products"])
        XCTAssertEqual(try BusinessTables.list(db).map(\.name), ["biz_x", "products"])
        XCTAssertEqual(try BusinessTables.list(db).first { $0.name == "products" }?.sourceFile, "/old/PRODUCTS.csv")
        XCTAssertEqual(try BusinessTables.rows(db, table: "products", limit: 5).rows, [[.text("A"), .real(1.75)]])
        XCTAssertEqual(try BusinessTables.rows(db, table: "biz_x", limit: 5).rows, [[.integer(7)]])
        XCTAssertEqual(try AuditStore(database: db).recent(10).map(\.accessNeeds), [[["hr"], ["staff"]], [], []])
        XCTAssertEqual(try StoreCheck.problems(db), [])
    }

    func doc(_ path: String, groups: [String] = []) -> NewDocument {
        NewDocument(path: path, title: "Doc", sourceType: "md", sha256: path, byteSize: 1, modifiedAt: 0, groups: groups)
    }
    func chunk(_ text: String) -> NewChunk {
        NewChunk(text: text, headingPath: "", charStart: 0, charEnd: text.count, startLine: 1, endLine: 1, tokenEstimate: 2)
    }
}
