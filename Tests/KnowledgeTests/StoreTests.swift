import XCTest
@testable import Knowledge

final class StoreTests: XCTestCase {
    func testMigrationsFromEmptyThenReopenIsANoOp() throws {
        let dir = try TempDir()
        let path = dir.url.appendingPathComponent("k.db").path
        let db = try Database(path: path)
        XCTAssertEqual(try Schema.migrate(db), Schema.migrations.map(\.name))
        XCTAssertEqual(try Schema.migrate(db), [])
        let tables = Set(try db.query("SELECT name FROM sqlite_master WHERE type IN ('table')") { $0.text(0) })
        for t in ["documents", "chunks", "chunks_fts", "embeddings", "document_groups", "business_tables", "schema_migrations"] {
            XCTAssertTrue(tables.contains(t), t)
        }
        XCTAssertEqual(try db.query("PRAGMA journal_mode") { $0.text(0) }, ["wal"])
        XCTAssertEqual(try db.query("PRAGMA foreign_keys") { $0.int(0) }, [1])
        _ = try KnowledgeStore(path: path)          // re-open through the store: nothing to apply
        XCTAssertEqual(try db.query("SELECT count(*) FROM schema_migrations") { $0.int(0) }, [Int64(Schema.migrations.count)])
    }

    func testReadOnlyStoreRejectsWritesAndMissingFiles() throws {
        let dir = try TempDir()
        let path = dir.url.appendingPathComponent("k.db").path
        XCTAssertThrowsError(try KnowledgeStore(path: path, readOnly: true))
        let rw = try KnowledgeStore(path: path)
        try rw.replaceDocument(doc("/a.md"), chunks: [chunk("hello world")])
        let ro = try KnowledgeStore(path: path, readOnly: true)
        XCTAssertEqual(try ro.keywordSearch("hello", groups: []).count, 1)
        XCTAssertThrowsError(try ro.replaceDocument(doc("/b.md"), chunks: [chunk("x")])) { e in
            XCTAssertEqual((e as? DatabaseError).map { $0.code & 0xff }, 8, "\(e)")   // SQLITE_READONLY
        }
    }

