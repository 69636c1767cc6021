import Foundation
import XCTest

/// Two real processes on one database: readers answer, and a second writer gets its turn, while
/// an `ingest --embed` runs (its write transactions are short; vectors are computed outside them).
final class ConcurrencyTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }
    override func setUpWithError() throws { dir = try StrataBinary.temporaryFolder("strata-concurrency") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func put(_ rel: String, _ text: String) throws {
        let url = dir.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func testReadersAndASecondWriterSucceedDuringAnEmbeddingIngest() throws {
        try StrataBinary.requireDefaultModels()
        try put("small/refunds.md", "# Refunds\n\n## Card refunds\n\nCard refunds are returned to the original card within 5 working days.\n")
        try put("later/fees.md", "# Fees\n\nA domestic wire costs fifteen dollars.\n")
        // Big documents (150 chunks each): encoding one takes longer than SQLite's 5 s busy
        // timeout, which is how long a reader waited before vectors moved out of the transaction.
        let words = ["deposit", "ledger", "branch", "interest", "mortgage", "treasury", "custody", "clearing", "settlement", "remittance"]
        for d in 0..<3 {
            var text = "# Archive \(d)\n\n"
            for p in 0..<75 {
                text += "## Section \(p)\n\n" + (0..<40).map { "The \(words[(p + $0) % 10]) record \(d)-\(p)-\($0) was reviewed." }.joined(separator: " ") + "\n\n"
            }
            try put("big/archive\(d).md", text)
        }
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ingest", "small"], cwd: dir).status, 0)

        let embedder = StrataBinary.root.appendingPathComponent("models/all-MiniLM-L6-v2").path
        let writer = try StrataBinary.start(["--db", db, "ingest", "--embed", "--embedder", embedder, "big"], cwd: dir)
        // The writer has the database open once its WAL file appears.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: db + "-wal") && writer.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(writer.isRunning, "the embedding ingest finished too soon to test anything")

        let t0 = Date()
        let ask = try StrataBinary.run(["--db", db, "ask", "How long do card refunds take?", "--model", "extractive", "--no-embedder"], cwd: dir)
        XCTAssertEqual(ask.status, 0, ask.stderr)
        XCTAssertTrue(ask.stdout.contains("5 working days"), ask.stdout)
        let second = try StrataBinary.run(["--db", db, "ingest", "later"], cwd: dir)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertTrue(second.stdout.hasPrefix("ingested 1 file"), second.stdout)
        XCTAssertTrue(writer.isRunning, "the reader and the second writer must have run during the embedding ingest")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 30)

        // Ctrl-C: the writer stops after the document it is on; what it finished stays stored.
        kill(writer.process.processIdentifier, SIGINT)
        let first = writer.wait()
        XCTAssertTrue(first.status == 130 || first.status == 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("ingested "), first.stdout)
        let log = try StrataBinary.run(["--db", db, "log"], cwd: dir)
        XCTAssertTrue(log.stdout.contains("Q: How long do card refunds take?"), log.stdout)
        assertStoreHealthy(db)
    }
}
