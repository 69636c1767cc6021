import Foundation
import XCTest

/// `strata check`: Strata's own invariants, read-only, non-zero with every problem listed.
final class CheckCommandTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try StrataBinary.temporaryFolder("strata-check") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testCheckPassesOnAHealthyStoreAndRefusesOthersWithoutWriting() throws {
        let db = dir.appendingPathComponent("k.db").path
        try "# Refunds\n\nCard refunds take five working days.\n".write(to: dir.appendingPathComponent("refunds.md"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ingest", "refunds.md"], cwd: dir).status, 0)
        let ok = try StrataBinary.run(["--db", db, "check"], cwd: dir)
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("ok"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("1 document, 1 chunk"), ok.stdout)
        let help = try StrataBinary.run(["check", "--help"])
        XCTAssertTrue(help.stdout.contains("full-text index") && help.stdout.contains("orphan"), help.stdout)

        let other = dir.appendingPathComponent("other.db").path
        try StrataBinary.writeUnrelatedSQLite(to: other)
        let r = try StrataBinary.run(["--db", other, "check"], cwd: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("not a Strata database"), r.stderr)
        let none = try StrataBinary.run(["--db", dir.appendingPathComponent("none.db").path, "check"], cwd: dir)
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no knowledge database"), none.stderr)
    }
}
