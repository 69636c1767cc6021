import Foundation
import XCTest

/// reindex --embeddings and search --mode dense/hybrid, run as a user would.
final class DenseSearchCommandTests: XCTestCase {
    func testReindexThenDenseAndHybridSearchAndModelMismatch() throws {
        let model = StrataBinary.root.appendingPathComponent("models/all-MiniLM-L6-v2/model.safetensors").path
        guard FileManager.default.fileExists(atPath: model) else {
            print("SKIP: models/all-MiniLM-L6-v2 is absent"); throw XCTSkip("model absent")
        }
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("strata-dense-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try "# Passwords\n\nTo reset your password, open Settings, choose Account, and tap Reset Password.\n"
            .write(to: dir.appendingPathComponent("docs/a.md"), atomically: true, encoding: .utf8)
        try "# Holidays\n\nThe office is closed on public holidays and the last week of December.\n"
            .write(to: dir.appendingPathComponent("docs/b.md"), atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("k.db").path
        XCTAssertEqual(try StrataBinary.run(["ingest", dir.appendingPathComponent("docs").path, "--db", db]).status, 0)

        // No vectors yet: explicit dense mode says what to do.
        let none = try StrataBinary.run(["search", "login", "--mode", "dense", "--db", db])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("reindex --embeddings"), none.stderr)

        let re = try StrataBinary.run(["reindex", "--embeddings", "--db", db])
        XCTAssertEqual(re.status, 0, re.stderr)
        XCTAssertTrue(re.stdout.contains("embedded 2 chunks with all-MiniLM-L6-v2@"), re.stdout)
        XCTAssertTrue(try StrataBinary.run(["reindex", "--embeddings", "--db", db]).stdout.contains("embedded 0 chunks"))

        // No word in common with the passage: only the dense retriever can find it.
        let dense = try StrataBinary.run(["search", "forgot my login credentials", "--mode", "dense", "--k", "1", "--db", db])
        XCTAssertEqual(dense.status, 0, dense.stderr)
        XCTAssertTrue(dense.stdout.contains("docs/a.md"), dense.stdout)
        let hybrid = try StrataBinary.run(["search", "forgot my login credentials", "--k", "1", "--db", db])
        XCTAssertTrue(hybrid.stdout.contains("docs/a.md"), hybrid.stdout)

        // The same model under another folder name is another embedder: refused, with the fix.
        let other = dir.appendingPathComponent("other-model")
        try FileManager.default.createSymbolicLink(at: other, withDestinationURL: StrataBinary.root.appendingPathComponent("models/all-MiniLM-L6-v2"))
        let mismatch = try StrataBinary.run(["search", "password", "--mode", "dense", "--embedder", other.path, "--db", db])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stderr.contains("was embedded with all-MiniLM-L6-v2@"), mismatch.stderr)
        let bad = try StrataBinary.run(["search", "x", "--mode", "dense", "--embedder", dir.path, "--db", db])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("config.json"), bad.stderr)
        assertStoreHealthy(db)
    }

    func testEvalRetrievalBadInput() throws {
        let noDir = try StrataBinary.run(["eval", "retrieval"])
        XCTAssertEqual(noDir.status, 64)
        XCTAssertTrue(noDir.stderr.contains("--beir"), noDir.stderr)
        let missing = try StrataBinary.run(["eval", "retrieval", "--beir", "/nonexistent/beir"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("corpus.jsonl is missing"), missing.stderr)
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("strata-beir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("qrels"), withIntermediateDirectories: true)
        try "{\"_id\": \"d1\", \"text\": \"x\"}\nnot json\n".write(to: dir.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        let damaged = try StrataBinary.run(["eval", "retrieval", "--beir", dir.path])
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(damaged.stderr.contains("corpus.jsonl line 2"), damaged.stderr)
    }
}
