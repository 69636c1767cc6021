import Foundation
import XCTest

/// Ingest faults: malformed JSON, unreadable folders under --prune. Each must keep what is
/// stored and say what went wrong.
final class IngestFaultTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }

    override func setUpWithError() throws { dir = try StrataBinary.temporaryFolder("strata-ingest-fault") }
    override func tearDownWithError() throws {
        _ = try? FileManager.default.subpathsOfDirectory(atPath: dir.path).forEach { chmod(dir.appendingPathComponent($0).path, 0o755) }
        chmod(dir.path, 0o755)
        try? FileManager.default.removeItem(at: dir)
    }

    func put(_ rel: String, _ text: String) throws {
        let url = dir.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A JSON array cut off inside a record, or followed by garbage, is refused like any other
    /// malformed JSON, with the file and the byte offset; a deep valid JSON says what is wrong.
    func testMalformedJSONIsRefusedWithTheByteOffset() throws {
        try put("kb/cut.json", #"[{"q": "first question", "a": "first answer"}, {"q": "second question", "a": "second ans"#)
        try put("kb/trailing.json", #"[{"q": "a question", "a": "an answer"}] trailing words"#)
        try put("kb/deep.json", String(repeating: "[", count: 2000) + #""deep text""# + String(repeating: "]", count: 2000))
        try put("kb/good.json", #"[{"q": "kept question", "a": "kept answer"}]"#)
        let r = try StrataBinary.run(["--db", db, "ingest", "kb"], cwd: dir)
        XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("ingested 1 file,"), r.stdout)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let cut = try XCTUnwrap(lines.first { $0.contains("kb/cut.json") }, r.stderr)
        XCTAssertTrue(cut.contains("byte 47"), cut)       // where the unfinished record starts
        XCTAssertTrue(cut.contains("ends"), cut)
        let trailing = try XCTUnwrap(lines.first { $0.contains("kb/trailing.json") }, r.stderr)
        XCTAssertTrue(trailing.contains("byte 40"), trailing)  // the first byte after the array
        let deep = try XCTUnwrap(lines.first { $0.contains("kb/deep.json") }, r.stderr)
        XCTAssertTrue(deep.contains("nested") && deep.contains("levels"), deep)
        XCTAssertFalse(deep.contains("invalid JSON"), deep)
        let search = try StrataBinary.run(["--db", db, "search", "first"], cwd: dir)   // nothing of the refused files is stored
        XCTAssertTrue(search.stdout.contains("no results"), search.stdout)
        assertStoreHealthy(db)
    }

    /// --prune must not take a folder it cannot read for a folder that is gone.
    func testPruneKeepsDocumentsUnderAnUnreadableFolder() throws {
        try put("kb/public.md", "# Public\n\nOpen to all readers.\n")
        try put("kb/locked/a.md", "# Locked A\n\nAlpha text in a locked folder.\n")
        try put("kb/locked/b.md", "# Locked B\n\nBeta text in a locked folder.\n")
        chmod(dir.path, 0o777)
        XCTAssertEqual(try StrataBinary.runUnprivileged(["--db", db, "ingest", "kb"], cwd: dir).status, 0)
        chmod(dir.appendingPathComponent("kb/locked").path, 0o000)
        let r = try StrataBinary.runUnprivileged(["--db", db, "ingest", "--prune", "kb"], cwd: dir)
        XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
        XCTAssertFalse(r.stdout.contains("pruned"), r.stdout)
        XCTAssertTrue(r.stderr.contains("kb/locked"), r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot be read"), r.stderr)
        chmod(dir.appendingPathComponent("kb/locked").path, 0o755)
        let search = try StrataBinary.run(["--db", db, "search", "locked folder", "--json"], cwd: dir)
        XCTAssertTrue(search.stdout.contains("kb/locked/a.md") && search.stdout.contains("kb/locked/b.md"), search.stdout)
        // A file that really is gone is still pruned.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("kb/locked/b.md"))
        let again = try StrataBinary.run(["--db", db, "ingest", "--prune", "kb"], cwd: dir)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("1 pruned"), again.stdout)
        assertStoreHealthy(db)
    }
}