    func testDatabaseErrorCarriesCodeMessageAndSQLButNotValues() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x TEXT UNIQUE)")
        try db.run("INSERT INTO t VALUES (?)", [.text("secret-value")])
        XCTAssertThrowsError(try db.run("INSERT INTO t VALUES (?)", [.text("secret-value")])) { e in
            let err = e as! DatabaseError
            XCTAssertEqual(err.code & 0xff, 19)                       // SQLITE_CONSTRAINT
            XCTAssertTrue(err.message.contains("UNIQUE"), err.message)
            XCTAssertEqual(err.sql, "INSERT INTO t VALUES (?)")
            XCTAssertFalse(err.localizedDescription.contains("secret-value"))
        }
        XCTAssertThrowsError(try db.execute("SELEC 1")) { e in XCTAssertEqual((e as! DatabaseError).sql, "SELEC 1") }
        // A statement built from a file (thousands of columns) is clipped in the message, kept whole in `sql`.
        let long = "SELECT " + (1...3000).map { "c\($0)" }.joined(separator: ", ") + " FROM nowhere"
        XCTAssertThrowsError(try db.execute(long)) { e in
            let d = e.localizedDescription
            XCTAssertLessThan(d.count, 400, d)
            XCTAssertTrue(d.contains("characters)"), d)
            XCTAssertEqual((e as! DatabaseError).sql, long)
        }
    }

    func testFailureInsideADocumentLeavesThePreviousVersionWhole() throws {
        let store = try KnowledgeStore(path: ":memory:")
        try store.replaceDocument(doc("/a.md", sha: "v1"), chunks: [chunk("alpha one"), chunk("alpha two")])
        struct Boom: Error {}
        XCTAssertThrowsError(try store.replaceDocument(doc("/a.md", sha: "v2"), chunks: [chunk("beta one"), chunk("beta two")],
                                                       beforeCommit: { ids in XCTAssertEqual(ids.count, 2); throw Boom() }))
        let d = try XCTUnwrap(store.document(path: "/a.md"))
        XCTAssertEqual(d.sha256, "v1")
        XCTAssertEqual(try store.chunks(documentID: d.id).map(\.text), ["alpha one", "alpha two"])
        XCTAssertEqual(try store.keywordSearch("beta", groups: []).count, 0)
        XCTAssertEqual(try store.keywordSearch("alpha", groups: []).count, 2)
        XCTAssertEqual(store.chunkCount, 2)
        XCTAssertEqual(try StoreCheck.problems(store.database), [])
    }

    func testAccessGroupsFilterBeforeRanking() throws {
        let store = try KnowledgeStore(path: ":memory:")
        // The restricted chunk is the best match: with filtering after a LIMIT 1 it would hide the public one.
        try store.replaceDocument(doc("/secret.md", groups: ["Finance"]), chunks: [chunk("salary salary salary bonus")])
        try store.replaceDocument(doc("/public.md"), chunks: [chunk("the salary policy is documented in many long words here")])
        try store.replaceDocument(doc("/hr.md", groups: ["hr"]), chunks: [chunk("salary bands")])
        XCTAssertEqual(try store.keywordSearch("salary", groups: [], k: 1).map(\.documentPath), ["/public.md"])
        XCTAssertEqual(try store.keywordSearch("salary", groups: ["finance"], k: 1).map(\.documentPath), ["/secret.md"])
        XCTAssertEqual(Set(try store.keywordSearch("salary", groups: ["hr", "FINANCE "], k: 5).map(\.documentPath)),
                       ["/secret.md", "/public.md", "/hr.md"])
        let all = try store.visibleChunkIDs(groups: ["x"])
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(try store.hiddenChunkIDs(groups: ["hr"]).count, 1)
        XCTAssertEqual(try store.chunks(ids: Array(all)).first?.documentPath, "/public.md")
    }

    func testFTSResultsExactlyOnMemory() throws {
        let store = try KnowledgeStore(path: ":memory:")
        try store.replaceDocument(doc("/fees.md", title: "Fees"), chunks: [
            chunk("Domestic wires cost 15 dollars.", heading: "Wire transfers"),
            chunk("Card payments are free.", heading: "Cards"),
            chunk("A café in Zürich charges wire fees.", heading: "Notes"),
        ])
        let hits = try store.keywordSearch("wire", groups: [], k: 5)
        // "wire" in the title column (heading) counts double; "wires" is not "wire" (no stemming).
        XCTAssertEqual(hits.map(\.headingPath), ["Wire transfers", "Notes"])
        XCTAssertEqual(hits.map(\.rank), [1, 2])
        XCTAssertGreaterThan(hits[0].score, hits[1].score)
        XCTAssertEqual(hits[1].snippet, "A café in Zürich charges [wire] fees.")
        // Diacritics folded both ways.
        XCTAssertEqual(try store.keywordSearch("cafe zurich", groups: [], combination: .all).map(\.headingPath), ["Notes"])
        XCTAssertEqual(try store.keywordSearch("CAFÉ", groups: []).map(\.headingPath), ["Notes"])
        // AND vs OR.
        XCTAssertEqual(try store.keywordSearch("card wire", groups: [], combination: .all).count, 0)
        XCTAssertEqual(try store.keywordSearch("card wire", groups: [], combination: .any).count, 3)
    }

    func testChineseBigramsAndMixedText() throws {
        let store = try KnowledgeStore(path: ":memory:")
        try store.replaceDocument(doc("/zh.md"), chunks: [
            chunk("申请退款需要几天？一般七个工作日内到账。"),
            chunk("2024年营收增长3.5%，iPhone销量创新高。"),
            chunk("后退一步，海阔天空。"),
        ])
        func texts(_ q: String, _ c: KeywordQuery.Combination = .any) throws -> [String] {
            try store.keywordSearch(q, groups: [], combination: c).map { String($0.text.prefix(4)) }
        }
        XCTAssertEqual(try texts("退款"), ["申请退款"])
        XCTAssertEqual(try texts("申请退款需要几天"), ["申请退款"])
        XCTAssertEqual(try texts("营收"), ["2024"])
        XCTAssertEqual(try texts("iPhone销量", .all), ["2024"])
        XCTAssertEqual(try texts("iphone"), ["2024"])
        XCTAssertEqual(try texts("3.5"), ["2024"])
        XCTAssertEqual(try texts("2024年"), ["2024"])
        // One character: found at the start of a bigram and at the end of a run.
        XCTAssertEqual(Set(try texts("退")), ["申请退款", "后退一步"])
        XCTAssertEqual(try texts("空"), ["后退一步"])
        XCTAssertEqual(try texts("款项", .all), [])
        let hit = try XCTUnwrap(store.keywordSearch("退款", groups: []).first)
        XCTAssertEqual(hit.snippet, "申请[退款]需要几天？一般七个工作日内到账。")
    }

    func testHostileQueriesNeverReachMATCHRaw() throws {
        let store = try KnowledgeStore(path: ":memory:")
        try store.replaceDocument(doc("/a.md"), chunks: [chunk("a near b and or not\"quoted\" text (paren)")])
        for q in ["\"", "*", "NEAR(", "a -b", "(((", "OR", "", "!!!", "？。，", "AND OR NOT", "^x", "col:val", "\"\"\"", "a*b", "-", ")", "{x}", "NEAR(a b, 2)"] {
            for c in [KeywordQuery.Combination.any, .all] {
                XCTAssertNoThrow(try store.keywordSearch(q, groups: [], combination: c), q)
            }
        }
        XCTAssertEqual(try store.keywordSearch("NEAR(", groups: []).count, 1)     // the word "near"
        XCTAssertEqual(try store.keywordSearch("OR", groups: []).count, 1)        // the word "or"
        XCTAssertEqual(try store.keywordSearch("(((", groups: []).count, 0)
        XCTAssertEqual(KeywordQuery("a -b NEAR(\"x\"").matchExpression(.any), "\"b\" OR \"near\" OR \"x\"")
        XCTAssertNil(KeywordQuery("?!*").matchExpression(.all))
        XCTAssertEqual(KeywordQuery("退").matchExpression(.any), "\"退\"*")
    }

    func testDeleteRemovesIndexRowsAndVectors() throws {
        let store = try KnowledgeStore(path: ":memory:")
        let ids = try store.replaceDocument(doc("/a.md"), chunks: [chunk("zebra 斑马"), chunk("lion")])
        try store.putEmbeddings(modelID: "m", [(ids[0], [1, 0]), (ids[1], [0, 1])])
        // Re-chunking replaces rows: old index entries and vectors go.
        let newIDs = try store.replaceDocument(doc("/a.md", sha: "2"), chunks: [chunk("tiger")])
        XCTAssertEqual(try store.keywordSearch("zebra", groups: []).count, 0)
        XCTAssertEqual(try store.keywordSearch("斑马", groups: []).count, 0)
        XCTAssertEqual(try store.loadEmbeddings(modelID: "m").count, 0)
        XCTAssertEqual(try store.chunksMissingEmbeddings(modelID: "m").map(\.id), newIDs)
        try store.deleteDocument(id: try XCTUnwrap(store.document(path: "/a.md")).id)
        XCTAssertEqual(try store.keywordSearch("tiger", groups: []).count, 0)
        XCTAssertEqual(try store.database.query("SELECT count(*) FROM chunks_fts_docsize") { $0.int(0) }, [0])
        try store.database.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    }

    func testEmbeddingsRoundTripAsLittleEndianFloat32() throws {
        let store = try KnowledgeStore(path: ":memory:")
        let ids = try store.replaceDocument(doc("/a.md"), chunks: [chunk("one"), chunk("two"), chunk("three")])
        try store.putEmbeddings(modelID: "minilm", [(ids[2], [0.5, -1, 2]), (ids[0], [1, 2, 3])])
        XCTAssertEqual(try store.chunksMissingEmbeddings(modelID: "minilm").map(\.text), ["two"])
        XCTAssertEqual(try store.chunksMissingEmbeddings(modelID: "other", limit: 2).map(\.id), [ids[0], ids[1]])
        let m = try store.loadEmbeddings(modelID: "minilm")
        XCTAssertEqual(m.dimension, 3)
        XCTAssertEqual(m.chunkIDs, [ids[0], ids[2]])
        XCTAssertEqual(m.vectors, [1, 2, 3, 0.5, -1, 2])
        let blob = try store.database.query("SELECT vector FROM embeddings WHERE chunk_id = ?", [.integer(ids[0])]) { r in
            r.withBlob(0) { Array($0) }
        }[0]
        XCTAssertEqual(Array(blob[0..<4]), [0x00, 0x00, 0x80, 0x3F])     // 1.0f little-endian
        XCTAssertThrowsError(try store.putEmbeddings(modelID: "minilm", [(ids[1], [1, 2])]))
        XCTAssertThrowsError(try store.putEmbeddings(modelID: "minilm", [(ids[1], [1, .nan, 2])]))
        XCTAssertThrowsError(try store.putEmbeddings(modelID: "minilm", [(9999, [1, 2, 3])])) { e in
            guard case KnowledgeStore.EmbeddingError.unknownChunk(9999) = e else { return XCTFail("\(e)") }
        }
        try store.deleteEmbeddings(modelID: "minilm")
        XCTAssertEqual(try store.loadEmbeddings(modelID: "minilm").count, 0)
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    // MARK: Fixtures

    func doc(_ path: String, title: String = "Doc", sha: String = "1", groups: [String] = []) -> NewDocument {
        NewDocument(path: path, title: title, sourceType: "md", sha256: sha, byteSize: 1, modifiedAt: 0, groups: groups)
    }
    func chunk(_ text: String, heading: String = "") -> NewChunk {
        NewChunk(text: text, headingPath: heading, charStart: 0, charEnd: text.unicodeScalars.count, startLine: 1, endLine: 1,
                 tokenEstimate: TextScan.estimateTokens(text))
    }
}

/// A temporary folder removed when the value goes away.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws { try write(name, Data(text.utf8)) }
    func write(_ name: String, _ data: Data) throws {
        let u = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: u)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).standardizedFileURL.path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
