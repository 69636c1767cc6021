import Foundation
import XCTest

/// Which database file a command may use, and how: no vanishing databases, no writes to a file
/// that is not Strata's, and read-only files readable.
final class DatabaseFileTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = try StrataBinary.temporaryFolder("strata-dbfile")
        let kb = dir.appendingPathComponent("kb")
        try FileManager.default.createDirectory(at: kb, withIntermediateDirectories: true)
        try "# Refunds\n\nCard refunds take five working days.\n".write(to: kb.appendingPathComponent("refunds.md"), atomically: true, encoding: .utf8)
        try "id,name\n1,x\n".write(to: dir.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
    }
    override func tearDownWithError() throws {
        // Folders a test made read-only must be writable again to be removed.
        _ = try? FileManager.default.subpathsOfDirectory(atPath: dir.path).forEach {
            chmod(dir.appendingPathComponent($0).path, 0o755)
        }
        chmod(dir.path, 0o755)
        try? FileManager.default.removeItem(at: dir)
    }

    /// `--db ""`, `STRATA_DB=` (set, empty) and `--db :memory:` would write into a database that
    /// vanishes when the command ends: every command refuses them, naming where the path came from.
    func testPathsThatVanishAreRefused() throws {
        let writes: [[String]] = [["ingest", "kb"], ["data", "import", "t.csv"]]
        let reads: [[String]] = [["search", "refunds"], ["log"], ["data", "list"], ["check"]]
        for cmd in writes + reads {
            for db in ["", ":memory:", "file::memory:"] {
                let r = try StrataBinary.run(["--db", db] + cmd, cwd: dir)
                XCTAssertNotEqual(r.status, 0, "\(cmd) --db '\(db)': \(r.stdout)")
                XCTAssertFalse(r.stdout.contains("ingested") || r.stdout.contains("imported"), r.stdout)
                XCTAssertTrue(r.stderr.contains("--db"), "\(cmd) --db '\(db)': \(r.stderr)")
            }
            let env = try StrataBinary.run(cmd, cwd: dir, env: ["STRATA_DB": ""])
            XCTAssertNotEqual(env.status, 0, "\(cmd) STRATA_DB='': \(env.stdout)")
            XCTAssertTrue(env.stderr.contains("STRATA_DB"), "\(cmd): \(env.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["kb", "t.csv"])
    }

    /// An SQLite file that is not Strata's is never written by any command: not by a reader
    /// (which used to create the whole schema and switch it to WAL), nor by ingest/import.
    func testAnUnrelatedSQLiteFileIsNeverWritten() throws {
        let other = dir.appendingPathComponent("other.db").path
        try StrataBinary.writeUnrelatedSQLite(to: other)
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        for cmd: [String] in [["log"], ["search", "x"], ["data", "list"], ["check"], ["ingest", "kb"], ["data", "import", "t.csv"],
                              ["ask", "How long do refunds take?", "--model", "extractive", "--no-embedder"]] {
            let r = try StrataBinary.run(["--db", other] + cmd, cwd: dir)
            XCTAssertNotEqual(r.status, 0, "\(cmd): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("not a Strata database"), "\(cmd): \(r.stderr)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), before, "\(cmd) changed the file")
            XCTAssertFalse(FileManager.default.fileExists(atPath: other + "-wal"), "\(cmd)")
        }
        // A text file is not a database either.
        let text = dir.appendingPathComponent("notes.txt").path
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["--db", text, "ingest", "kb"], cwd: dir)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not a Strata database"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: text, encoding: .utf8), "hello")
        // An empty file may become one.
        let empty = dir.appendingPathComponent("empty.db").path
        FileManager.default.createFile(atPath: empty, contents: nil)
        XCTAssertEqual(try StrataBinary.run(["--db", empty, "ingest", "kb"], cwd: dir).status, 0)
        assertStoreHealthy(empty)
        // Readers never create a database.
        let none = dir.appendingPathComponent("none.db").path
        XCTAssertNotEqual(try StrataBinary.run(["--db", none, "log"], cwd: dir).status, 0)
        XCTAssertNotEqual(try StrataBinary.run(["--db", none, "check"], cwd: dir).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: none))
    }

    /// A database the user may read but not write (file and folder read-only, as for a public
    /// copy) answers every reading command; a writing command says that it needs write access.
    func testAReadOnlyDatabaseCanBeRead() throws {
        let ro = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
        let db = ro.appendingPathComponent("k.db").path
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ingest", "kb"], cwd: dir).status, 0)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import", "t.csv"], cwd: dir).status, 0)
        try "# Memo\n\nThe staff-only loan memo.\n".write(to: dir.appendingPathComponent("memo.md"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ingest", "--groups", "staff", "memo.md"], cwd: dir).status, 0)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ask", "How long do card refunds take?", "--model", "extractive", "--no-embedder"], cwd: dir).status, 0)
        chmod(dir.path, 0o755)
        chmod(db, 0o444)
        chmod(ro.path, 0o555)

        let search = try StrataBinary.runUnprivileged(["--db", db, "search", "refunds"], cwd: dir)
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertTrue(search.stdout.contains("refunds.md"), search.stdout)
        for cmd: [String] in [["log"], ["data", "list"], ["data", "show", "t"], ["check"],
                              ["ask", "How long do card refunds take?", "--model", "extractive", "--no-embedder", "--no-audit"]] {
            let r = try StrataBinary.runUnprivileged(["--db", db] + cmd, cwd: dir)
            XCTAssertEqual(r.status, 0, "\(cmd): \(r.stderr)")
        }
        // Restricted text is only ever shown with an audit row, which cannot be written here.
        let restricted = try StrataBinary.runUnprivileged(["--db", db, "search", "--as", "staff", "loan memo"], cwd: dir)
        XCTAssertEqual(restricted.status, 1, restricted.stdout)
        XCTAssertTrue(restricted.stderr.contains("needs write access") && restricted.stderr.contains("audit log"), restricted.stderr)
        XCTAssertFalse(restricted.stdout.contains("staff-only"), restricted.stdout)
        let ingest = try StrataBinary.runUnprivileged(["--db", db, "ingest", "kb"], cwd: dir)
        XCTAssertEqual(ingest.status, 1, ingest.stdout)
        XCTAssertTrue(ingest.stderr.contains("needs write access"), ingest.stderr)
        let ask = try StrataBinary.runUnprivileged(["--db", db, "ask", "How long do card refunds take?", "--model", "extractive", "--no-embedder"], cwd: dir)
        XCTAssertEqual(ask.status, 1, ask.stdout)
        XCTAssertTrue(ask.stderr.contains("needs write access") && ask.stderr.contains("--no-audit"), ask.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ro.path), ["k.db"])
    }
}
